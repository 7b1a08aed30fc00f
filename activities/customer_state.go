package activities

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// maxStoredErrorLen bounds the last error kept with a customer's mapping;
// the full text stays in the workflow's state and history.
const maxStoredErrorLen = 2000

// RecordCustomerState copies a customer workflow's phase and last error ("" when
// it recovered) into the customer's mapping row, so the customers list, the
// stats endpoint and the metrics show failures without asking Temporal
// (SPEC F11: three consecutive failures raise a visible error). An unmapped
// company has no row and nothing to record, which is not a failure.
func (s *Store) RecordCustomerState(ctx context.Context, companyID int64, state, lastError string) error {
	if len(lastError) > maxStoredErrorLen {
		cut := maxStoredErrorLen
		for cut > 0 && !utf8.RuneStart(lastError[cut]) {
			cut--
		}
		lastError = lastError[:cut] + "…"
	}
	err := s.DB.SetCustomerState(ctx, companyID, state, lastError)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return classify("record customer state", err)
}

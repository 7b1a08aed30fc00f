package activities

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// Error types that tell Temporal (and operators) why an activity failed.
const (
	// ErrTypeRefused: the vendor or the store rejected the request; retrying cannot help.
	ErrTypeRefused = "Refused"
	// ErrTypeThrottled: a rate limit; retried after the vendor's Retry-After.
	ErrTypeThrottled = "Throttled"
	// ErrTypeNotManageable: the tenant is in self-service mode or has support access disabled.
	ErrTypeNotManageable = "NotManageable"
	// ErrTypeAlreadyMapped: one side of a mapping is mapped elsewhere.
	ErrTypeAlreadyMapped = "AlreadyMapped"
	// ErrTypeNameTaken: a tenant of the company's name exists and is not ours; an admin must map it.
	ErrTypeNameTaken = "TenantNameTaken"
)

// classify turns a client error into a Temporal error with the right retry
// behaviour: permanent 4xx answers fail at once, throttling waits as long as
// the vendor asked, everything else retries with the activity's policy.
func classify(what string, err error) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%s: %v", what, err)
	if d, ok := throttled(err); ok {
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeThrottled, temporal.ApplicationErrorOptions{NextRetryDelay: d, Cause: err})
	}
	if refused(err) {
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeRefused, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func throttled(err error) (time.Duration, bool) {
	var ae *acronis.Error
	if errors.As(err, &ae) && ae.Kind == acronis.KindThrottled {
		return max(ae.RetryAfter, time.Second), true
	}
	var te *autotask.Error
	if errors.As(err, &te) && autotask.IsThrottled(err) {
		return max(te.RetryAfter, time.Second), true
	}
	return 0, false
}

func refused(err error) bool {
	switch {
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrConflict):
		return true
	case acronis.IsInvalid(err), acronis.IsForbidden(err), acronis.IsNotFound(err), acronis.IsConflict(err):
		return true
	case autotask.IsInvalid(err), autotask.IsNotFound(err):
		return true
	}
	return false
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/connections"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

func TestProblemFor_StatusComesFromTheErrorsTypeNotItsText(t *testing.T) {
	refusal := func(errType, msg string) error {
		return updateProblem(101, "map", temporal.NewNonRetryableApplicationError(msg, errType, nil))
	}
	cases := []struct {
		name   string
		err    error
		status int
		kind   string
	}{
		{"not manageable", refusal(activities.ErrTypeNotManageable, "tenant Proseware cannot be managed: self-service"), 422, "refused"},
		{"refused by the vendor", refusal(activities.ErrTypeRefused, "read tenant x: not found"), 422, "refused"},
		{"already mapped", refusal(activities.ErrTypeAlreadyMapped, "tenant Litware is already mapped to Autotask company 107"), 409, "refused"},
		// Texts that once decided the status no longer do: only the type counts.
		{"untyped, tenant-like text", refusal("", "tenant x not found"), 409, "refused"},
		{"validator rejection", refusal("errorString", "company 101 is already mapped to tenant t; remove that mapping first"), 409, "refused"},
		{"not wired", fmt.Errorf("Temporal client: %w", errNotWired), 503, "not-available"},
		{"not configured", fmt.Errorf("autotask: %w", connections.ErrNotConfigured), 503, "not-configured"},
		{"autotask throttled", &autotask.Error{Kind: autotask.KindThrottled}, 503, "upstream-throttled"},
		{"autotask credentials", &autotask.Error{Kind: autotask.KindUnauthorized}, 502, "upstream-credentials"},
		{"autotask other", fmt.Errorf("list companies: %w", &autotask.Error{Kind: autotask.KindServer}), 502, "upstream-failed"},
		{"acronis throttled", &acronis.Error{Kind: acronis.KindThrottled}, 503, "upstream-throttled"},
		{"acronis credentials", &acronis.Error{Kind: acronis.KindForbidden}, 502, "upstream-credentials"},
		{"acronis other", &acronis.Error{Kind: acronis.KindNotFound}, 502, "upstream-failed"},
		{"no workflow", fmt.Errorf("query: %w", serviceerror.NewNotFound("workflow not found")), 404, "workflow-not-found"},
		{"temporal down", serviceerror.NewUnavailable("connection refused"), 503, "temporal-unavailable"},
		{"deadline", fmt.Errorf("update: %w", context.DeadlineExceeded), 503, "temporal-unavailable"},
		{"store not found", fmt.Errorf("mapping: %w", store.ErrNotFound), 404, "not-found"},
		{"store conflict", store.ErrConflict, 409, "conflict"},
		{"store invalid", store.ErrInvalid, 400, "invalid-value"},
		{"anything else", errors.New("not found: conflict: throttled"), 500, "internal"},
	}
	for _, c := range cases {
		p := problemFor(c.err)
		if p.Status != c.status || p.Type != problemTypeBase+c.kind {
			t.Errorf("%s: got %d %s, want %d %s", c.name, p.Status, p.Type, c.status, problemTypeBase+c.kind)
		}
		if p.Title != http.StatusText(c.status) {
			t.Errorf("%s: title %q", c.name, p.Title)
		}
	}
	if p := problemFor(refusal(activities.ErrTypeRefused, "read tenant x: not found")); p.Detail != "read tenant x: not found" {
		t.Errorf("refusal detail = %q, want the workflow's reason", p.Detail)
	}
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AuditLog reads the audit log; *store.Store satisfies it.
type AuditLog interface {
	ListAudit(ctx context.Context, f store.AuditFilter) (store.AuditPage, error)
}

// AuditPage is one page of the audit log, newest first (SPEC F12): every
// write to Autotask or Acronis and every admin change, with who, why, and the
// documents before and after.
type AuditPage struct {
	Items []AuditEntry `json:"items"`
	// NextCursor fetches the next (older) page; absent on the last page.
	NextCursor string `json:"nextCursor,omitempty"`
}

// AuditEntry is one audited write.
type AuditEntry struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor is the API token's name for admin changes, or the part of the
	// integration that wrote (provisioning, usage-report …).
	Actor     string `json:"actor"`
	RequestID string `json:"requestId,omitempty"`
	Kind      string `json:"kind"`
	// System is autotask, acronis or admin (a change inside the integration).
	System     string  `json:"system"`
	CompanyID  *int64  `json:"companyId,omitempty"`
	TenantID   *string `json:"tenantId,omitempty"`
	ContractID *int64  `json:"contractId,omitempty"`
	TicketID   *int64  `json:"ticketId,omitempty"`
	AlertID    *string `json:"alertId,omitempty"`
	Target     string  `json:"target,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	// Before and After are the changed documents as JSON, when recorded.
	Before map[string]any `json:"before,omitempty"`
	After  map[string]any `json:"after,omitempty"`
}

// auditQueryParams documents GET /api/v1/audit.
var auditQueryParams = []queryParam{
	{"companyId", "only entries about this Autotask company"},
	{"tenantId", "only entries about this Acronis tenant"},
	{"from", "entries at or after this instant (RFC 3339, or a date YYYY-MM-DD meaning its start in UTC)"},
	{"to", "entries before this instant (RFC 3339, or a date YYYY-MM-DD meaning its start in UTC)"},
	{"kind", "kind or kind prefix by dotted segments: acronis, mapping.customer, settings.update …"},
	{"system", "autotask, acronis or admin"},
	{"cursor", "nextCursor of the previous page"},
	{"limit", "1–500, default 50"},
}

func (s *Server) listAudit(c echo.Context) error {
	q := queryParams{c: c}
	f := store.AuditFilter{}
	if v, ok := positiveIDParam(&q, "companyId"); ok {
		f.CompanyID = &v
	}
	if v := q.text("tenantId"); v != "" {
		f.TenantID = &v
	}
	f.From = timeParam(&q, "from")
	f.To = timeParam(&q, "to")
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		q.fail("to", "must be after from")
	}
	if kind := strings.TrimSpace(c.QueryParam("kind")); kind != "" {
		if len(kind) > 100 || strings.ContainsAny(kind, " %*") {
			q.fail("kind", "must be an audit kind or a dotted prefix of one, such as acronis or mapping.customer")
		}
		f.KindPrefix = kind
	}
	switch sys := c.QueryParam("system"); sys {
	case "", store.SystemAutotask, store.SystemAcronis, store.SystemAdmin:
		f.System = sys
	default:
		q.fail("system", "must be autotask, acronis or admin")
	}
	f.Limit = int(q.int("limit", 50, 1, 500))
	f.Cursor = strings.TrimSpace(c.QueryParam("cursor"))
	if err := q.err(); err != nil {
		return err
	}
	l, err := s.auditLog()
	if err != nil {
		return err
	}
	page, err := l.ListAudit(c.Request().Context(), f)
	if errors.Is(err, store.ErrInvalid) && f.Cursor != "" {
		return invalid("the cursor is not one this API gave out", settings.FieldError{Field: "cursor", Message: "is malformed; pass nextCursor of the previous page unchanged"})
	}
	if err != nil {
		return fmt.Errorf("list audit: %w", err)
	}
	out := AuditPage{Items: make([]AuditEntry, 0, len(page.Entries)), NextCursor: page.NextCursor}
	for _, e := range page.Entries {
		out.Items = append(out.Items, AuditEntry{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, RequestID: e.RequestID, Kind: e.Kind, System: e.System,
			CompanyID: e.CompanyID, TenantID: e.TenantID, ContractID: e.ContractID, TicketID: e.TicketID, AlertID: e.AlertID,
			Target: e.Target, Reason: e.Reason, Before: auditDocument(e.Before), After: auditDocument(e.After)})
	}
	return c.JSON(http.StatusOK, out)
}

// auditDocument decodes a before/after document; a document that is not an
// object is wrapped as {"value": …} so the field keeps one schema.
func auditDocument(raw json.RawMessage) map[string]any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		return m
	}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		return map[string]any{"value": v}
	}
	return nil
}

func (s *Server) auditLog() (AuditLog, error) {
	if s.deps.Audit == nil {
		return nil, fmt.Errorf("audit log: %w", errNotWired)
	}
	return s.deps.Audit, nil
}

// positiveIDParam reads an optional positive integer parameter.
func positiveIDParam(q *queryParams, name string) (int64, bool) {
	raw := strings.TrimSpace(q.c.QueryParam(name))
	if raw == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v <= 0 {
		q.fail(name, "must be a positive integer")
		return 0, false
	}
	return v, true
}

// timeParam reads an optional instant: RFC 3339, or a date meaning its start in UTC.
func timeParam(q *queryParams, name string) time.Time {
	raw := strings.TrimSpace(q.c.QueryParam(name))
	if raw == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, raw); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t
	}
	q.fail(name, "must be an RFC 3339 instant (2026-11-01T00:00:00Z) or a date (2026-11-01)")
	return time.Time{}
}

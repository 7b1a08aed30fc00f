package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// ShadowStore reads the writes shadow mode recorded; *store.Store satisfies it.
type ShadowStore interface {
	ShadowReport(ctx context.Context, cursor string, limit int) (store.ShadowReportPage, error)
}

// ShadowReport is GET /api/v1/shadow/report: per customer, the writes shadow
// mode recorded instead of sending, and the warnings of its current plan.
type ShadowReport struct {
	// Mode is the mode in effect now (live or shadow).
	Mode       string           `json:"mode"`
	Customers  []ShadowCustomer `json:"customers"`
	NextCursor string           `json:"nextCursor,omitempty"`
}

// ShadowCustomer is one customer's part of the shadow report; CompanyID 0
// holds writes no company could be named for.
type ShadowCustomer struct {
	CompanyID   int64  `json:"companyId"`
	CompanyName string `json:"companyName,omitempty"`
	// State is the customer's phase (shadow: its tenant was not created).
	State string `json:"state,omitempty"`
	// Warnings are the warnings of the customer's current plan.
	Warnings []string      `json:"warnings"`
	Writes   []ShadowWrite `json:"writes"`
	// Waiting are the customer's due steps (deprovisioning, the trial's end)
	// that shadow mode neither makes nor records: they run once live.
	Waiting []workflows.PendingAction `json:"waiting"`
}

// ShadowWrite is one write shadow mode held back.
type ShadowWrite struct {
	Vendor    string         `json:"vendor"`
	Operation string         `json:"operation"`
	Target    string         `json:"target"`
	Payload   map[string]any `json:"payload,omitempty"`
	// Warnings are the plan's warnings when the write was planned.
	Warnings   []string  `json:"warnings"`
	WorkflowID string    `json:"workflowId,omitempty"`
	Activity   string    `json:"activity,omitempty"`
	FirstAt    time.Time `json:"firstAt"`
	LastAt     time.Time `json:"lastAt"`
}

// shadowQueryParams documents GET /api/v1/shadow/report.
var shadowQueryParams = []queryParam{
	{"cursor", "nextCursor of the previous page"},
	{"limit", "customers per page, 1–100, default 20"},
}

func (s *Server) getShadowReport(c echo.Context) error {
	q := queryParams{c: c}
	limit := int(q.int("limit", 20, 1, 100))
	cursor := strings.TrimSpace(c.QueryParam("cursor"))
	if err := q.err(); err != nil {
		return err
	}
	rep, err := s.shadowReport(c.Request().Context(), cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// shadowReport builds the report the API and the console page show.
func (s *Server) shadowReport(ctx context.Context, cursor string, limit int) (ShadowReport, error) {
	if s.deps.Shadow == nil {
		return ShadowReport{}, fmt.Errorf("shadow report: %w", errNotWired)
	}
	set, err := s.settingsNow(ctx)
	if err != nil {
		return ShadowReport{}, err
	}
	page, err := s.deps.Shadow.ShadowReport(ctx, cursor, limit)
	if errors.Is(err, store.ErrInvalid) {
		return ShadowReport{}, invalid("the cursor is not one this API gave out", settings.FieldError{Field: "cursor", Message: "is malformed; pass nextCursor of the previous page unchanged"})
	}
	if err != nil {
		return ShadowReport{}, fmt.Errorf("read shadow report: %w", err)
	}
	out := ShadowReport{Mode: string(set.Mode), Customers: make([]ShadowCustomer, 0, len(page.Customers)), NextCursor: page.NextCursor}
	for _, pc := range page.Customers {
		out.Customers = append(out.Customers, s.shadowCustomer(ctx, pc, set.Shadow()))
	}
	return out, nil
}

// shadowCustomer adds the customer's current plan (its workflow's state) to
// its recorded writes; a customer whose workflow cannot be asked shows no warnings.
func (s *Server) shadowCustomer(ctx context.Context, pc shadow.Customer, shadowNow bool) ShadowCustomer {
	out := ShadowCustomer{CompanyID: pc.CompanyID, Warnings: []string{}, Writes: make([]ShadowWrite, 0, len(pc.Writes)), Waiting: []workflows.PendingAction{}}
	for _, w := range pc.Writes {
		sw := ShadowWrite{Vendor: w.Vendor, Operation: w.Operation, Target: w.Target, Payload: auditDocument(w.Payload),
			Warnings: w.Warnings, WorkflowID: w.WorkflowID, Activity: w.Activity, FirstAt: w.FirstAt, LastAt: w.LastAt}
		if sw.Warnings == nil {
			sw.Warnings = []string{}
		}
		out.Writes = append(out.Writes, sw)
	}
	if pc.CompanyID == 0 || s.deps.Customers == nil {
		return out
	}
	st, err := s.deps.Customers.Status(ctx, pc.CompanyID)
	if err != nil {
		return out
	}
	out.CompanyName, out.State = st.CompanyName, string(st.Phase)
	if st.Plan != nil && st.Plan.Desired.Warnings != nil {
		out.Warnings = st.Plan.Desired.Warnings
	}
	if shadowNow && st.Pending != nil {
		out.Waiting = st.Pending
	}
	return out
}

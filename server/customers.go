package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// CustomerWorkflows is what the customer endpoints need from Temporal;
// workflows.Customers satisfies it. Every write goes through the company's
// workflow, so the API and the automation can never act on a customer at once.
type CustomerWorkflows interface {
	Refresh(ctx context.Context, co workflows.Company) error
	Update(ctx context.Context, co workflows.Company, updateName string, arg any) (workflows.ActionResult, error)
	Status(ctx context.Context, companyID int64) (workflows.CustomerStatus, error)
	SyncNow(ctx context.Context) error
}

// MappingRequest is the body of PUT /api/v1/customers/{companyID}/mapping:
// exactly one of tenantId (an existing Acronis tenant) or new: true.
type MappingRequest struct {
	TenantID string `json:"tenantId,omitempty"`
	New      bool   `json:"new,omitempty"`
	// PlanID confirms the plan an earlier answer (409) carried; needed when that plan warns.
	PlanID string `json:"planId,omitempty"`
}

// ActionBody is the optional body of customer actions: why, for the audit log.
type ActionBody struct {
	Reason string `json:"reason,omitempty"`
}

// ActionAnswer says, in words, what the customer's workflow will do.
type ActionAnswer struct {
	Message string `json:"message"`
	// Plan is what a mapping to an existing tenant writes.
	Plan *plan.Customer `json:"plan,omitempty"`
}

// Accepted answers requests that start work in the background.
type Accepted struct {
	Message string `json:"message"`
}

// CustomerStatus is what a customer's workflow knows (SPEC F9, F12): phase,
// tenant, quotas per item, pending deprovisioning steps and the last error.
type CustomerStatus struct {
	CompanyID    int64                   `json:"companyId"`
	CompanyName  string                  `json:"companyName,omitempty"`
	State        string                  `json:"state"`
	TenantID     string                  `json:"tenantId,omitempty"`
	MappedHow    string                  `json:"mappedHow,omitempty"`
	Billing      string                  `json:"billing,omitempty"`
	Quotas       []CustomerQuota         `json:"quotas"`
	Pending      []PendingAction         `json:"pending"`
	Deprovision  *DeprovisioningProgress `json:"deprovisioning,omitempty"`
	LastError    string                  `json:"lastError,omitempty"`
	Failures     int                     `json:"failures"`
	RetryAt      *time.Time              `json:"retryAt,omitempty"`
	LastSyncedAt *time.Time              `json:"lastSyncedAt,omitempty"`
	Warnings     []string                `json:"warnings,omitempty"`
	Problems     []string                `json:"problems,omitempty"`
}

// CustomerQuota is the desired quota of one offering item; Value nil is unlimited.
type CustomerQuota struct {
	OfferingItem string `json:"offeringItem"`
	InfraID      string `json:"infraId,omitempty"`
	Group        string `json:"group"`
	Enabled      bool   `json:"enabled"`
	Value        *int64 `json:"value"`
	Source       string `json:"source"`
}

// PendingAction is a deprovisioning step and when it fires.
type PendingAction struct {
	Action string    `json:"action"`
	At     time.Time `json:"at"`
	Held   bool      `json:"held,omitempty"`
}

// DeprovisioningProgress is how far deprovisioning has gone.
type DeprovisioningProgress struct {
	Since        time.Time `json:"since"`
	Hold         bool      `json:"hold"`
	QuotasZeroed bool      `json:"quotasZeroed"`
	Disabled     bool      `json:"disabled"`
	Deleted      bool      `json:"deleted"`
}

// updateTimeout bounds how long an admin action waits for the workflow's answer.
const updateTimeout = time.Minute

func (s *Server) getCustomer(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	cw, err := s.customers()
	if err != nil {
		return err
	}
	st, err := cw.Status(c.Request().Context(), id)
	if err != nil {
		return fmt.Errorf("query customer %d: %w", id, err)
	}
	return c.JSON(http.StatusOK, customerStatusView(st))
}

func customerStatusView(st workflows.CustomerStatus) CustomerStatus {
	out := CustomerStatus{CompanyID: st.CompanyID, CompanyName: st.CompanyName, State: string(st.Phase), TenantID: st.TenantID,
		MappedHow: st.MappedHow, LastError: st.LastError, Failures: st.Failures,
		Quotas: []CustomerQuota{}, Pending: []PendingAction{}}
	if st.Plan != nil {
		out.Billing = string(st.Plan.Desired.Billing)
		out.Warnings, out.Problems = st.Plan.Desired.Warnings, st.Plan.Desired.Problems
	}
	out.Warnings = append(slices.Clip(out.Warnings), st.Held...)
	for _, q := range st.Quotas {
		out.Quotas = append(out.Quotas, CustomerQuota{OfferingItem: q.Item.Name, InfraID: q.Item.InfraID, Group: string(q.Item.Group),
			Enabled: q.Enabled, Value: q.Value, Source: q.Source})
	}
	for _, p := range st.Pending {
		out.Pending = append(out.Pending, PendingAction{Action: p.Action, At: p.At, Held: p.Held})
	}
	if d := st.Deprovision; !d.Since.IsZero() {
		out.Deprovision = &DeprovisioningProgress{Since: d.Since, Hold: d.Hold, QuotasZeroed: d.QuotasZeroed, Disabled: d.Disabled, Deleted: d.Deleted}
	}
	if !st.RetryAt.IsZero() {
		at := st.RetryAt
		out.RetryAt = &at
	}
	if !st.LastSyncedAt.IsZero() {
		at := st.LastSyncedAt
		out.LastSyncedAt = &at
	}
	return out
}

func (s *Server) putCustomerMapping(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	var in MappingRequest
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	in.TenantID = strings.TrimSpace(in.TenantID)
	if in.New == (in.TenantID != "") {
		return invalid("give exactly one of tenantId (an existing Acronis tenant) or new: true",
			settings.FieldError{Field: "tenantId", Message: "give exactly one of tenantId or new: true"},
			settings.FieldError{Field: "new", Message: "give exactly one of tenantId or new: true"})
	}
	if in.TenantID != "" && !isUUID(in.TenantID) {
		// Checked here so a malformed id never reaches the workflow, its
		// activities' inputs and errors, or the audit log.
		return invalid("the tenant id is not an Acronis tenant id", settings.FieldError{Field: "tenantId",
			Message: "must be an Acronis tenant id, a UUID such as 0fcd4a69-8a40-4de8-b711-d9c83dc000f7"})
	}
	return s.customerUpdate(c, id, workflows.UpdateMap, workflows.MapRequest{TenantID: in.TenantID, New: in.New, Actor: actorOf(c), PlanID: strings.TrimSpace(in.PlanID)})
}

// customerAction answers one of the admin actions that take an optional reason.
func (s *Server) customerAction(update string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := companyParam(c)
		if err != nil {
			return err
		}
		var in ActionBody
		if err := decodeOptional(c, &in); err != nil {
			return err
		}
		if in.Reason = strings.TrimSpace(in.Reason); utf8.RuneCountInString(in.Reason) > maxReason {
			return invalid("the reason is too long", settings.FieldError{Field: "reason", Message: fmt.Sprintf("must be at most %d characters", maxReason)})
		}
		return s.customerUpdate(c, id, update, workflows.ActionRequest{Actor: actorOf(c), Reason: in.Reason})
	}
}

// customerUpdate checks the company exists, runs the update on its workflow
// and turns a rejection or refusal into a problem carrying the reason.
func (s *Server) customerUpdate(c echo.Context, id int64, update string, arg any) error {
	ctx := c.Request().Context()
	cw, err := s.customers()
	if err != nil {
		return err
	}
	co, err := s.requireCompany(ctx, id)
	if err != nil {
		return err
	}
	// An update waits for its activities (mapping checks the tenant in
	// Acronis); past this bound the caller is told to look at the status.
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	res, err := cw.Update(ctx, workflows.Company{ID: id, Name: co.CompanyName}, update, arg)
	if err != nil {
		return updateProblem(id, update, err)
	}
	return c.JSON(http.StatusOK, ActionAnswer{Message: res.Message, Plan: res.Plan})
}

// updateProblem keeps the workflow's reason and error type for a rejection
// or refusal (errorTable decides the status); anything else is a failure.
func updateProblem(id int64, update string, err error) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return fmt.Errorf("%s customer %d: %w", update, id, err)
	}
	if app.Type() == workflows.ErrTypePlanRequired {
		// The plan warns: 409 with the plan; sending its id back goes ahead.
		p := newProblem(http.StatusConflict, "plan-required", app.Message())
		var pl plan.Customer
		if app.Details(&pl) == nil {
			p.Plan = &pl
		}
		return p
	}
	return &refusedError{errType: app.Type(), reason: app.Message()}
}

func (s *Server) deleteCustomerMapping(c echo.Context) error {
	return s.customerAction(workflows.UpdateUnmap)(c)
}

func (s *Server) syncCustomer(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cw, err := s.customers()
	if err != nil {
		return err
	}
	co, err := s.requireCompany(ctx, id)
	if err != nil {
		return err
	}
	if err := cw.Refresh(ctx, workflows.Company{ID: id, Name: co.CompanyName}); err != nil {
		return fmt.Errorf("refresh customer %d: %w", id, err)
	}
	return c.JSON(http.StatusAccepted, Accepted{Message: fmt.Sprintf("company %d will be re-read from Autotask and its quotas re-applied", id)})
}

// maxReason bounds the reason of an admin action; it is kept in the audit
// log and the workflow's history.
const maxReason = 1000

// isUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hex form,
// the form of every Acronis tenant id.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// decodeOptional decodes a body when one was sent; actions work without.
func decodeOptional(c echo.Context, v any) error {
	r := c.Request()
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	raw, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return decodeStrict(c, v)
}

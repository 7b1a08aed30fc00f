package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// CustomerWorkflows is what the customer endpoints need from Temporal;
// workflows.Customers satisfies it. Every write goes through the company's
// workflow, so the API and the automation can never act on a customer at once.
type CustomerWorkflows interface {
	Refresh(ctx context.Context, companyID int64) error
	Update(ctx context.Context, companyID int64, updateName string, arg any) (workflows.ActionResult, error)
	Status(ctx context.Context, companyID int64) (workflows.CustomerStatus, error)
	SyncNow(ctx context.Context) error
}

// CustomerList is one page of Autotask companies with their mappings (SPEC F4).
type CustomerList struct {
	Items    []CustomerListItem `json:"items"`
	Page     int                `json:"page"`
	PageSize int                `json:"pageSize"`
	// HasMore says whether a next page exists.
	HasMore bool `json:"hasMore"`
}

// CustomerListItem is an active Autotask company and, when mapped, its tenant.
type CustomerListItem struct {
	CompanyID   int64            `json:"companyId"`
	CompanyName string           `json:"companyName"`
	CompanyType string           `json:"companyType,omitempty"`
	Mapping     *CustomerMapping `json:"mapping,omitempty"`
}

// CustomerMapping is a company's tenant and the last state its workflow recorded.
type CustomerMapping struct {
	TenantID  string    `json:"tenantId"`
	How       string    `json:"how"`
	State     string    `json:"state"`
	LastError string    `json:"lastError,omitempty"`
	MappedAt  time.Time `json:"mappedAt"`
	MappedBy  string    `json:"mappedBy"`
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

// Filters of the customers list.
const (
	filterAll      = "all"
	filterMapped   = "mapped"
	filterUnmapped = "unmapped"
)

func (s *Server) listCustomers(c echo.Context) error {
	q := queryParams{c: c}
	mapped := c.QueryParam("mapped")
	if mapped == "" {
		mapped = filterAll
	}
	if mapped != filterAll && mapped != filterMapped && mapped != filterUnmapped {
		q.fail("mapped", "must be all, mapped or unmapped")
	}
	text := q.text("q")
	page := int(q.int("page", 1, 1, 100000))
	size := int(q.int("pageSize", 50, 1, autotask.MaxPageSize))
	typ := strings.TrimSpace(c.QueryParam("type"))
	ctx := c.Request().Context()
	at, err := s.autotaskClient(ctx)
	if err != nil {
		if bad := q.err(); bad != nil {
			return bad // the caller's mistakes first: they need no vendor
		}
		return err
	}
	fields, err := at.Fields(ctx, "Companies")
	if err != nil {
		return fmt.Errorf("read the company types of Autotask: %w", err)
	}
	typeCode := -1
	if typ != "" {
		if n, err := strconv.Atoi(typ); err == nil && n >= 0 {
			typeCode = n
		} else if n, err := autotask.PicklistCode(fields, "companyType", typ); err == nil {
			typeCode = n
		} else {
			q.fail("type", fmt.Sprintf("%q is not an Autotask company type (give its label, e.g. Customer, or its code)", typ))
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	st, err := s.mappings()
	if err != nil {
		return err
	}

	query := autotask.NewQuery(autotask.Eq("isActive", true))
	if typeCode >= 0 {
		query = query.Where(autotask.Eq("companyType", typeCode))
	}
	if text != "" {
		query = query.Where(autotask.Contains("companyName", text))
	}
	if mapped == filterMapped {
		all, err := st.ListCustomerMappings(ctx, store.CustomerMappingFilter{})
		if err != nil {
			return fmt.Errorf("list customer mappings: %w", err)
		}
		if len(all) == 0 {
			return c.JSON(http.StatusOK, CustomerList{Items: []CustomerListItem{}, Page: page, PageSize: size})
		}
		if len(all) <= autotask.MaxPageSize {
			ids := make([]int64, len(all))
			for i, m := range all {
				ids[i] = m.CompanyID
			}
			query = query.Where(autotask.In("id", ids...))
		}
	}
	types := picklistLabels(fields, "companyType")
	out := CustomerList{Items: []CustomerListItem{}, Page: page, PageSize: size}
	skip := (page - 1) * size
	// Autotask pages in id order; the mapping filter applies per page in
	// memory, so paging continues until this page (and one more item) is full.
	err = autotask.QueryPages(ctx, at, query.Limit(autotask.MaxPageSize), func(companies []autotask.Company) error {
		ids := make([]int64, len(companies))
		for i, co := range companies {
			ids[i] = co.ID
		}
		ms, err := st.ListCustomerMappings(ctx, store.CustomerMappingFilter{CompanyIDs: ids})
		if err != nil {
			return fmt.Errorf("list customer mappings: %w", err)
		}
		byCompany := make(map[int64]store.CustomerMapping, len(ms))
		for _, m := range ms {
			byCompany[m.CompanyID] = m
		}
		for _, co := range companies {
			m, ok := byCompany[co.ID]
			if (mapped == filterMapped && !ok) || (mapped == filterUnmapped && ok) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if len(out.Items) == size {
				out.HasMore = true
				return errStopPaging
			}
			item := CustomerListItem{CompanyID: co.ID, CompanyName: co.CompanyName, CompanyType: types[co.CompanyType]}
			if ok {
				item.Mapping = &CustomerMapping{TenantID: m.TenantID, How: m.How, State: m.State, LastError: m.LastError, MappedAt: m.MappedAt, MappedBy: m.MappedBy}
			}
			out.Items = append(out.Items, item)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopPaging) {
		return fmt.Errorf("list Autotask companies: %w", err)
	}
	return c.JSON(http.StatusOK, out)
}

// picklistLabels maps a picklist's codes to labels.
func picklistLabels(fields []autotask.FieldInfo, field string) map[int]string {
	values, _ := autotask.Picklist(fields, field)
	out := make(map[int]string, len(values))
	for _, v := range values {
		if n, err := v.Int(); err == nil {
			out[n] = v.Label
		}
	}
	return out
}

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
		return s.customerUpdate(c, id, update, workflows.ActionRequest{Actor: actorOf(c), Reason: strings.TrimSpace(in.Reason)})
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
	if _, err := s.requireCompany(ctx, id); err != nil {
		return err
	}
	// An update waits for its activities (mapping checks the tenant in
	// Acronis); past this bound the caller is told to look at the status.
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	res, err := cw.Update(ctx, id, update, arg)
	if err != nil {
		return updateProblem(id, update, err)
	}
	return c.JSON(http.StatusOK, ActionAnswer{Message: res.Message, Plan: res.Plan})
}

// updateProblem keeps the workflow's reason for a refusal: a validator
// rejection or handler refusal is 409 (the customer's state forbids it), or
// 422 when the tenant itself can never be mapped (self-service, support
// access disabled, not a customer, unknown); anything else is a failure.
func updateProblem(id int64, update string, err error) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return fmt.Errorf("%s customer %d: %w", update, id, err)
	}
	msg := app.Message()
	switch app.Type() {
	case workflows.ErrTypePlanRequired:
		// The plan warns: 409 with the plan; sending its id back goes ahead.
		p := newProblem(http.StatusConflict, "plan-required", msg)
		var pl plan.Customer
		if app.Details(&pl) == nil {
			p.Plan = &pl
		}
		return p
	case activities.ErrTypeNotManageable, activities.ErrTypeRefused:
		return newProblem(http.StatusUnprocessableEntity, "refused", msg)
	case activities.ErrTypeAlreadyMapped:
		return newProblem(http.StatusConflict, "refused", msg)
	}
	// The workflow passes activity refusals on as plain errors, so their
	// type is lost; the texts of MapExistingTenant tell them apart.
	for _, tenantFault := range []string{"cannot be managed", "only customer and sub-partner tenants", "not found"} {
		if strings.Contains(msg, tenantFault) {
			return newProblem(http.StatusUnprocessableEntity, "refused", msg)
		}
	}
	return newProblem(http.StatusConflict, "refused", msg)
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
	if _, err := s.requireCompany(ctx, id); err != nil {
		return err
	}
	if err := cw.Refresh(ctx, id); err != nil {
		return fmt.Errorf("refresh customer %d: %w", id, err)
	}
	return c.JSON(http.StatusAccepted, Accepted{Message: fmt.Sprintf("company %d will be re-read from Autotask and its quotas re-applied", id)})
}

// decodeOptional decodes a body when one was sent; actions work without.
func decodeOptional(c echo.Context, v any) error {
	r := c.Request()
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return invalid("the request body could not be read", settings.FieldError{Field: "body", Message: err.Error()})
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return decodeStrict(c, v)
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// ProblemContentType is RFC 9457's media type; every error answer uses it.
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem document. Errors lists each invalid field so a
// client can show them all at once.
type Problem struct {
	Type      string                `json:"type"`
	Title     string                `json:"title"`
	Status    int                   `json:"status"`
	Detail    string                `json:"detail,omitempty"`
	Instance  string                `json:"instance,omitempty"`
	RequestID string                `json:"requestId,omitempty"`
	Errors    []settings.FieldError `json:"errors,omitempty"`
	// Plan is the plan a refused mapping needs confirmed (extension member).
	Plan *plan.Customer `json:"plan,omitempty"`
}

// Error makes a Problem returnable from handlers.
func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// problemTypeBase prefixes problem types; they are stable identifiers, not links.
const problemTypeBase = "urn:acronis-autotask:problem:"

func newProblem(status int, kind, detail string) *Problem {
	return &Problem{Type: problemTypeBase + kind, Title: http.StatusText(status), Status: status, Detail: detail}
}

// invalid answers 400 naming the bad fields.
func invalid(detail string, fields ...settings.FieldError) *Problem {
	p := newProblem(http.StatusBadRequest, "invalid-request", detail)
	p.Errors = fields
	return p
}

// errorTable is the one place that maps domain errors to HTTP answers.
var errorTable = []struct {
	target error
	status int
	kind   string
	detail string
}{
	{store.ErrNotFound, http.StatusNotFound, "not-found", "the resource does not exist"},
	{store.ErrConflict, http.StatusConflict, "conflict", "the resource was changed by someone else or clashes with an existing one; re-read it and try again"},
	{store.ErrInvalid, http.StatusBadRequest, "invalid-value", "a value was rejected by a database rule"},
}

// columnFields names the request fields stored in the database columns whose
// rules can refuse a value. Validation checks every such rule first; this is
// the safety net that still attributes a refusal that slips through.
var columnFields = map[string]string{
	"alert_type": "alertType", "alert_mappings_pkey": "alertType", "alert_mappings_alert_type_check": "alertType",
	"autotask_service_name": "serviceName", "billed_unit": "billedUnit", "divisor": "divisor", "rounding": "rounding",
	"offering_item": "offeringItem", "infra_id": "infraId", "autotask_service_id": "serviceId",
	"tenant_id": "tenantId", "company_id": "companyID", "document": "settings", "public": "body", "reason": "reason",
}

// fieldOfColumn is the request field of a column or constraint, "body" when unknown.
func fieldOfColumn(column string) string {
	if f, ok := columnFields[column]; ok {
		return f
	}
	for col, f := range columnFields { // constraint names start with their table and column
		if strings.Contains(column, "_"+col+"_") {
			return f
		}
	}
	return "body"
}

// problemFor turns any error a handler returns into a Problem.
func problemFor(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var ve *settings.ValidationError
	if errors.As(err, &ve) {
		return invalid("the settings are invalid; nothing was saved", ve.Fields...)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok {
			msg = s
		}
		return newProblem(he.Code, "http", msg)
	}
	if p := vendorProblem(err); p != nil {
		return p
	}
	if p := temporalProblem(err); p != nil {
		return p
	}
	for _, row := range errorTable {
		if errors.Is(err, row.target) {
			p := newProblem(row.status, row.kind, row.detail)
			if row.target == store.ErrInvalid {
				p.Errors = []settings.FieldError{{Field: fieldOfColumn(store.InvalidColumn(err)), Message: "was rejected by a database rule"}}
			}
			return p
		}
	}
	return newProblem(http.StatusInternalServerError, "internal", "an internal error occurred; the request id identifies it in the logs")
}

// errorHandler writes problems and logs server-side failures with their cause.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := problemFor(err)
		p.Instance = c.Request().URL.Path
		p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		if p.Status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "error", err.Error(), "request_id", p.RequestID, "path", p.Instance)
		}
		body, _ := json.Marshal(p)
		c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
		c.Response().WriteHeader(p.Status)
		_, _ = c.Response().Write(body)
	}
}

// temporalProblem translates Temporal service errors the API can meet: a
// query to a company that has no workflow, and Temporal being unreachable.
func temporalProblem(err error) *Problem {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return newProblem(http.StatusNotFound, "workflow-not-found", "no customer workflow exists for this company yet; it starts with the first sync, mapping or action")
	}
	var un *serviceerror.Unavailable
	var dl *serviceerror.DeadlineExceeded
	if errors.As(err, &un) || errors.As(err, &dl) || errors.Is(err, context.DeadlineExceeded) {
		return newProblem(http.StatusServiceUnavailable, "temporal-unavailable", "Temporal did not answer in time; an action may still complete, so check the customer's status before trying again")
	}
	return nil
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/connections"
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
	// Drifts are the customers whose plan no longer holds, and why (extension member).
	Drifts []plan.Drift `json:"drifts,omitempty"`
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

// errorTable is the one place that maps errors to HTTP answers. Rows match
// by error type or sentinel (errors.As, errors.Is), never by message text;
// the first row that matches answers, so specific rows come first. detail
// is the answer's text; nil means the error's own.
var errorTable = []struct {
	is     func(error) bool
	status int
	kind   string
	detail func(error) string
	// fields, when set, names the request fields the error is about.
	fields func(error) []settings.FieldError
}{
	// Admin actions the customer workflow refused, by the activity error type
	// it passed on: a tenant that can never be mapped is 422, a state that
	// forbids the action (a validator's rejection included) is 409.
	{refusedAs(activities.ErrTypeNotManageable), http.StatusUnprocessableEntity, "refused", refusalText, nil},
	{refusedAs(activities.ErrTypeRefused), http.StatusUnprocessableEntity, "refused", refusalText, nil},
	{refusedAs(activities.ErrTypeAlreadyMapped), http.StatusConflict, "refused", refusalText, nil},
	{refusedAs(""), http.StatusConflict, "refused", refusalText, nil},

	{is(errNotWired), http.StatusServiceUnavailable, "not-available", nil, nil},
	{is(connections.ErrNotConfigured), http.StatusServiceUnavailable, "not-configured", nil, nil},

	// Vendor calls: 503 when the vendor asked us to slow down (retry later
	// helps), 502 otherwise; the text is the client's, which never holds credentials.
	{autotaskKind(autotask.KindThrottled), http.StatusServiceUnavailable, "upstream-throttled", upstreamText("Autotask is rate limiting the integration; try again later: "), nil},
	{autotaskKind(autotask.KindUnauthorized, autotask.KindForbidden), http.StatusBadGateway, "upstream-credentials", upstreamText("Autotask refused the integration's credentials; check the connection: "), nil},
	{autotaskKind(), http.StatusBadGateway, "upstream-failed", upstreamText("Autotask call failed: "), nil},
	{acronisKind(acronis.KindThrottled), http.StatusServiceUnavailable, "upstream-throttled", upstreamText("Acronis is rate limiting the integration; try again later: "), nil},
	{acronisKind(acronis.KindUnauthorized, acronis.KindForbidden), http.StatusBadGateway, "upstream-credentials", upstreamText("Acronis refused the integration's credentials; check the connection: "), nil},
	{acronisKind(), http.StatusBadGateway, "upstream-failed", upstreamText("Acronis call failed: "), nil},

	// Temporal: a query to a company that has no workflow, and Temporal being unreachable.
	{as[*serviceerror.NotFound], http.StatusNotFound, "workflow-not-found",
		fixed("no customer workflow exists for this company yet; it starts with the first sync, mapping or action"), nil},
	{temporalUnavailable, http.StatusServiceUnavailable, "temporal-unavailable",
		fixed("Temporal did not answer in time; an action may still complete, so check the customer's status before trying again"), nil},

	{is(store.ErrNotFound), http.StatusNotFound, "not-found", fixed("the resource does not exist"), nil},
	{is(store.ErrConflict), http.StatusConflict, "conflict", fixed("the resource was changed by someone else or clashes with an existing one; re-read it and try again"), nil},
	{is(store.ErrInvalid), http.StatusBadRequest, "invalid-value", fixed("a value was rejected by a database rule"), invalidColumn},
}

// columnFields names the request fields stored in the database columns whose
// rules can refuse a value. Validation checks every such rule first; this is
// the safety net that still attributes a refusal that slips through.
var columnFields = map[string]string{
	"alert_type": "alertType", "alert_mappings_pkey": "alertType", "alert_mappings_alert_type_check": "alertType",
	"autotask_service_name": "serviceName", "billed_unit": "billedUnit", "divisor": "divisor", "rounding": "rounding",
	"offering_item": "offeringItem", "infra_id": "infraId", "autotask_service_id": "serviceId",
	"overage_service_id": "overage.serviceId", "service_mappings_overage_own_service_check": "overage.serviceId",
	"service_mappings_overage_not_free_check": "overage.serviceId",
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

// invalidColumn names the request field of the column whose rule refused a value.
func invalidColumn(err error) []settings.FieldError {
	return []settings.FieldError{{Field: fieldOfColumn(store.InvalidColumn(err)), Message: "was rejected by a database rule"}}
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
	for _, row := range errorTable {
		if row.is(err) {
			detail := err.Error()
			if row.detail != nil {
				detail = row.detail(err)
			}
			p := newProblem(row.status, row.kind, detail)
			if row.fields != nil {
				p.Errors = row.fields(err)
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

// refusedError is an admin action the customer workflow rejected (its
// validator) or refused (its handler), with the activity error type the
// refusal carries ("" when it carries none) and the workflow's reason.
type refusedError struct {
	errType string
	reason  string
}

func (e *refusedError) Error() string { return e.reason }

// refusedAs matches a refusal of errType; "" matches every refusal.
func refusedAs(errType string) func(error) bool {
	return func(err error) bool {
		var r *refusedError
		return errors.As(err, &r) && (errType == "" || r.errType == errType)
	}
}

func refusalText(err error) string {
	var r *refusedError
	errors.As(err, &r)
	return r.reason
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func as[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

func fixed(detail string) func(error) string { return func(error) string { return detail } }

func upstreamText(prefix string) func(error) string {
	return func(err error) string { return prefix + err.Error() }
}

// autotaskKind matches a failed Autotask call of one of kinds; none matches any.
func autotaskKind(kinds ...autotask.Kind) func(error) bool {
	return func(err error) bool {
		var ae *autotask.Error
		return errors.As(err, &ae) && (len(kinds) == 0 || slices.Contains(kinds, ae.Kind))
	}
}

// acronisKind matches a failed Acronis call of one of kinds; none matches any.
func acronisKind(kinds ...acronis.Kind) func(error) bool {
	return func(err error) bool {
		var ce *acronis.Error
		return errors.As(err, &ce) && (len(kinds) == 0 || slices.Contains(kinds, ce.Kind))
	}
}

func temporalUnavailable(err error) bool {
	return as[*serviceerror.Unavailable](err) || as[*serviceerror.DeadlineExceeded](err) || errors.Is(err, context.DeadlineExceeded)
}

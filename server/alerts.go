package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AlertStore is what the alert mapping and ticket endpoints need from the
// store; *store.Store satisfies it.
type AlertStore interface {
	ListAlertMappings(ctx context.Context) ([]store.AlertMapping, error)
	ReplaceAlertMappings(ctx context.Context, maps []store.AlertMapping, actor store.Actor) ([]store.AlertMapping, error)
	QueryAlertTickets(ctx context.Context, q store.AlertTicketQuery) ([]store.AlertTicket, error)
}

// AlertWorkflows runs the alert sync; workflows.Alerts satisfies it.
type AlertWorkflows interface {
	SyncNow(ctx context.Context) error
}

// AlertType is one Acronis alert type with its ticket mapping (SPEC F10).
type AlertType struct {
	ID       string `json:"id"`
	Category string `json:"category,omitempty"`
	Severity string `json:"severity,omitempty"`
	Title    string `json:"title,omitempty"`
	// Discovered: Acronis lists the type. A type only seen in alerts has a
	// default mapping (isDefault) added by the alert sync.
	Discovered bool `json:"discovered"`
	// Mapping is nil for a type never mapped nor seen: it creates no ticket.
	Mapping *store.AlertMapping `json:"mapping"`
}

// AlertTypes is the answer of GET /api/v1/alert-types.
type AlertTypes struct {
	Types []AlertType `json:"types"`
}

// AlertMappings is every alert mapping.
type AlertMappings struct {
	Mappings []store.AlertMapping `json:"mappings"`
}

// AlertMappingInput is one mapping of PUT /api/v1/alert-mappings; the ticket
// fields are Autotask picklist values (null leaves Autotask's default).
type AlertMappingInput struct {
	AlertType    string `json:"alertType"`
	CreateTicket bool   `json:"createTicket"`
	Priority     *int64 `json:"priority"`
	Status       *int64 `json:"status"`
	QueueID      *int64 `json:"queueId"`
	IssueType    *int64 `json:"issueType"`
	SubIssueType *int64 `json:"subIssueType"`
	TicketType   *int64 `json:"ticketType"`
}

// AlertMappingsUpdate is the body of PUT /api/v1/alert-mappings: the listed
// types are replaced; types not listed keep their mapping.
type AlertMappingsUpdate struct {
	Mappings []AlertMappingInput `json:"mappings"`
}

func (s *Server) alertStore() (AlertStore, error) {
	if s.deps.Alerts == nil {
		return nil, fmt.Errorf("alert store: %w", errNotWired)
	}
	return s.deps.Alerts, nil
}

// getAlertTypes joins the types Acronis lists with the saved mappings, which
// include a default for every type seen in an alert.
func (s *Server) getAlertTypes(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.alertStore()
	if err != nil {
		return err
	}
	ac, err := s.acronisClient(ctx)
	if err != nil {
		return err
	}
	listed, err := ac.ListAlertTypes(ctx)
	if err != nil {
		return fmt.Errorf("list Acronis alert types: %w", err)
	}
	maps, err := st.ListAlertMappings(ctx)
	if err != nil {
		return err
	}
	byID := map[string]*AlertType{}
	get := func(id string) *AlertType {
		if t, ok := byID[id]; ok {
			return t
		}
		t := &AlertType{ID: id}
		byID[id] = t
		return t
	}
	for _, l := range listed {
		t := get(l.ID)
		t.Category, t.Severity, t.Discovered = l.Category, l.Severity, true
		t.Title, _ = l.Fields["title"].(string)
	}
	for i := range maps {
		get(maps[i].AlertType).Mapping = &maps[i]
	}
	out := AlertTypes{Types: make([]AlertType, 0, len(byID))}
	for _, t := range byID {
		out.Types = append(out.Types, *t)
	}
	sort.Slice(out.Types, func(i, j int) bool { return out.Types[i].ID < out.Types[j].ID })
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getAlertMappings(c echo.Context) error {
	st, err := s.alertStore()
	if err != nil {
		return err
	}
	maps, err := st.ListAlertMappings(c.Request().Context())
	if err != nil {
		return err
	}
	if maps == nil {
		maps = []store.AlertMapping{}
	}
	return c.JSON(http.StatusOK, AlertMappings{Mappings: maps})
}

// putAlertMappings validates every mapping against Autotask's ticket
// picklists and saves them only when all are valid.
func (s *Server) putAlertMappings(c echo.Context) error {
	var in AlertMappingsUpdate
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if in.Mappings == nil {
		return invalid("the body has no mappings", settings.FieldError{Field: "mappings", Message: "is required"})
	}
	ctx := c.Request().Context()
	st, err := s.alertStore()
	if err != nil {
		return err
	}
	at, err := s.autotaskClient(ctx)
	if err != nil {
		return err
	}
	fields, err := at.Fields(ctx, "Tickets")
	if err != nil {
		return err
	}
	if bad := validateAlertMappings(in.Mappings, fields); len(bad) > 0 {
		return invalid("the alert mappings are invalid; nothing was saved", bad...)
	}
	rows := make([]store.AlertMapping, len(in.Mappings))
	for i, m := range in.Mappings {
		rows[i] = store.AlertMapping{AlertType: strings.TrimSpace(m.AlertType), CreateTicket: m.CreateTicket, Priority: m.Priority,
			Status: m.Status, QueueID: m.QueueID, IssueType: m.IssueType, SubIssueType: m.SubIssueType, TicketType: m.TicketType}
	}
	if _, err := st.ReplaceAlertMappings(ctx, rows, actorFrom(c, "alert mappings changed through the API")); err != nil {
		return err
	}
	return s.getAlertMappings(c)
}

// Limits of an alert mapping document. Acronis alert types are short
// identifiers (e.g. "BackupFailed"); the bound keeps the key well inside a
// PostgreSQL index row and error messages short.
const (
	maxAlertType     = 200
	maxAlertMappings = 1000
)

// validateAlertMappings names every bad field of every mapping.
func validateAlertMappings(in []AlertMappingInput, fields []autotask.FieldInfo) []settings.FieldError {
	if len(in) > maxAlertMappings {
		return []settings.FieldError{{Field: "mappings", Message: fmt.Sprintf("must list at most %d mappings", maxAlertMappings)}}
	}
	var bad []settings.FieldError
	seen := map[string]int{}
	for i, m := range in {
		m.AlertType = strings.TrimSpace(m.AlertType)
		at := func(f string) string { return fmt.Sprintf("mappings[%d].%s", i, f) }
		switch {
		case strings.TrimSpace(m.AlertType) == "":
			bad = append(bad, settings.FieldError{Field: at("alertType"), Message: "is required"})
		case len(m.AlertType) > maxAlertType:
			bad = append(bad, settings.FieldError{Field: at("alertType"), Message: fmt.Sprintf("must be at most %d bytes", maxAlertType)})
		case strings.ContainsFunc(m.AlertType, unicode.IsControl):
			bad = append(bad, settings.FieldError{Field: at("alertType"), Message: "must not contain control characters"})
		case seen[m.AlertType] > 0:
			bad = append(bad, settings.FieldError{Field: at("alertType"), Message: fmt.Sprintf("is listed twice (also mappings[%d])", seen[m.AlertType]-1)})
		default:
			seen[m.AlertType] = i + 1
		}
		for _, p := range []struct {
			json, field string
			v           *int64
		}{
			{"priority", "priority", m.Priority}, {"status", "status", m.Status}, {"queueId", "queueID", m.QueueID},
			{"issueType", "issueType", m.IssueType}, {"subIssueType", "subIssueType", m.SubIssueType}, {"ticketType", "ticketType", m.TicketType},
		} {
			if p.v == nil {
				continue
			}
			opt, msg := picklistOption(fields, p.field, *p.v)
			if msg != "" {
				bad = append(bad, settings.FieldError{Field: at(p.json), Message: msg})
				continue
			}
			if p.field == "subIssueType" {
				switch {
				case m.IssueType == nil:
					bad = append(bad, settings.FieldError{Field: at(p.json), Message: "needs an issueType"})
				case opt.ParentValue != "" && opt.ParentValue != strconv.FormatInt(*m.IssueType, 10):
					bad = append(bad, settings.FieldError{Field: at(p.json), Message: fmt.Sprintf("%d (%s) belongs to issue type %s, not %d",
						*p.v, opt.Label, opt.ParentValue, *m.IssueType)})
				}
			}
			if p.field == "status" && *p.v == 5 {
				bad = append(bad, settings.FieldError{Field: at(p.json), Message: "a new ticket cannot be Complete"})
			}
		}
	}
	return bad
}

// picklistOption finds code among the active options of an Autotask ticket
// picklist; the message says what is wrong, listing the valid options.
func picklistOption(fields []autotask.FieldInfo, field string, code int64) (autotask.PicklistValue, string) {
	values, ok := autotask.Picklist(fields, field)
	if !ok {
		return autotask.PicklistValue{}, "Autotask has no " + field + " picklist on tickets"
	}
	var valid []string
	for _, v := range values {
		n, err := v.Int()
		if err != nil || !v.IsActive {
			continue
		}
		if int64(n) == code {
			return v, ""
		}
		valid = append(valid, fmt.Sprintf("%d %s", n, v.Label))
	}
	return autotask.PicklistValue{}, fmt.Sprintf("%d is not an active %s in Autotask (valid: %s)", code, field, strings.Join(valid, ", "))
}

// postAlertSync runs the alert sync now.
func (s *Server) postAlertSync(c echo.Context) error {
	if s.deps.AlertSync == nil {
		return fmt.Errorf("Temporal client: %w", errNotWired)
	}
	if err := s.deps.AlertSync.SyncNow(c.Request().Context()); err != nil {
		return fmt.Errorf("alert sync now: %w", err)
	}
	return c.JSON(http.StatusAccepted, Accepted{Message: "the alert sync runs now; tickets follow as alerts are read"})
}

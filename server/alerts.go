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

	"github.com/acronis-autotask/acronis-autotask/internal/picklist"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AlertStore is what the alert mapping and ticket endpoints need from the
// store; *store.Store satisfies it.
type AlertStore interface {
	ListAlertMappings(ctx context.Context) ([]store.AlertMapping, error)
	// ReplaceCheckedAlertMappings saves mappings and the ids in them that
	// could not be checked against Autotask, in one transaction.
	ReplaceCheckedAlertMappings(ctx context.Context, maps []store.AlertMapping, actor store.Actor, unverified []store.UnverifiedValue) ([]store.AlertMapping, error)
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
	// Unverified are mapping ids Autotask has not confirmed (see AlertMappings).
	Unverified []UnverifiedValue `json:"unverified"`
}

// AlertMappings is every alert mapping.
type AlertMappings struct {
	Mappings []store.AlertMapping `json:"mappings"`
	// Unverified are ticket ids saved while Autotask could not be reached (or
	// that Autotask later stopped offering); each read checks them again.
	Unverified []UnverifiedValue `json:"unverified"`
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
	if out.Unverified, err = s.unverifiedValues(ctx, store.ScopeAlertMappings); err != nil {
		return err
	}
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
	unverified, err := s.unverifiedValues(c.Request().Context(), store.ScopeAlertMappings)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AlertMappings{Mappings: maps, Unverified: unverified})
}

// putAlertMappings validates every mapping against Autotask's ticket
// picklists and saves them only when all are valid. Ids whose picklist
// cannot be read are saved as unverified and checked again on later reads.
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
	bad := validateAlertMappings(in.Mappings)
	var unverified []store.UnverifiedValue
	if len(in.Mappings) <= maxAlertMappings {
		for i, m := range in.Mappings {
			more, unchecked := s.checkAlertMapping(ctx, i, m)
			bad, unverified = append(bad, more...), append(unverified, unchecked...)
		}
	}
	if len(bad) > 0 {
		sort.SliceStable(bad, func(i, j int) bool { return bad[i].Field < bad[j].Field })
		return invalid("the alert mappings are invalid; nothing was saved", bad...)
	}
	rows := make([]store.AlertMapping, len(in.Mappings))
	for i, m := range in.Mappings {
		rows[i] = store.AlertMapping{AlertType: strings.TrimSpace(m.AlertType), CreateTicket: m.CreateTicket, Priority: m.Priority,
			Status: m.Status, QueueID: m.QueueID, IssueType: m.IssueType, SubIssueType: m.SubIssueType, TicketType: m.TicketType}
	}
	if _, err := st.ReplaceCheckedAlertMappings(ctx, rows, actorFrom(c, "alert mappings changed through the API"), unverified); err != nil {
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

// validateAlertMappings names every bad alert type and every rule between
// ticket fields that needs no picklist.
func validateAlertMappings(in []AlertMappingInput) []settings.FieldError {
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
		if m.SubIssueType != nil && m.IssueType == nil {
			bad = append(bad, settings.FieldError{Field: at("subIssueType"), Message: "needs an issueType"})
		}
		if m.Status != nil && *m.Status == ticketStatusComplete {
			bad = append(bad, settings.FieldError{Field: at("status"), Message: "a new ticket cannot be Complete"})
		}
	}
	return bad
}

// ticketStatusComplete is Autotask's Complete status, the one code the
// reference confirms is the same in every database.
const ticketStatusComplete = 5

// alertMappingRefs are the picklist ids of one mapping, by JSON field name.
func alertMappingRefs(m AlertMappingInput) []picklist.Ref {
	var out []picklist.Ref
	for _, p := range []struct {
		field string
		v     *int64
	}{
		{"priority", m.Priority}, {"status", m.Status}, {"queueId", m.QueueID},
		{"issueType", m.IssueType}, {"subIssueType", m.SubIssueType}, {"ticketType", m.TicketType},
	} {
		if p.v != nil {
			out = append(out, picklist.Ref{Field: p.field, List: picklist.AlertMappingLists[p.field], ID: strconv.FormatInt(*p.v, 10)})
		}
	}
	return out
}

// checkAlertMapping checks mapping i's ids against Autotask's picklists and
// its sub-issue type against its issue type.
func (s *Server) checkAlertMapping(ctx context.Context, i int, m AlertMappingInput) ([]settings.FieldError, []store.UnverifiedValue) {
	at := func(f string) string { return fmt.Sprintf("mappings[%d].%s", i, f) }
	bad, unverified, found := s.checkRefs(ctx, strings.TrimSpace(m.AlertType), alertMappingRefs(m))
	for j := range bad {
		bad[j].Field = at(bad[j].Field)
	}
	if sub, ok := found["subIssueType"]; ok && m.IssueType != nil && sub.ParentID != "" && sub.ParentID != strconv.FormatInt(*m.IssueType, 10) {
		bad = append(bad, settings.FieldError{Field: at("subIssueType"), Message: fmt.Sprintf("%s (%s) belongs to issue type %s, not %d",
			sub.ID, sub.Label, sub.ParentID, *m.IssueType)})
	}
	return bad, unverified
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

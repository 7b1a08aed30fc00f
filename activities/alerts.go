package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AlertsAcronis is the part of the Acronis client the alert activities use.
type AlertsAcronis interface {
	ListAlerts(ctx context.Context, q acronis.AlertQuery) (acronis.AlertPage, error)
	DismissAlert(ctx context.Context, id string) error
}

// AlertsAcronisSource returns the Acronis client for the current credentials.
type AlertsAcronisSource func(ctx context.Context) (AlertsAcronis, error)

// AlertsStore is what the alert activities read and record in the database.
type AlertsStore interface {
	CurrentSettings(ctx context.Context) (store.SettingsVersion, error)
	CustomerMappingByTenant(ctx context.Context, tenantID string) (store.CustomerMapping, error)
	EnsureAlertMapping(ctx context.Context, alertType string, def store.AlertMapping) (store.AlertMapping, bool, error)
	Cursor(ctx context.Context, name string) (store.SyncCursor, error)
	SetCursor(ctx context.Context, name string, value json.RawMessage) error
	OpenOrJoinAlertTicket(ctx context.Context, t store.AlertTicket) (store.AlertTicket, bool, error)
	MarkAlertTicketCreateAttempt(ctx context.Context, id int64) (store.AlertTicket, error)
	SetAlertTicketID(ctx context.Context, id, ticketID int64) (store.AlertTicket, error)
	RecordAlertOccurrence(ctx context.Context, id int64) (store.AlertTicket, error)
	CloseAlertTicket(ctx context.Context, id int64, at time.Time) (store.AlertTicket, error)
	ReopenAlertTicket(ctx context.Context, id int64, at time.Time) (store.AlertTicket, error)
	AlertTicket(ctx context.Context, id int64) (store.AlertTicket, error)
	LatestAlertTicket(ctx context.Context, alertID string) (store.AlertTicket, error)
	OldestOpenAlertTicket(ctx context.Context) (time.Time, error)
	OpenAlertTicketsByTicketID(ctx context.Context, ticketIDs []int64) ([]store.AlertTicket, error)
	MarkAlertTicketCompletionReported(ctx context.Context, id int64, completedAt time.Time) error
	// CompanyContracts is the JSON of the []entitlement.Contract the contract
	// sync last saw for the company, or ErrNotFound.
	CompanyContracts(ctx context.Context, companyID int64) (json.RawMessage, error)
}

// AlertNotifier delivers alert events and ticket completions to the alert
// workflows (signal-with-start); workflows.Alerts satisfies it.
type AlertNotifier interface {
	NotifyAlert(ctx context.Context, ev AlertEvent) error
	NotifyTicketCompleted(ctx context.Context, alertID string, ticketID int64) error
}

// Alerts holds the activities that turn Acronis alerts into Autotask tickets.
type Alerts struct {
	Acronis  AlertsAcronisSource
	Autotask AutotaskSource
	Store    AlertsStore
	Notifier AlertNotifier
	// Day is how long a re-open window "day" lasts (24 h; seconds in end-to-end tests).
	Day time.Duration
	// PageSize is the alert page size (default 100).
	PageSize int
	// TicketCheckInterval is the least time between two checks for tickets
	// completed in Autotask (default DefaultTicketCheckInterval); a "sync
	// now" checks at once.
	TicketCheckInterval time.Duration
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
	// Audit records every ticket write and alert dismissal; optional.
	Audit interface {
		AppendAudit(ctx context.Context, e store.AuditEntry) error
	}
}

// DefaultTicketCheckInterval spaces the completed-ticket checks: one request
// per check is 30 requests an hour, 0.3 % of Autotask's 10,000, whatever the
// number of open tickets.
const DefaultTicketCheckInterval = 2 * time.Minute

// completedOverlap is how far before the last check the next one looks:
// the worker's and Autotask's clocks and commits are not exact.
const completedOverlap = 5 * time.Minute

// AlertActs names the alert activities for workflow code.
var AlertActs *Alerts

// AlertCursorName is the sync_cursors row of the alert sync.
const AlertCursorName = "acronis.alerts"

// Autotask ticket facts (reference §4.7): New and Complete are system statuses.
const (
	TicketStatusNew      = 1
	TicketStatusComplete = 5
	// defaultNoteType and defaultNotePublish are used when the settings name none.
	defaultNoteType    = 1
	defaultNotePublish = 1
	maxTitle           = 255
	maxDescription     = 8000
)

// AlertEvent is one observed state of an Acronis alert, as delivered to its workflow.
type AlertEvent struct {
	AlertID     string    `json:"alertId"`
	TenantID    string    `json:"tenantId"`
	CompanyID   int64     `json:"companyId"`
	Type        string    `json:"type"`
	Severity    string    `json:"severity"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Resource    string    `json:"resource"`
	Cleared     bool      `json:"cleared"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// AlertTicketRef is the workflow's view of one alert_tickets row.
type AlertTicketRef struct {
	RowID       int64     `json:"rowId"`
	AlertID     string    `json:"alertId"` // the alert that owns the ticket
	Generation  int       `json:"generation"`
	ExternalID  string    `json:"externalId"`
	TicketID    int64     `json:"ticketId,omitempty"` // 0 until created
	State       string    `json:"state"`
	ClosedAt    time.Time `json:"closedAt,omitzero"`
	Occurrences int       `json:"occurrences"`
}

// Open reports whether the ticket is open.
func (r AlertTicketRef) Open() bool { return r.State == store.TicketOpen }

func refOf(t store.AlertTicket) AlertTicketRef {
	r := AlertTicketRef{RowID: t.ID, AlertID: t.AlertID, Generation: t.Generation, ExternalID: t.ExternalID,
		State: t.State, Occurrences: t.Occurrences}
	if t.TicketID != nil {
		r.TicketID = *t.TicketID
	}
	if t.ClosedAt != nil {
		r.ClosedAt = *t.ClosedAt
	}
	return r
}

// AlertTicketSettings are the ticket settings (SPEC F2) the alert workflow decides with.
type AlertTicketSettings struct {
	TicketCreation bool `json:"ticketCreation"`
	ReopenEnabled  bool `json:"reopenEnabled"`
	// ReopenWithin is the re-open window: N days of Day length.
	ReopenWithin      time.Duration `json:"reopenWithin"`
	AutoClose         bool          `json:"autoClose"`
	DismissOnComplete bool          `json:"dismissOnComplete"`
}

// AlertOpenResult is the ticket an alert got: its own new or open
// generation, or (Joined) the open ticket of its storm group.
type AlertOpenResult struct {
	Ref    AlertTicketRef `json:"ref"`
	Joined bool           `json:"joined"`
}

// AlertTicketInput names a ticket row and the alert event acted on.
type AlertTicketInput struct {
	Ref   AlertTicketRef `json:"ref"`
	Event AlertEvent     `json:"event"`
	// At is the workflow's time of a close or re-open: the re-open window is
	// measured on the workflow's clock.
	At time.Time `json:"at,omitzero"`
}

// AlertNoteInput is a note for an alert ticket.
type AlertNoteInput struct {
	TicketID int64  `json:"ticketId"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

// AlertCursor is where the alert sync stands.
type AlertCursor struct {
	UpdatedAfter time.Time `json:"updatedAfter,omitzero"`
	Loaded       bool      `json:"loaded"`
	// TicketsCheckedAt is when Autotask was last asked for completed alert
	// tickets (the worker's clock when the check began); the next check
	// asks for completions since then, less an overlap.
	TicketsCheckedAt time.Time `json:"ticketsCheckedAt,omitzero"`
	// CheckTickets asks this run to check for completed tickets even within
	// TicketCheckInterval (a "sync now"); the result's cursor has it off.
	CheckTickets bool `json:"checkTickets,omitempty"`
}

// AlertSyncResult reports one alert sync run.
type AlertSyncResult struct {
	Cursor          AlertCursor   `json:"cursor"`
	Alerts          int           `json:"alerts"`
	Notified        int           `json:"notified"`
	NewTypes        []string      `json:"newTypes,omitempty"`
	TicketsComplete int           `json:"ticketsComplete"`
	NextRunIn       time.Duration `json:"nextRunIn"`
}

func (a *Alerts) settings(ctx context.Context) (settings.Settings, error) {
	v, err := a.Store.CurrentSettings(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return settings.Defaults(), nil
	}
	if err != nil {
		return settings.Settings{}, classify("read settings", err)
	}
	return settings.Decode(v.Document)
}

func (a *Alerts) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *Alerts) ticketCheckInterval() time.Duration {
	if a.TicketCheckInterval > 0 {
		return a.TicketCheckInterval
	}
	return DefaultTicketCheckInterval
}

func (a *Alerts) day() time.Duration {
	if a.Day > 0 {
		return a.Day
	}
	return 24 * time.Hour
}

// AlertSettings reads the ticket settings in effect.
func (a *Alerts) AlertSettings(ctx context.Context) (AlertTicketSettings, error) {
	s, err := a.settings(ctx)
	if err != nil {
		return AlertTicketSettings{}, err
	}
	t := s.Tickets
	return AlertTicketSettings{
		TicketCreation: s.TicketCreationEnabled,
		ReopenEnabled:  t.Reopening.Enabled, ReopenWithin: time.Duration(t.Reopening.WithinDays) * a.day(),
		AutoClose: t.AutoClose.Enabled, DismissOnComplete: t.DismissAlertOnComplete,
	}, nil
}

// SyncAlerts reads the alerts changed since the cursor (dismissed ones
// included), adds a default mapping for unknown types, and
// hands each alert of a mapped customer whose type makes tickets to its
// workflow. It then tells the workflows of tickets completed in Autotask,
// at most once per TicketCheckInterval unless cur.CheckTickets.
func (a *Alerts) SyncAlerts(ctx context.Context, cur AlertCursor) (AlertSyncResult, error) {
	res := AlertSyncResult{}
	force := cur.CheckTickets
	cur.CheckTickets = false
	s, err := a.settings(ctx)
	if err != nil {
		return res, err
	}
	res.NextRunIn = time.Duration(max(s.SyncIntervalSeconds, 5)) * time.Second
	if !cur.Loaded {
		// A new workflow (or one reset) resumes from the cursor in Postgres.
		if c, err := a.Store.Cursor(ctx, AlertCursorName); err == nil {
			_ = json.Unmarshal(c.Value, &cur)
		} else if !errors.Is(err, store.ErrNotFound) {
			return res, classify("read the alert cursor", err)
		}
		cur.Loaded, cur.CheckTickets = true, false
	}
	var done AlertCursor
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &done) == nil && done.UpdatedAfter.After(cur.UpdatedAfter) {
		cur = done // resume after the pages an earlier attempt finished
		cur.CheckTickets = false
	}
	api, err := a.Acronis(ctx)
	if err != nil {
		return res, err
	}
	tenants := map[string]*store.CustomerMapping{}
	mappings := map[string]store.AlertMapping{}
	limit := a.PageSize
	if limit <= 0 {
		limit = 100
	}
	q := acronis.AlertQuery{UpdatedAfter: cur.UpdatedAfter, ShowDeleted: true, Order: "asc(updated_at)", Limit: limit}
	for {
		page, err := api.ListAlerts(ctx, q)
		if err != nil {
			return res, classify("list Acronis alerts", err)
		}
		next := cur
		for _, al := range page.Items {
			ev, err := a.observe(ctx, al, tenants)
			if err != nil {
				return res, err
			}
			m, ok := mappings[al.Type]
			if !ok {
				var created bool
				m, created, err = a.Store.EnsureAlertMapping(ctx, al.Type, store.AlertMapping{UpdatedBy: "alert sync"})
				if err != nil {
					return res, classify("add alert type "+al.Type, err)
				}
				mappings[al.Type] = m
				if created {
					res.NewTypes = append(res.NewTypes, al.Type)
				}
			}
			res.Alerts++
			if al.UpdatedAt.After(next.UpdatedAfter) {
				next.UpdatedAfter = al.UpdatedAt.Time
			}
			if ev.CompanyID == 0 || !m.CreateTicket || !s.TicketCreationEnabled {
				continue
			}
			if ev.Cleared {
				// A cleared alert matters only to a ticket it already has.
				if _, err := a.Store.LatestAlertTicket(ctx, al.ID); errors.Is(err, store.ErrNotFound) {
					continue
				} else if err != nil {
					return res, classify("read the ticket of alert "+al.ID, err)
				}
			}
			if err := a.Notifier.NotifyAlert(ctx, ev); err != nil {
				return res, fmt.Errorf("hand alert %s to its workflow: %w", al.ID, err)
			}
			res.Notified++
		}
		cur = next
		raw, _ := json.Marshal(cur)
		if err := a.Store.SetCursor(ctx, AlertCursorName, raw); err != nil {
			return res, classify("save the alert cursor", err)
		}
		activity.RecordHeartbeat(ctx, cur)
		if page.Paging.Cursors.After == "" || len(page.Items) == 0 {
			break
		}
		q = acronis.AlertQuery{Limit: limit, After: page.Paging.Cursors.After}
	}
	n, checked, err := a.findCompletedTickets(ctx, &cur, force)
	if err != nil {
		return res, err
	}
	if checked {
		raw, _ := json.Marshal(cur)
		if err := a.Store.SetCursor(ctx, AlertCursorName, raw); err != nil {
			return res, classify("save the alert cursor", err)
		}
	}
	res.Cursor, res.TicketsComplete = cur, n
	return res, nil
}

// findCompletedTickets tells the workflows of open alert tickets that a
// technician completed in Autotask (status Complete). It asks Autotask at most
// once per TicketCheckInterval (unless force), and only for the tickets
// completed since the last check, less an overlap, instead of for the open
// tickets by id: one request per check (per 500 completions in the window)
// whatever the number of open tickets, none when no ticket is open. A
// completion is reported once: its time is recorded on the row, and a row
// the workflow has closed no longer matches. It reports whether it checked.
func (a *Alerts) findCompletedTickets(ctx context.Context, cur *AlertCursor, force bool) (int, bool, error) {
	now := a.now()
	if !force && !cur.TicketsCheckedAt.IsZero() && now.Before(cur.TicketsCheckedAt.Add(a.ticketCheckInterval())) {
		return 0, false, nil
	}
	oldest, err := a.Store.OldestOpenAlertTicket(ctx)
	if errors.Is(err, store.ErrNotFound) {
		// No open ticket: nothing to ask. A ticket opened later is covered by the next check's window.
		cur.TicketsCheckedAt = now
		return 0, true, nil
	}
	if err != nil {
		return 0, false, classify("read the open alert tickets", err)
	}
	// No completion before the oldest open ticket was opened can concern an open ticket,
	// so a first check (or one after a long outage) looks no further back than that.
	since := cur.TicketsCheckedAt
	if oldest.After(since) {
		since = oldest
	}
	since = since.Add(-completedOverlap)
	c, err := a.Autotask(ctx)
	if err != nil {
		return 0, false, err
	}
	done, err := autotask.QueryAll[autotask.Ticket](ctx, c, completedTicketsQuery(since))
	if err != nil {
		return 0, false, classify("read completed alert tickets", err)
	}
	completed := make(map[int64]autotask.Ticket, len(done))
	ids := make([]int64, 0, len(done))
	for _, t := range done {
		completed[t.ID] = t
		ids = append(ids, t.ID)
	}
	open, err := a.Store.OpenAlertTicketsByTicketID(ctx, ids)
	if err != nil {
		return 0, false, classify("match completed tickets to alert tickets", err)
	}
	n := 0
	for _, row := range open {
		t := completed[*row.TicketID]
		at := completionTime(t)
		if row.CompletionReported != nil && row.CompletionReported.Equal(at) {
			continue // reported by an earlier check; the workflow has not closed the row yet
		}
		// Reported, then recorded: a crash in between reports it again, which the workflow ignores.
		if err := a.Notifier.NotifyTicketCompleted(ctx, row.AlertID, t.ID); err != nil {
			return n, false, fmt.Errorf("tell alert %s its ticket was completed: %w", row.AlertID, err)
		}
		if err := a.Store.MarkAlertTicketCompletionReported(ctx, row.ID, at); err != nil {
			return n, false, classify(fmt.Sprintf("record the completion of ticket %d reported", t.ID), err)
		}
		n++
	}
	cur.TicketsCheckedAt = now
	return n, true, nil
}

// completedTicketsQuery asks for the tickets with an external id (every alert
// ticket has one) completed or touched since since. Both dates are asked
// for because Autotask does not document whether completedDate is cleared on a
// re-open and set again on the next completion; a completion is an activity.
func completedTicketsQuery(since time.Time) autotask.Query {
	at := autotask.NewTime(since)
	return autotask.NewQuery(
		autotask.Eq("status", TicketStatusComplete),
		autotask.Exist("externalID"),
		autotask.Or(autotask.Gt("completedDate", at), autotask.Gt("lastActivityDate", at)),
	).Fields("id", "externalID", "status", "completedDate", "lastActivityDate")
}

// completionTime identifies one completion of a ticket: its completedDate,
// else its last activity.
func completionTime(t autotask.Ticket) time.Time {
	switch {
	case t.CompletedDate != nil:
		return t.CompletedDate.UTC()
	case t.LastActivityDate != nil:
		return t.LastActivityDate.UTC()
	}
	return time.Time{}
}

// observe turns an Acronis alert into an event, with the company mapped to its tenant.
func (a *Alerts) observe(ctx context.Context, al acronis.Alert, tenants map[string]*store.CustomerMapping) (AlertEvent, error) {
	ev := AlertEvent{AlertID: al.ID, TenantID: al.Tenant.UUID, Type: al.Type, Severity: al.Severity,
		Title: alertTitle(al), Description: alertDescription(al), Resource: alertResource(al),
		Cleared: al.Dismissed(), UpdatedAt: al.UpdatedAt.Time}
	m, ok := tenants[ev.TenantID]
	if !ok {
		cm, err := a.Store.CustomerMappingByTenant(ctx, ev.TenantID)
		switch {
		case err == nil:
			m = &cm
		case errors.Is(err, store.ErrNotFound):
		default:
			return ev, classify("read the mapping of tenant "+ev.TenantID, err)
		}
		tenants[ev.TenantID] = m
	}
	if m != nil {
		ev.CompanyID = m.CompanyID
	}
	return ev, nil
}

func detail(al acronis.Alert, key string) string {
	switch v := al.Details[key].(type) {
	case string:
		return v
	case float64, int, int64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

// alertResource is the storm-control key's resource: the resource id, else its name.
func alertResource(al acronis.Alert) string {
	if r := detail(al, "resourceId"); r != "" {
		return r
	}
	return detail(al, "resourceName")
}

func alertTitle(al acronis.Alert) string {
	t := "Acronis: " + al.Title()
	if r := detail(al, "resourceName"); r != "" {
		t += " on " + r
	}
	return truncate(t, maxTitle)
}

func alertDescription(al acronis.Alert) string {
	var b strings.Builder
	if d := detail(al, "description"); d != "" {
		b.WriteString(d + "\n\n")
	}
	fmt.Fprintf(&b, "Alert type: %s\nSeverity: %s\n", al.Type, al.Severity)
	for _, k := range []string{"resourceName", "planName", "daysPassed"} {
		if v := detail(al, k); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if em, ok := al.Details["errorMessage"].(map[string]any); ok {
		raw, _ := json.Marshal(em)
		fmt.Fprintf(&b, "errorMessage: %s\n", raw)
	}
	if f, ok := al.Details["fields"].(map[string]any); ok {
		keys := make([]string, 0, len(f))
		for k := range f {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s: %v\n", k, f[k])
		}
	}
	fmt.Fprintf(&b, "Acronis alert id: %s\nTenant: %s\n", al.ID, al.Tenant.UUID)
	return truncate(b.String(), maxDescription)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// AlertLatestTicket returns the newest ticket row of an alert, or nil: a new
// run of the alert's workflow starts from it.
func (a *Alerts) AlertLatestTicket(ctx context.Context, alertID string) (*AlertTicketRef, error) {
	t, err := a.Store.LatestAlertTicket(ctx, alertID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, classify("read the ticket of alert "+alertID, err)
	}
	r := refOf(t)
	return &r, nil
}

// AlertOpenOrJoin reserves a new ticket generation for the alert before the
// Autotask ticket exists, or joins the open ticket of its storm group.
func (a *Alerts) AlertOpenOrJoin(ctx context.Context, ev AlertEvent) (AlertOpenResult, error) {
	t, joined, err := a.Store.OpenOrJoinAlertTicket(ctx, store.AlertTicket{AlertID: ev.AlertID, CompanyID: ev.CompanyID,
		TenantID: ev.TenantID, AlertType: ev.Type, Resource: ev.Resource})
	if err != nil {
		return AlertOpenResult{}, classify("reserve a ticket for alert "+ev.AlertID, err)
	}
	return AlertOpenResult{Ref: refOf(t), Joined: joined}, nil
}

// AlertCreateTicket creates the Autotask ticket of a reserved generation and
// records it. A first attempt sends only the create (one request when the
// contract sync knows the company's contracts). The create is counted on the
// row before it is sent, so an attempt that follows a lost answer or a dead
// worker looks the ticket up by external id first and never creates another.
func (a *Alerts) AlertCreateTicket(ctx context.Context, in AlertTicketInput) (AlertTicketRef, error) {
	if in.Ref.TicketID != 0 {
		return in.Ref, nil
	}
	row, err := a.Store.AlertTicket(ctx, in.Ref.RowID)
	if err != nil {
		return in.Ref, classify("read the ticket of alert "+in.Event.AlertID, err)
	}
	if row.TicketID != nil {
		return refOf(row), nil // recorded by an earlier attempt
	}
	c, err := a.Autotask(ctx)
	if err != nil {
		return in.Ref, err
	}
	if row.CreateAttempts > 0 {
		// An earlier attempt sent a create: Autotask may have applied it.
		existing, err := c.FindTicketByExternalID(ctx, row.ExternalID)
		switch {
		case err == nil:
			return a.recordTicket(ctx, in, existing.ID)
		case !autotask.IsNotFound(err):
			return in.Ref, classify("look up the ticket of alert "+in.Event.AlertID, err)
		}
	}
	t, err := a.buildTicket(ctx, c, in)
	if err != nil {
		return in.Ref, err
	}
	// Counted before the create is sent: from here on every attempt looks the ticket up first.
	if _, err := a.Store.MarkAlertTicketCreateAttempt(ctx, row.ID); err != nil {
		return in.Ref, classify("count the ticket create of alert "+in.Event.AlertID, err)
	}
	ticketID, err := c.CreateTicket(ctx, t)
	if err != nil {
		return in.Ref, classify("create the ticket of alert "+in.Event.AlertID, err)
	}
	a.auditTicket(ctx, auditTicketCreate, systemAlertTickets, ticketID, in.Event.AlertID, "ticket created for Acronis alert "+in.Event.Type)
	return a.recordTicket(ctx, in, ticketID)
}

func (a *Alerts) recordTicket(ctx context.Context, in AlertTicketInput, ticketID int64) (AlertTicketRef, error) {
	activity.RecordHeartbeat(ctx, ticketID)
	saved, err := a.Store.SetAlertTicketID(ctx, in.Ref.RowID, ticketID)
	if err != nil {
		return in.Ref, classify("record the ticket of alert "+in.Event.AlertID, err)
	}
	return refOf(saved), nil
}

func (a *Alerts) buildTicket(ctx context.Context, c *autotask.Client, in AlertTicketInput) (autotask.Ticket, error) {
	s, err := a.settings(ctx)
	if err != nil {
		return autotask.Ticket{}, err
	}
	m, _, err := a.Store.EnsureAlertMapping(ctx, in.Event.Type, store.AlertMapping{UpdatedBy: "alert sync"})
	if err != nil {
		return autotask.Ticket{}, classify("read the mapping of alert type "+in.Event.Type, err)
	}
	t := autotask.Ticket{
		CompanyID: int(in.Event.CompanyID), Title: in.Event.Title, Description: in.Event.Description,
		ExternalID: in.Ref.ExternalID, Status: TicketStatusNew, Priority: orInt(m.Priority, 0),
		QueueID: orInt(m.QueueID, 0), IssueType: orInt(m.IssueType, 0), SubIssueType: orInt(m.SubIssueType, 0),
		TicketType: orInt(m.TicketType, 0), Source: orInt(s.Tickets.SourceID, 0),
	}
	if m.Status != nil {
		t.Status = int(*m.Status)
	}
	if t.Priority == 0 {
		t.Priority = 2 // Autotask requires a priority; Medium is the usual default
	}
	if s.BillingEnabled {
		id, err := a.companyContract(ctx, c, in.Event.CompanyID)
		if err != nil {
			return autotask.Ticket{}, err
		}
		t.ContractID = int(id)
	}
	return t, nil
}

// companyContract is the contract an alert ticket of the company is billed
// to: taken from the contracts the contract sync last saw for the company (no
// Autotask request), or asked of Autotask when the sync has not recorded the
// company yet.
func (a *Alerts) companyContract(ctx context.Context, c *autotask.Client, companyID int64) (int64, error) {
	raw, err := a.Store.CompanyContracts(ctx, companyID)
	switch {
	case err == nil:
		var cs []entitlement.Contract
		jerr := json.Unmarshal(raw, &cs)
		if jerr == nil {
			return ActiveContract(cs, a.now()), nil
		}
		activity.GetLogger(ctx).Warn("unreadable contracts of the company in the store; asking Autotask", "company", companyID, "error", jerr)
	case !errors.Is(err, store.ErrNotFound):
		return 0, classify(fmt.Sprintf("read contracts of company %d", companyID), err)
	}
	return a.activeContract(ctx, c, companyID)
}

// activeContract is the company's Recurring Service contract in force today
// (the lowest id when several are), or 0, read from Autotask.
func (a *Alerts) activeContract(ctx context.Context, c *autotask.Client, companyID int64) (int64, error) {
	cs, err := autotask.QueryAll[autotask.Contract](ctx, c, autotask.NewQuery(
		autotask.Eq("companyID", companyID), autotask.Eq("contractType", contractTypeRecurringService),
		autotask.Eq("status", contractStatusActive)))
	if err != nil {
		return 0, classify(fmt.Sprintf("read contracts of company %d", companyID), err)
	}
	contracts := make([]entitlement.Contract, len(cs))
	for i, k := range cs {
		contracts[i] = toContract(k, nil, nil)
	}
	return ActiveContract(contracts, a.now()), nil
}

func orInt(p *int64, def int) int {
	if p == nil {
		return def
	}
	return int(*p)
}

// AlertAddNote adds a note to an alert ticket with the note type and publish of the settings.
func (a *Alerts) AlertAddNote(ctx context.Context, in AlertNoteInput) error {
	s, err := a.settings(ctx)
	if err != nil {
		return err
	}
	c, err := a.Autotask(ctx)
	if err != nil {
		return err
	}
	n := autotask.TicketNote{Title: truncate(in.Title, 250), Description: truncate(in.Text, 32000),
		NoteType: orInt(s.Tickets.NoteTypeID, defaultNoteType), Publish: orInt(s.Tickets.NotePublishID, defaultNotePublish)}
	if _, err := c.CreateTicketNote(ctx, in.TicketID, n); err != nil {
		return classify(fmt.Sprintf("add a note to ticket %d", in.TicketID), err)
	}
	a.auditTicket(ctx, auditTicketNote, systemAlertTickets, in.TicketID, "", "note added: "+truncate(in.Title, 200))
	return nil
}

// AlertCountOccurrence counts one more occurrence on an open ticket.
func (a *Alerts) AlertCountOccurrence(ctx context.Context, rowID int64) (AlertTicketRef, error) {
	t, err := a.Store.RecordAlertOccurrence(ctx, rowID)
	if err != nil {
		return AlertTicketRef{}, classify("count an alert occurrence", err)
	}
	return refOf(t), nil
}

// AlertCloseTicket closes a cleared alert's ticket in Autotask with the
// auto-close status and a note, then records it closed.
func (a *Alerts) AlertCloseTicket(ctx context.Context, in AlertTicketInput) (AlertTicketRef, error) {
	s, err := a.settings(ctx)
	if err != nil {
		return in.Ref, err
	}
	c, err := a.Autotask(ctx)
	if err != nil {
		return in.Ref, err
	}
	status := orInt(s.Tickets.AutoClose.StatusID, TicketStatusComplete)
	if err := c.UpdateTicket(ctx, autotask.TicketUpdate{ID: in.Ref.TicketID, Status: &status}); err != nil {
		return in.Ref, classify(fmt.Sprintf("close ticket %d", in.Ref.TicketID), err)
	}
	a.auditTicket(ctx, auditTicketClose, systemAlertTickets, in.Ref.TicketID, in.Event.AlertID, "Acronis alert cleared: ticket closed automatically")
	if err := a.AlertAddNote(ctx, AlertNoteInput{TicketID: in.Ref.TicketID, Title: "Alert cleared in Acronis",
		Text: fmt.Sprintf("The Acronis alert %s (%s) cleared at %s; the ticket was closed automatically.",
			in.Event.AlertID, in.Event.Type, in.Event.UpdatedAt.UTC().Format(time.RFC3339))}); err != nil {
		return in.Ref, err
	}
	return a.markClosed(ctx, in.Ref.RowID, in.At)
}

// AlertTicketCompleted records that a technician completed the ticket in Autotask.
func (a *Alerts) AlertTicketCompleted(ctx context.Context, in AlertTicketInput) (AlertTicketRef, error) {
	return a.markClosed(ctx, in.Ref.RowID, in.At)
}

func (a *Alerts) markClosed(ctx context.Context, rowID int64, at time.Time) (AlertTicketRef, error) {
	t, err := a.Store.CloseAlertTicket(ctx, rowID, at)
	if errors.Is(err, store.ErrConflict) {
		t, err = a.Store.AlertTicket(ctx, rowID) // closed by an earlier attempt
	}
	if err != nil {
		return AlertTicketRef{}, classify("record the ticket closed", err)
	}
	return refOf(t), nil
}

// AlertReopenTicket re-opens a recurring alert's ticket with the mapping's
// status (New when none) and a note, then records it open.
func (a *Alerts) AlertReopenTicket(ctx context.Context, in AlertTicketInput) (AlertTicketRef, error) {
	c, err := a.Autotask(ctx)
	if err != nil {
		return in.Ref, err
	}
	m, _, err := a.Store.EnsureAlertMapping(ctx, in.Event.Type, store.AlertMapping{UpdatedBy: "alert sync"})
	if err != nil {
		return in.Ref, classify("read the mapping of alert type "+in.Event.Type, err)
	}
	status := orInt(m.Status, TicketStatusNew)
	if err := c.UpdateTicket(ctx, autotask.TicketUpdate{ID: in.Ref.TicketID, Status: &status}); err != nil {
		return in.Ref, classify(fmt.Sprintf("re-open ticket %d", in.Ref.TicketID), err)
	}
	a.auditTicket(ctx, auditTicketReopen, systemAlertTickets, in.Ref.TicketID, in.Event.AlertID, "Acronis alert recurred: ticket re-opened")
	if err := a.AlertAddNote(ctx, AlertNoteInput{TicketID: in.Ref.TicketID, Title: "Alert recurred in Acronis",
		Text: fmt.Sprintf("The Acronis alert %s (%s) occurred again at %s; the ticket was re-opened.",
			in.Event.AlertID, in.Event.Type, in.Event.UpdatedAt.UTC().Format(time.RFC3339))}); err != nil {
		return in.Ref, err
	}
	t, err := a.Store.ReopenAlertTicket(ctx, in.Ref.RowID, in.At)
	if errors.Is(err, store.ErrConflict) {
		t, err = a.Store.AlertTicket(ctx, in.Ref.RowID) // re-opened by an earlier attempt
	}
	if err != nil {
		return in.Ref, classify("record the ticket re-opened", err)
	}
	return refOf(t), nil
}

// AlertDismiss dismisses the Acronis alert (its ticket was completed);
// an alert that no longer exists needs nothing.
func (a *Alerts) AlertDismiss(ctx context.Context, alertID string) error {
	api, err := a.Acronis(ctx)
	if err != nil {
		return err
	}
	if err := api.DismissAlert(ctx, alertID); err != nil && !acronis.IsNotFound(err) {
		return classify("dismiss Acronis alert "+alertID, err)
	}
	a.auditTicket(ctx, auditAlertDismiss, store.SystemAcronis, 0, alertID, "the alert's ticket was completed in Autotask: alert dismissed")
	return nil
}

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
	"github.com/acronis-autotask/acronis-autotask/internal/alert"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

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
func (a *Alerts) observe(ctx context.Context, al acronis.Alert, tenants map[string]*store.CustomerMapping) (alert.Event, error) {
	ev := alert.Event{AlertID: al.ID, TenantID: al.Tenant.UUID, Type: al.Type, Severity: al.Severity,
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

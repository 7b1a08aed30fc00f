package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/alert"
)

// AlertState is an alert workflow's durable state: the continue-as-new input
// and the status query's answer.
type AlertState struct {
	AlertID string `json:"alertId"`
	// Loaded is set once the alert's latest ticket was read from the store;
	// every new run starts from there, so a finished run loses nothing.
	Loaded bool         `json:"loaded"`
	Last   *alert.Event `json:"last,omitempty"`
	// LastSeen is the newest alert update handled; older deliveries are ignored.
	LastSeen time.Time `json:"lastSeen,omitzero"`
	Cleared  bool      `json:"cleared"`
	// Ticket is the alert's own current ticket generation.
	Ticket *alert.TicketRef `json:"ticket,omitempty"`
	// Joined is the open ticket of another alert of the same tenant, type and
	// resource that this alert was counted on (storm control).
	Joined *alert.TicketRef `json:"joined,omitempty"`
	// WindowEndsAt is when the re-open window of a closed ticket ends; a
	// recurrence after it opens a new ticket.
	WindowEndsAt time.Time `json:"windowEndsAt,omitzero"`
	// Pending are delivered events and completions not yet handled.
	Pending   []alert.Event `json:"pending,omitempty"`
	Completed []int64       `json:"completed,omitempty"`
	RetryAt   time.Time     `json:"retryAt,omitzero"`
	Failures  int           `json:"failures"`
	LastError string        `json:"lastError,omitempty"`
	Runs      int           `json:"runs"`
}

// AlertTicketWorkflow keeps one Acronis alert's Autotask ticket in step with
// the alert (id alert-<alertID>): it creates the ticket, counts repeats,
// closes it when the alert clears, re-opens it or opens a new one when the
// alert recurs, and dismisses the alert when the ticket is completed. It ends
// when nothing is left to wait for; a later event starts a new run.
func AlertTicketWorkflow(ctx workflow.Context, state AlertState) error {
	w := &alertTicket{state: state}
	if err := w.setup(ctx); err != nil {
		return err
	}
	return w.run(ctx)
}

type alertTicket struct {
	state     AlertState
	alerts    workflow.ReceiveChannel
	completed workflow.ReceiveChannel
	timer     deadlineTimer
}

func (w *alertTicket) setup(ctx workflow.Context) error {
	w.alerts = workflow.GetSignalChannel(ctx, SignalAlert)
	w.completed = workflow.GetSignalChannel(ctx, SignalTicketCompleted)
	return workflow.SetQueryHandler(ctx, QueryAlertStatus, func() (AlertState, error) { return w.state, nil })
}

func (w *alertTicket) run(ctx workflow.Context) error {
	s := &w.state
	for {
		w.receive()
		if !w.waitingToRetry(ctx) {
			w.step(ctx)
		}
		// The window's timer fired: a recurrence from now on opens a new ticket.
		if !s.WindowEndsAt.IsZero() && !workflow.Now(ctx).Before(s.WindowEndsAt) {
			s.WindowEndsAt = time.Time{}
		}
		workflow.SetCurrentDetails(ctx, w.details())

		info := workflow.GetInfo(ctx)
		if info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > historyLimit {
			// Move what was delivered to this run into the state: it would be lost with the run.
			w.receive()
			s.Runs++
			return workflow.NewContinueAsNewError(ctx, AlertTicketWorkflow, *s)
		}
		if w.finished() {
			w.receive()
			if len(s.Pending) == 0 && len(s.Completed) == 0 {
				return nil
			}
			continue
		}

		// Wait for the next alert event, ticket completion, retry or the end of the re-open window.
		w.armTimer(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(w.alerts, func(workflow.ReceiveChannel, bool) {})
		sel.AddReceive(w.completed, func(workflow.ReceiveChannel, bool) {})
		w.timer.addTo(sel)
		sel.Select(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// receive moves every delivered signal into the state without blocking.
func (w *alertTicket) receive() {
	s := &w.state
	for {
		var ev alert.Event
		if !w.alerts.ReceiveAsync(&ev) {
			break
		}
		s.Pending = append(s.Pending, ev)
	}
	for {
		var c TicketCompleted
		if !w.completed.ReceiveAsync(&c) {
			break
		}
		s.Completed = append(s.Completed, c.TicketID)
	}
}

// finished: nothing is pending and nothing can happen without a new event.
func (w *alertTicket) finished() bool {
	s := &w.state
	if !s.Loaded || len(s.Pending) > 0 || len(s.Completed) > 0 || !s.RetryAt.IsZero() {
		return false
	}
	if s.Ticket == nil {
		return true // never ticketed, or counted on another alert's ticket
	}
	return !s.Ticket.Open() && s.WindowEndsAt.IsZero()
}

func (w *alertTicket) waitingToRetry(ctx workflow.Context) bool {
	return !w.state.RetryAt.IsZero() && workflow.Now(ctx).Before(w.state.RetryAt)
}

// armTimer keeps one timer for the earliest due time; it is re-armed only when that time changes.
func (w *alertTicket) armTimer(ctx workflow.Context) {
	s := &w.state
	due := s.RetryAt
	if !s.WindowEndsAt.IsZero() && (due.IsZero() || s.WindowEndsAt.Before(due)) {
		due = s.WindowEndsAt
	}
	summary := "Wait until the re-open window ends at " + due.UTC().Format(time.RFC3339)
	if due.Equal(s.RetryAt) {
		summary = "Wait to retry the failed step at " + due.UTC().Format(time.RFC3339)
	}
	w.timer.set(ctx, due, time.Millisecond, summary)
}

// step handles what is pending, oldest first, stopping at the first failure.
func (w *alertTicket) step(ctx workflow.Context) {
	s := &w.state
	s.RetryAt = time.Time{}
	if !s.Loaded {
		var ref *alert.TicketRef
		if err := w.exec(ctx, PoolLocal, "Read the ticket of alert "+s.AlertID, activities.AlertActs.AlertLatestTicket, s.AlertID).Get(ctx, &ref); err != nil {
			w.fail(ctx, "read the alert's ticket", err)
			return
		}
		s.Ticket, s.Loaded = ref, true
		if ref != nil && !ref.Open() {
			s.LastSeen = ref.ClosedAt // alert updates from before the close are not recurrences
		}
	}
	for len(s.Completed) > 0 {
		if !w.ticketCompleted(ctx, s.Completed[0]) {
			return
		}
		s.Completed = s.Completed[1:]
	}
	for len(s.Pending) > 0 {
		if !w.handle(ctx, s.Pending[0]) {
			return
		}
		s.Pending = s.Pending[1:]
	}
	s.Failures, s.LastError = 0, ""
}

func (w *alertTicket) settings(ctx workflow.Context) (activities.AlertTicketSettings, bool) {
	var st activities.AlertTicketSettings
	if err := w.exec(ctx, PoolLocal, "Read the ticket settings", activities.AlertActs.AlertSettings).Get(ctx, &st); err != nil {
		w.fail(ctx, "read ticket settings", err)
		return st, false
	}
	return st, true
}

// handle applies one alert event; false means it failed and stays pending.
func (w *alertTicket) handle(ctx workflow.Context, ev alert.Event) bool {
	s := &w.state
	if !s.LastSeen.IsZero() && !ev.UpdatedAt.After(s.LastSeen) {
		return true // delivered twice or out of order
	}
	st, ok := w.settings(ctx)
	if !ok {
		return false
	}
	now := workflow.Now(ctx)
	if ev.Cleared {
		if workflow.GetVersion(ctx, versionClearJoined, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			// Released behaviour: the owner's clear closes its ticket, even while a joined alert is active.
			if t := s.Ticket; t != nil && t.Open() && t.TicketID != 0 && st.AutoClose {
				in := activities.AlertTicketInput{Ref: *t, Event: ev, At: now}
				if !w.call(ctx, PoolAutotask, "close the ticket", activities.AlertActs.AlertCloseTicket, in, &s.Ticket) {
					return false
				}
				w.openWindow(st, now)
			}
		} else if !w.clear(ctx, st, ev, now) {
			return false
		}
		s.Cleared, s.LastSeen, s.Last = true, ev.UpdatedAt, &ev
		return true
	}

	t := s.Ticket
	switch {
	case t == nil || (!t.Open() && st.ReopenEnabled && !now.Before(t.ClosedAt.Add(st.ReopenWithin))):
		// First occurrence, or a recurrence after the re-open window: a new ticket.
		if !st.TicketCreation {
			break
		}
		if !w.open(ctx, ev) {
			return false
		}
	case t.Open() && t.TicketID == 0:
		// The ticket was reserved but not created yet (an earlier attempt failed).
		if !w.create(ctx, ev) {
			return false
		}
	case t.Open():
		// The alert fired again while its ticket is open: a note and a count, not a new ticket.
		if !w.repeat(ctx, ev, *t, &s.Ticket) {
			return false
		}
	default:
		// Closed within the window, or re-opening without a window: the same ticket again.
		in := activities.AlertTicketInput{Ref: *t, Event: ev, At: now}
		if !w.call(ctx, PoolAutotask, "re-open the ticket", activities.AlertActs.AlertReopenTicket, in, &s.Ticket) {
			return false
		}
		s.WindowEndsAt = time.Time{}
	}
	s.Cleared, s.LastSeen, s.Last = false, ev.UpdatedAt, &ev
	return true
}

// clear takes the cleared alert off the active alerts of the tickets it is
// counted on, and with auto-close on closes those left with none: a ticket
// stays open while another alert counted on it is active. When the last alert
// to clear joined another alert's ticket, it closes that ticket and tells the
// owner's workflow as a completion, so the owner's state (re-open window,
// recurrences) follows the store.
func (w *alertTicket) clear(ctx workflow.Context, st activities.AlertTicketSettings, ev alert.Event, now time.Time) bool {
	s := &w.state
	var idle []alert.TicketRef
	if err := w.exec(ctx, PoolLocal, "Record alert "+ev.AlertID+" cleared", activities.AlertActs.AlertCleared, ev).Get(ctx, &idle); err != nil {
		w.fail(ctx, "record the alert cleared", err)
		return false
	}
	if !st.AutoClose {
		return true
	}
	for _, t := range idle {
		if t.TicketID == 0 {
			continue // not created yet: nothing to close in Autotask
		}
		in := activities.AlertTicketInput{Ref: t, Event: ev, At: now}
		if s.Ticket != nil && s.Ticket.RowID == t.RowID {
			if !w.call(ctx, PoolAutotask, "close the ticket", activities.AlertActs.AlertCloseTicket, in, &s.Ticket) {
				return false
			}
			w.openWindow(st, now)
			continue
		}
		var closed *alert.TicketRef
		if !w.call(ctx, PoolAutotask, "close the ticket it joined", activities.AlertActs.AlertCloseTicket, in, &closed) {
			return false
		}
		s.Joined = closed
		// The owner's workflow records its ticket closed; when it is not running it reads that from the store when it next starts.
		if err := workflow.SignalExternalWorkflow(ctx, AlertWorkflowID(t.AlertID), "", SignalTicketCompleted,
			TicketCompleted{TicketID: t.TicketID}).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("telling the ticket owner's workflow failed", "owner", t.AlertID, "error", errorText(err))
		}
	}
	return true
}

// open reserves a new generation (or joins the storm group's open ticket) and creates the ticket.
func (w *alertTicket) open(ctx workflow.Context, ev alert.Event) bool {
	s := &w.state
	var res activities.AlertOpenResult
	if err := w.exec(ctx, PoolLocal, "Reserve a ticket for alert "+ev.AlertID+": "+ev.Title, activities.AlertActs.AlertOpenOrJoin, ev).Get(ctx, &res); err != nil {
		w.fail(ctx, "reserve a ticket", err)
		return false
	}
	if res.Joined {
		// Another alert of the same tenant, type and resource has the open ticket; the store counted this one on it.
		s.Joined = &res.Ref
		if res.Ref.TicketID != 0 {
			note := activities.AlertNoteInput{TicketID: res.Ref.TicketID, Title: "Related alert in Acronis",
				Text: fmt.Sprintf("Acronis alert %s (%s) occurred for the same resource: %s. Occurrences: %d.",
					ev.AlertID, ev.Type, ev.Title, res.Ref.Occurrences)}
			if err := w.exec(ctx, PoolAutotask, fmt.Sprintf("Note related alert %s on ticket %d", ev.AlertID, res.Ref.TicketID), activities.AlertActs.AlertAddNote, note).Get(ctx, nil); err != nil {
				workflow.GetLogger(ctx).Warn("note on the storm group's ticket failed", "error", errorText(err))
			}
		}
		return true
	}
	s.Ticket, s.Joined, s.WindowEndsAt = &res.Ref, nil, time.Time{}
	if res.Ref.TicketID != 0 {
		return true
	}
	return w.create(ctx, ev)
}

// create makes the Autotask ticket of the reserved generation; the activity
// counts each create on the row before sending it and looks the ticket up by
// external id on any later attempt, so retries never duplicate it.
func (w *alertTicket) create(ctx workflow.Context, ev alert.Event) bool {
	in := activities.AlertTicketInput{Ref: *w.state.Ticket, Event: ev}
	return w.call(ctx, PoolAutotask, "create the Autotask ticket", activities.AlertActs.AlertCreateTicket, in, &w.state.Ticket)
}

// repeat notes a repeat of the alert on its open ticket and counts it.
func (w *alertTicket) repeat(ctx workflow.Context, ev alert.Event, t alert.TicketRef, dst **alert.TicketRef) bool {
	note := activities.AlertNoteInput{TicketID: t.TicketID, Title: "Alert occurred again in Acronis",
		Text: fmt.Sprintf("Acronis alert %s (%s) occurred again at %s: %s. Occurrences: %d.",
			ev.AlertID, ev.Type, ev.UpdatedAt.UTC().Format(time.RFC3339), ev.Title, t.Occurrences+1)}
	if err := w.exec(ctx, PoolAutotask, fmt.Sprintf("Note the repeat of alert %s on ticket %d", ev.AlertID, t.TicketID), activities.AlertActs.AlertAddNote, note).Get(ctx, nil); err != nil {
		w.fail(ctx, "note the repeat", err)
		return false
	}
	return w.call(ctx, PoolLocal, "count the repeat", activities.AlertActs.AlertCountOccurrence, t.RowID, dst)
}

// ticketCompleted handles a ticket a technician completed in Autotask.
func (w *alertTicket) ticketCompleted(ctx workflow.Context, ticketID int64) bool {
	s := &w.state
	t := s.Ticket
	if t == nil || !t.Open() || t.TicketID != ticketID {
		return true // not this alert's open ticket (any more)
	}
	st, ok := w.settings(ctx)
	if !ok {
		return false
	}
	now := workflow.Now(ctx)
	in := activities.AlertTicketInput{Ref: *t, At: now}
	if !w.call(ctx, PoolLocal, "record the ticket completed", activities.AlertActs.AlertTicketCompleted, in, &s.Ticket) {
		return false
	}
	w.openWindow(st, now)
	if st.DismissOnComplete && !s.Cleared {
		if err := w.exec(ctx, PoolAcronis, "Dismiss Acronis alert "+s.AlertID+" (its ticket was completed)", activities.AlertActs.AlertDismiss, s.AlertID).Get(ctx, nil); err != nil {
			// The ticket is recorded closed; the dismissal is retried as a completion of the same ticket.
			s.Ticket.State = "open"
			w.fail(ctx, "dismiss the Acronis alert", err)
			return false
		}
		s.Cleared = true
	}
	return true
}

// openWindow starts the re-open window of a ticket closed at now.
func (w *alertTicket) openWindow(st activities.AlertTicketSettings, now time.Time) {
	w.state.WindowEndsAt = time.Time{}
	if st.ReopenEnabled && st.ReopenWithin > 0 {
		w.state.WindowEndsAt = now.Add(st.ReopenWithin)
	}
}

// call runs an activity that returns a ticket ref and stores it in dst;
// what names the step in the summary and in the error a failure records.
func (w *alertTicket) call(ctx workflow.Context, pool Pool, what string, activity any, in any, dst **alert.TicketRef) bool {
	var ref alert.TicketRef
	if err := w.exec(ctx, pool, w.story(what), activity, in).Get(ctx, &ref); err != nil {
		w.fail(ctx, what, err)
		return false
	}
	*dst = &ref
	return true
}

// story is a step's summary for the Temporal UI: the step, the alert and its ticket.
func (w *alertTicket) story(what string) string {
	s := &w.state
	text := strings.ToUpper(what[:1]) + what[1:] + " of alert " + s.AlertID
	if s.Ticket != nil && s.Ticket.TicketID != 0 {
		text += fmt.Sprintf(" (ticket %d)", s.Ticket.TicketID)
	}
	return text
}

// alertStep is the policy every alert activity shares; failures past it are
// retried by the workflow itself with a longer backoff (fail).
var alertStep = activityOptions{
	StartToClose: 2 * time.Minute,
	Heartbeat:    20 * time.Second,
	Retry: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5,
	},
}

// exec runs one activity on pool with the alert policy.
func (w *alertTicket) exec(ctx workflow.Context, pool Pool, summary string, activity any, args ...any) workflow.Future {
	return executeActivity(ctx, alertStep.on(pool, summary), activity, args...)
}

// fail records a failed step; the workflow retries it later with backoff.
func (w *alertTicket) fail(ctx workflow.Context, what string, err error) {
	s := &w.state
	s.Failures++
	s.LastError = what + ": " + errorText(err)
	s.RetryAt = workflow.Now(ctx).Add(stepBackoff(s.Failures))
	workflow.GetLogger(ctx).Warn("alert step failed", "alert", s.AlertID, "step", what, "failures", s.Failures, "error", s.LastError)
}

func (w *alertTicket) details() string {
	s := &w.state
	switch {
	case s.LastError != "":
		return "Failed: " + s.LastError
	case s.Ticket == nil && s.Joined != nil:
		return fmt.Sprintf("Counted on ticket %d of alert %s (same resource).", s.Joined.TicketID, s.Joined.AlertID)
	case s.Ticket == nil:
		return "No ticket."
	}
	d := fmt.Sprintf("Ticket %d (%s, generation %d) is %s; %d occurrences.", s.Ticket.TicketID, s.Ticket.ExternalID,
		s.Ticket.Generation, s.Ticket.State, s.Ticket.Occurrences)
	if !s.WindowEndsAt.IsZero() {
		d += " Re-open window ends " + s.WindowEndsAt.UTC().Format(time.RFC3339) + "."
	}
	return d
}

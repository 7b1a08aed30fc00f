package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/alert"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

const (
	alertA   = "A1E7B0C2-0001-4000-8000-0000000000AA"
	alertB   = "A1E7B0C2-0001-4000-8000-0000000000BB"
	tenantLW = "tenant-litware"
)

var alertBase = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fakeTicket struct {
	externalID string
	status     int
	notes      []string
}

type fakeRow struct {
	alert.TicketRef
	tenant, typ, resource string
	active                []string // the alerts counted on the ticket that have not cleared
}

// activate counts alertID as active on the row once.
func (r *fakeRow) activate(alertID string) {
	r.active = append(slices.DeleteFunc(r.active, func(a string) bool { return a == alertID }), alertID)
}

// ticketWorld is the fake store, Autotask and Acronis behind the alert
// activities; it outlives workflow runs as the real ones do.
type ticketWorld struct {
	mu         sync.Mutex
	settings   activities.AlertTicketSettings
	rows       []*fakeRow
	tickets    map[int64]*fakeTicket
	nextTicket int64
	creates    int // CreateTicket calls that reached "Autotask"
	loseCreate int // create the ticket but lose the answer this many times
	dismissed  []string
	signalled  []string // "<workflow id> <signal> <ticket id>" sent to other alerts' workflows
	// versions, when set, records the change ids the runs ask GetVersion for.
	versions map[string]bool
}

func newTicketWorld() *ticketWorld {
	return &ticketWorld{tickets: map[int64]*fakeTicket{}, nextTicket: 9000,
		settings: activities.AlertTicketSettings{TicketCreation: true, AutoClose: true}}
}

func (w *ticketWorld) row(id int64) *fakeRow {
	for _, r := range w.rows {
		if r.RowID == id {
			return r
		}
	}
	panic(fmt.Sprintf("no row %d", id))
}

func (w *ticketWorld) note(ticketID int64, title string) {
	w.tickets[ticketID].notes = append(w.tickets[ticketID].notes, title)
}

func (w *ticketWorld) register(env *testsuite.TestWorkflowEnvironment) {
	acts := activities.AlertActs
	if w.versions != nil {
		env.OnGetVersion(mock.Anything, workflow.DefaultVersion, workflow.Version(1)).Return(
			func(id string, _, _ workflow.Version) workflow.Version {
				w.mu.Lock()
				defer w.mu.Unlock()
				w.versions[id] = true
				return 1
			})
	}
	env.OnActivity(acts.AlertSettings, mock.Anything).Return(func(context.Context) (activities.AlertTicketSettings, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.settings, nil
	}).Maybe()
	env.OnActivity(acts.AlertLatestTicket, mock.Anything, mock.Anything).Return(func(_ context.Context, id string) (*alert.TicketRef, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		var latest *alert.TicketRef
		for _, r := range w.rows {
			if r.AlertID == id {
				ref := r.TicketRef
				latest = &ref
			}
		}
		return latest, nil
	}).Maybe()
	env.OnActivity(acts.AlertOpenOrJoin, mock.Anything, mock.Anything).Return(func(_ context.Context, ev alert.Event) (activities.AlertOpenResult, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		gen := 0
		for _, r := range w.rows {
			if r.AlertID == ev.AlertID {
				if r.Open() {
					return activities.AlertOpenResult{Ref: r.TicketRef}, nil
				}
				gen = max(gen, r.Generation)
			}
		}
		for _, r := range w.rows {
			if r.Open() && r.tenant == ev.TenantID && r.typ == ev.Type && r.resource == ev.Resource {
				r.Occurrences++
				r.activate(ev.AlertID)
				return activities.AlertOpenResult{Ref: r.TicketRef, Joined: true}, nil
			}
		}
		r := &fakeRow{TicketRef: alert.TicketRef{RowID: int64(len(w.rows) + 1), AlertID: ev.AlertID, Generation: gen + 1,
			ExternalID: store.AlertExternalID(ev.AlertID, gen+1), State: store.TicketOpen, Occurrences: 1},
			tenant: ev.TenantID, typ: ev.Type, resource: ev.Resource, active: []string{ev.AlertID}}
		w.rows = append(w.rows, r)
		return activities.AlertOpenResult{Ref: r.TicketRef}, nil
	}).Maybe()
	env.OnActivity(acts.AlertCreateTicket, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AlertTicketInput) (alert.TicketRef, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		var id int64
		for tid, t := range w.tickets { // look up by external id before creating
			if t.externalID == in.Ref.ExternalID {
				id = tid
			}
		}
		if id == 0 {
			w.nextTicket++
			w.creates++
			id = w.nextTicket
			w.tickets[id] = &fakeTicket{externalID: in.Ref.ExternalID, status: activities.TicketStatusNew}
			if w.loseCreate > 0 {
				w.loseCreate--
				return alert.TicketRef{}, errors.New("connection reset while reading the create answer")
			}
		}
		r := w.row(in.Ref.RowID)
		r.TicketID = id
		return r.TicketRef, nil
	}).Maybe()
	env.OnActivity(acts.AlertAddNote, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AlertNoteInput) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.note(in.TicketID, in.Title)
		return nil
	}).Maybe()
	env.OnActivity(acts.AlertCountOccurrence, mock.Anything, mock.Anything).Return(func(_ context.Context, id int64) (alert.TicketRef, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		r := w.row(id)
		r.Occurrences++
		r.activate(r.AlertID)
		return r.TicketRef, nil
	}).Maybe()
	env.OnActivity(acts.AlertCloseTicket, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AlertTicketInput) (alert.TicketRef, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.tickets[in.Ref.TicketID].status = activities.TicketStatusComplete
		w.note(in.Ref.TicketID, "Alert cleared in Acronis")
		r := w.row(in.Ref.RowID)
		r.State, r.ClosedAt = store.TicketClosed, in.At
		return r.TicketRef, nil
	}).Maybe()
	env.OnActivity(acts.AlertTicketCompleted, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AlertTicketInput) (alert.TicketRef, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		r := w.row(in.Ref.RowID)
		r.State, r.ClosedAt = store.TicketClosed, in.At
		return r.TicketRef, nil
	}).Maybe()
	env.OnActivity(acts.AlertReopenTicket, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AlertTicketInput) (alert.TicketRef, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.tickets[in.Ref.TicketID].status = activities.TicketStatusNew
		w.note(in.Ref.TicketID, "Alert recurred in Acronis")
		r := w.row(in.Ref.RowID)
		r.State = store.TicketOpen
		r.Occurrences++
		r.activate(r.AlertID)
		return r.TicketRef, nil
	}).Maybe()
	env.OnActivity(acts.AlertCleared, mock.Anything, mock.Anything).Return(func(_ context.Context, ev alert.Event) ([]alert.TicketRef, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		var idle []alert.TicketRef
		for _, r := range w.rows {
			r.active = slices.DeleteFunc(r.active, func(a string) bool { return a == ev.AlertID })
			group := ev.Resource != "" && r.tenant == ev.TenantID && r.typ == ev.Type && r.resource == ev.Resource
			if r.Open() && len(r.active) == 0 && (r.AlertID == ev.AlertID || group) {
				idle = append(idle, r.TicketRef)
			}
		}
		return idle, nil
	}).Maybe()
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_, workflowID, _, signal string, arg any) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.signalled = append(w.signalled, fmt.Sprint(workflowID, " ", signal, " ", arg.(TicketCompleted).TicketID))
			return nil
		}).Maybe()
	env.OnActivity(acts.AlertDismiss, mock.Anything, mock.Anything).Return(func(_ context.Context, id string) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.dismissed = append(w.dismissed, id)
		return nil
	}).Maybe()
}

// step is one thing that happens to the alert at an offset from the run's start.
type step struct {
	at  time.Duration
	sig string
	arg any
}

func raised(id string, at time.Time) alert.Event {
	return alert.Event{AlertID: id, TenantID: tenantLW, CompanyID: 107, Type: "BackupFailed", Severity: "error",
		Title: "Acronis: Backup failed on LIT-SRV01", Resource: "res-1", UpdatedAt: at}
}

func cleared(id string, at time.Time) alert.Event {
	ev := raised(id, at)
	ev.Cleared = true
	return ev
}

// runAlert runs one workflow run of alertID starting at start, delivering
// steps; cancelAt > 0 cancels a run that would otherwise wait forever. It
// returns when the run ended and the workflow time it ended at.
func runAlert(t *testing.T, w *ticketWorld, alertID string, start time.Time, cancelAt time.Duration, steps ...step) (time.Time, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	checkPools(t, env)
	env.SetStartTime(start)
	w.register(env)
	// The first step arrives with the start, as signal-with-start delivers it.
	state := AlertState{AlertID: alertID}
	for i, s := range steps {
		if i == 0 {
			if c, ok := s.arg.(TicketCompleted); ok {
				state.Completed = append(state.Completed, c.TicketID)
			} else {
				state.Pending = append(state.Pending, s.arg.(alert.Event))
			}
			continue
		}
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(s.sig, s.arg) }, s.at)
	}
	if cancelAt > 0 {
		env.RegisterDelayedCallback(env.CancelWorkflow, cancelAt)
	}
	env.ExecuteWorkflow(AlertTicketWorkflow, state)
	if !env.IsWorkflowCompleted() {
		t.Fatal("the alert workflow did not complete")
	}
	return env.Now(), env.GetWorkflowError()
}

func (w *ticketWorld) ticketsOf(alertID string) []int64 {
	var ids []int64
	for _, r := range w.rows {
		if r.AlertID == alertID && r.TicketID != 0 {
			ids = append(ids, r.TicketID)
		}
	}
	return ids
}

func TestAlertTicket_CreatesOneTicketAndCountsRepeatsAsNotes(t *testing.T) {
	w := newTicketWorld()
	_, _ = runAlert(t, w, alertA, alertBase, time.Hour,
		step{0, SignalAlert, raised(alertA, alertBase)},
		step{2 * time.Minute, SignalAlert, raised(alertA, alertBase)}, // delivered twice: ignored
		step{3 * time.Minute, SignalAlert, raised(alertA, alertBase.Add(3*time.Minute))},
	)
	if len(w.tickets) != 1 || w.creates != 1 {
		t.Fatalf("tickets = %d (creates %d), want 1", len(w.tickets), w.creates)
	}
	tk := w.tickets[w.ticketsOf(alertA)[0]]
	if tk.externalID != alertA {
		t.Errorf("external id = %q, want the alert id %q", tk.externalID, alertA)
	}
	if got := fmt.Sprint(tk.notes); got != "[Alert occurred again in Acronis]" {
		t.Errorf("notes = %s, want one repeat note", got)
	}
	if got := w.rows[0].Occurrences; got != 2 {
		t.Errorf("occurrences = %d, want 2", got)
	}
}

func TestAlertTicket_LostCreateAnswerCreatesNoDuplicate(t *testing.T) {
	w := newTicketWorld()
	w.loseCreate = 1
	_, _ = runAlert(t, w, alertA, alertBase, time.Hour, step{0, SignalAlert, raised(alertA, alertBase)})
	if len(w.tickets) != 1 || w.creates != 1 {
		t.Fatalf("tickets = %d (creates %d), want exactly 1", len(w.tickets), w.creates)
	}
	if w.rows[0].TicketID == 0 {
		t.Fatal("the ticket was not recorded after the retry")
	}
}

func TestAlertTicket_AutoCloseOnClosesWithNoteAndEndsWithoutReopenWindow(t *testing.T) {
	w := newTicketWorld()
	end, err := runAlert(t, w, alertA, alertBase, 0,
		step{0, SignalAlert, raised(alertA, alertBase)},
		step{time.Hour, SignalAlert, cleared(alertA, alertBase.Add(time.Hour))},
	)
	if err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	tk := w.tickets[w.ticketsOf(alertA)[0]]
	if tk.status != activities.TicketStatusComplete || fmt.Sprint(tk.notes) != "[Alert cleared in Acronis]" {
		t.Errorf("ticket status %d notes %v; want 5 with the cleared note", tk.status, tk.notes)
	}
	if got := end.Sub(alertBase); got > 2*time.Hour {
		t.Errorf("run ended after %s; want right after the close (no window)", got)
	}
}

func TestAlertTicket_AutoCloseOffLeavesTicketOpen(t *testing.T) {
	w := newTicketWorld()
	w.settings.AutoClose = false
	_, _ = runAlert(t, w, alertA, alertBase, 3*time.Hour,
		step{0, SignalAlert, raised(alertA, alertBase)},
		step{time.Hour, SignalAlert, cleared(alertA, alertBase.Add(time.Hour))},
	)
	tk := w.tickets[w.ticketsOf(alertA)[0]]
	if tk.status != activities.TicketStatusNew || len(tk.notes) != 0 || !w.rows[0].Open() {
		t.Errorf("ticket status %d notes %v open %v; want it untouched", tk.status, tk.notes, w.rows[0].Open())
	}
}

func TestAlertTicket_ReopenOffReopensTheSameTicketEveryTime(t *testing.T) {
	w := newTicketWorld()
	_, _ = runAlert(t, w, alertA, alertBase, 0,
		step{0, SignalAlert, raised(alertA, alertBase)},
		step{time.Hour, SignalAlert, cleared(alertA, alertBase.Add(time.Hour))},
	)
	// Thirty days later the alert recurs: a new run re-opens the same ticket, however long it was closed.
	later := alertBase.Add(30 * day)
	_, _ = runAlert(t, w, alertA, later, time.Hour, step{0, SignalAlert, raised(alertA, later)})
	if len(w.tickets) != 1 {
		t.Fatalf("tickets = %d, want the same one re-opened", len(w.tickets))
	}
	tk := w.tickets[w.ticketsOf(alertA)[0]]
	if tk.status != activities.TicketStatusNew || !w.rows[0].Open() || tk.notes[len(tk.notes)-1] != "Alert recurred in Acronis" {
		t.Errorf("ticket status %d open %v notes %v; want it re-opened with a note", tk.status, w.rows[0].Open(), tk.notes)
	}
}

func TestAlertTicket_ReopenWindowReopensWithinNDays(t *testing.T) {
	w := newTicketWorld()
	w.settings.ReopenEnabled, w.settings.ReopenWithin = true, 3*day
	closedAt := alertBase.Add(time.Hour)
	_, _ = runAlert(t, w, alertA, alertBase, 2*day,
		step{0, SignalAlert, raised(alertA, alertBase)},
		step{time.Hour, SignalAlert, cleared(alertA, closedAt)},
		step{time.Hour + day, SignalAlert, raised(alertA, closedAt.Add(day))},
	)
	if len(w.tickets) != 1 || len(w.rows) != 1 {
		t.Fatalf("tickets = %d rows = %d, want 1 re-opened", len(w.tickets), len(w.rows))
	}
	if !w.rows[0].Open() || w.rows[0].Occurrences != 2 {
		t.Errorf("row open %v occurrences %d; want open with 2", w.rows[0].Open(), w.rows[0].Occurrences)
	}
}

func TestAlertTicket_ReopenWindowExpiresThenRecurrenceOpensNewTicket(t *testing.T) {
	w := newTicketWorld()
	w.settings.ReopenEnabled, w.settings.ReopenWithin = true, 3*day
	end, err := runAlert(t, w, alertA, alertBase, 0,
		step{0, SignalAlert, raised(alertA, alertBase)},
		step{time.Hour, SignalAlert, cleared(alertA, alertBase.Add(time.Hour))},
	)
	if err != nil {
		t.Fatal(err)
	}
	// The run waits out the window on a durable timer, then ends.
	if got := end.Sub(alertBase.Add(time.Hour)); got < 3*day || got > 3*day+time.Minute {
		t.Errorf("run ended %s after the close, want the 3-day window", got)
	}
	later := alertBase.Add(5 * day)
	_, _ = runAlert(t, w, alertA, later, time.Hour, step{0, SignalAlert, raised(alertA, later)})
	if len(w.tickets) != 2 || len(w.rows) != 2 {
		t.Fatalf("tickets = %d rows = %d, want a second ticket", len(w.tickets), len(w.rows))
	}
	if got := w.tickets[w.rows[1].TicketID].externalID; got != alertA+"#2" {
		t.Errorf("second external id = %q, want %q", got, alertA+"#2")
	}
	if w.rows[0].Open() || !w.rows[1].Open() {
		t.Error("want the first ticket closed and the second open")
	}
}

func TestAlertTicket_StormGroupsAlertsOfOneResourceOnOneTicket(t *testing.T) {
	w := newTicketWorld()
	_, _ = runAlert(t, w, alertA, alertBase, time.Hour, step{0, SignalAlert, raised(alertA, alertBase)})
	// Another alert of the same tenant, type and resource: counted on A's ticket, and its run ends.
	_, err := runAlert(t, w, alertB, alertBase.Add(time.Hour), 0, step{0, SignalAlert, raised(alertB, alertBase.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.tickets) != 1 {
		t.Fatalf("tickets = %d, want 1 for the storm", len(w.tickets))
	}
	tk := w.tickets[w.ticketsOf(alertA)[0]]
	if fmt.Sprint(tk.notes) != "[Related alert in Acronis]" || w.rows[0].Occurrences != 2 {
		t.Errorf("notes %v occurrences %d; want a related-alert note and 2", tk.notes, w.rows[0].Occurrences)
	}
	// A different resource is a different problem: its own ticket.
	other := raised(alertB, alertBase.Add(2*time.Hour))
	other.Resource = "res-2"
	_, _ = runAlert(t, w, alertB, alertBase.Add(2*time.Hour), time.Hour, step{0, SignalAlert, other})
	if len(w.tickets) != 2 {
		t.Errorf("tickets = %d, want 2 for two resources", len(w.tickets))
	}
}

func TestAlertTicket_AutoCloseWaitsForEveryJoinedAlertToClear(t *testing.T) {
	w := newTicketWorld()
	_, _ = runAlert(t, w, alertA, alertBase, time.Hour, step{0, SignalAlert, raised(alertA, alertBase)})
	_, err := runAlert(t, w, alertB, alertBase.Add(time.Hour), 0, step{0, SignalAlert, raised(alertB, alertBase.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	ticketID := w.ticketsOf(alertA)[0]
	tk := w.tickets[ticketID]

	// A clears while B, counted on A's ticket, is still active: the ticket stays open and A's run waits.
	_, _ = runAlert(t, w, alertA, alertBase.Add(2*time.Hour), time.Hour, step{0, SignalAlert, cleared(alertA, alertBase.Add(2*time.Hour))})
	if tk.status == activities.TicketStatusComplete || !w.rows[0].Open() {
		t.Fatalf("ticket status %d open %v after the first of two alerts cleared; want it open", tk.status, w.rows[0].Open())
	}

	// B clears last: B's run closes A's ticket and tells A's workflow.
	_, err = runAlert(t, w, alertB, alertBase.Add(4*time.Hour), 0, step{0, SignalAlert, cleared(alertB, alertBase.Add(4*time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if tk.status != activities.TicketStatusComplete || w.rows[0].Open() {
		t.Errorf("ticket status %d open %v after both alerts cleared; want it closed", tk.status, w.rows[0].Open())
	}
	if got, want := fmt.Sprint(tk.notes), "[Related alert in Acronis Alert cleared in Acronis]"; got != want {
		t.Errorf("notes %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(w.signalled), fmt.Sprintf("[%s %s %d]", AlertWorkflowID(alertA), SignalTicketCompleted, ticketID); got != want {
		t.Errorf("signalled %s, want %s", got, want)
	}
	// A's workflow takes the completion: its ticket is closed, nothing dismissed (A cleared).
	_, err = runAlert(t, w, alertA, alertBase.Add(5*time.Hour), 0, step{0, SignalTicketCompleted, TicketCompleted{TicketID: ticketID}})
	if err != nil || len(w.dismissed) != 0 {
		t.Errorf("owner run: error %v, dismissed %v; want none", err, w.dismissed)
	}
}

func TestAlertTicket_CompletedInAutotaskDismissesTheAlertWhenOn(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("dismiss=", on), func(t *testing.T) {
			w := newTicketWorld()
			w.settings.DismissOnComplete = on
			_, err := runAlert(t, w, alertA, alertBase, 0,
				step{0, SignalAlert, raised(alertA, alertBase)},
				step{time.Hour, SignalTicketCompleted, TicketCompleted{TicketID: 9001}},
			)
			if err != nil {
				t.Fatal(err)
			}
			if w.rows[0].Open() {
				t.Error("the ticket is still recorded open")
			}
			want := 0
			if on {
				want = 1
			}
			if len(w.dismissed) != want {
				t.Errorf("dismissed = %v, want %d dismissal(s)", w.dismissed, want)
			}
		})
	}
}

func TestAlertTicket_TicketCreationOffCreatesNothing(t *testing.T) {
	w := newTicketWorld()
	w.settings.TicketCreation = false
	if _, err := runAlert(t, w, alertA, alertBase, 0, step{0, SignalAlert, raised(alertA, alertBase)}); err != nil {
		t.Fatal(err)
	}
	if len(w.tickets) != 0 {
		t.Errorf("tickets = %d, want none", len(w.tickets))
	}
}

func TestAlertTicket_ContinuesAsNewOnTheServersSuggestionWithItsTicket(t *testing.T) {
	w := newTicketWorld()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	checkPools(t, env)
	env.SetStartTime(alertBase)
	w.register(env)
	const repeats = 5
	for i := 1; i <= repeats; i++ {
		env.RegisterDelayedCallback(func() {
			if i == repeats {
				env.SetContinueAsNewSuggested(true)
			}
			env.SignalWorkflow(SignalAlert, raised(alertA, alertBase.Add(time.Duration(i)*time.Minute)))
		}, time.Duration(i)*time.Minute)
	}
	env.ExecuteWorkflow(AlertTicketWorkflow, AlertState{AlertID: alertA, Pending: []alert.Event{raised(alertA, alertBase)}})
	var can *workflow.ContinueAsNewError
	if !errors.As(env.GetWorkflowError(), &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", env.GetWorkflowError())
	}
	var next AlertState
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Ticket == nil || next.Ticket.TicketID == 0 || next.Runs != 1 || !next.Loaded || len(next.Pending) != 0 {
		t.Errorf("next run state: %+v; want the ticket carried over, loaded, nothing pending", next)
	}
	if !next.LastSeen.Equal(alertBase.Add(repeats * time.Minute)) {
		t.Errorf("last seen = %s, want the newest repeat (so re-deliveries stay ignored)", next.LastSeen)
	}
	if len(w.tickets) != 1 || w.rows[0].Occurrences != repeats+1 {
		t.Errorf("tickets = %d occurrences %d, want 1 and %d", len(w.tickets), w.rows[0].Occurrences, repeats+1)
	}
}

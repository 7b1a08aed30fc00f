package activities

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

const litwareCompany = 107

// alertNotes records what the alert sync hands to the alert workflows.
type alertNotes struct {
	mu        sync.Mutex
	events    []AlertEvent
	completed []int64
}

func (n *alertNotes) NotifyAlert(_ context.Context, ev AlertEvent) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, ev)
	return nil
}

func (n *alertNotes) NotifyTicketCompleted(_ context.Context, _ string, ticketID int64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.completed = append(n.completed, ticketID)
	return nil
}

func (n *alertNotes) take() []AlertEvent {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.events
	n.events = nil
	return out
}

type alertHarness struct {
	t     *testing.T
	at    *atsandbox.Sandbox
	ac    *acsandbox.Sandbox
	atc   *autotask.Client
	st    *store.Store
	acts  *Alerts
	notes *alertNotes
	env   *testsuite.TestActivityEnvironment
	lose  *loseAnswers
}

// loseAnswers applies the next Times POSTs to exactly Path but answers 502,
// as when the answer is lost on the way back. (The sandbox's fault rules
// match path prefixes, which would also catch the look-up at Path/query.)
type loseAnswers struct {
	mu    sync.Mutex
	next  http.Handler
	path  string
	times int
}

func (l *loseAnswers) arm(path string, times int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.path, l.times = strings.ToLower(path), times
}

func (l *loseAnswers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	lose := l.times > 0 && r.Method == http.MethodPost && strings.ToLower(r.URL.Path) == l.path
	if lose {
		l.times--
	}
	l.mu.Unlock()
	if !lose {
		l.next.ServeHTTP(w, r)
		return
	}
	l.next.ServeHTTP(httptest.NewRecorder(), r)
	http.Error(w, "bad gateway", http.StatusBadGateway)
}

// newAlertHarness wires the alert activities to both sandboxes (demo data)
// and a fresh database with ticket creation on, Litware mapped and
// BackupFailed mapped to tickets.
func newAlertHarness(t *testing.T, change func(*settings.Settings)) *alertHarness {
	t.Helper()
	ctx := context.Background()
	at, err := atsandbox.New(atsandbox.Options{Dataset: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	lose := &loseAnswers{next: at.Handler()}
	atSrv := httptest.NewServer(lose)
	t.Cleanup(atSrv.Close)
	ac, err := acsandbox.New(acsandbox.Options{Dataset: "demo", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	acSrv := httptest.NewServer(ac.Handler())
	t.Cleanup(acSrv.Close)
	atc, err := autotask.New(ctx, autotask.Config{Username: atsandbox.DefaultUsername, Secret: atsandbox.DefaultSecret,
		IntegrationCode: atsandbox.DefaultIntegrationCode, BaseURL: atSrv.URL + "/ATServicesRest", HourlyLimit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := acronis.New(ctx, acronis.Config{BaseURL: acSrv.URL, ClientID: ac.ClientID(), ClientSecret: ac.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	st := testenv.MustOpenDB(t)
	s := settings.Defaults()
	s.BillingEnabled, s.TicketCreationEnabled = true, true
	s.Tickets.SourceID, s.Tickets.NoteTypeID, s.Tickets.NotePublishID = alertsPtr[int64](8), alertsPtr[int64](3), alertsPtr[int64](2)
	if change != nil {
		change(&s)
	}
	doc, _ := json.Marshal(s)
	actor := store.Actor{Name: "test"}
	if _, err := st.SaveSettings(ctx, doc, 0, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: litwareCompany, TenantID: acsandbox.LitwareID, How: "manual"}, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpsertAlertMapping(ctx, store.AlertMapping{AlertType: "BackupFailed", CreateTicket: true, Priority: alertsPtr[int64](1),
		Status: alertsPtr[int64](8), QueueID: alertsPtr[int64](8), IssueType: alertsPtr[int64](10), SubIssueType: alertsPtr[int64](101), TicketType: alertsPtr[int64](5)}, actor); err != nil {
		t.Fatal(err)
	}
	h := &alertHarness{t: t, at: at, ac: ac, atc: atc, st: st, notes: &alertNotes{}, lose: lose}
	h.acts = &Alerts{
		Acronis:  func(context.Context) (AlertsAcronis, error) { return acc, nil },
		Autotask: func(context.Context) (*autotask.Client, error) { return atc, nil },
		Store:    st, Notifier: h.notes, Day: time.Second, PageSize: 2,
	}
	var suite testsuite.WorkflowTestSuite
	h.env = suite.NewTestActivityEnvironment()
	h.env.RegisterActivity(h.acts)
	return h
}

func alertsPtr[T any](v T) *T { return &v }

func (h *alertHarness) sync(cur AlertCursor) AlertSyncResult {
	h.t.Helper()
	v, err := h.env.ExecuteActivity(h.acts.SyncAlerts, cur)
	if err != nil {
		h.t.Fatalf("SyncAlerts: %v", err)
	}
	var res AlertSyncResult
	if err := v.Get(&res); err != nil {
		h.t.Fatal(err)
	}
	return res
}

func ids(evs []AlertEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.AlertID)
	}
	return out
}

func TestSyncAlerts_HandsMappedAlertsToWorkflowsAndAddsUnknownTypes(t *testing.T) {
	h := newAlertHarness(t, nil)
	ctx := context.Background()
	res := h.sync(AlertCursor{})
	if res.Alerts != 5 {
		t.Errorf("alerts read = %d, want all 5 demo alerts over 3 pages", res.Alerts)
	}
	got := h.notes.take()
	if !slices.Equal(ids(got), []string{acsandbox.AlertBackupFailedID}) {
		t.Fatalf("notified %v, want only the BackupFailed alert (the only type mapped to tickets)", ids(got))
	}
	if ev := got[0]; ev.CompanyID != litwareCompany || ev.Resource == "" || ev.Cleared || ev.Title != "Acronis: BackupFailed on LIT-SRV01" {
		t.Errorf("event = %+v", ev)
	}
	for _, typ := range []string{"NoBackupForXDays", "DrStorageHardQuotaExceeds", acsandbox.MalwareAlertType, "BackupCanceled"} {
		m, err := h.st.AlertMapping(ctx, typ)
		if err != nil || !m.IsDefault || m.CreateTicket {
			t.Errorf("mapping of %s = %+v, %v; want a default that creates no ticket", typ, m, err)
		}
	}
	// The cursor is in Postgres: a new workflow (zero cursor) reads nothing old again.
	if res := h.sync(AlertCursor{}); res.Alerts != 0 || len(h.notes.take()) != 0 {
		t.Errorf("second run read %d alerts; want none", res.Alerts)
	}

	// Raised again, then cleared: each change is read once; the cleared one goes to the workflow only once it has a ticket.
	if _, err := h.ac.RaiseAlert(acsandbox.AlertSpec{ID: acsandbox.AlertBackupFailedID, TenantID: acsandbox.LitwareID, Type: "BackupFailed"}); err != nil {
		t.Fatal(err)
	}
	res = h.sync(res.Cursor)
	if got := h.notes.take(); len(got) != 1 || got[0].Cleared {
		t.Fatalf("after a re-raise notified %+v, want one active event", got)
	}
	if err := h.ac.DismissAlert(acsandbox.AlertBackupFailedID); err != nil {
		t.Fatal(err)
	}
	h.sync(res.Cursor)
	if got := h.notes.take(); len(got) != 0 {
		t.Errorf("a cleared alert without a ticket was handed on: %+v", got)
	}
}

func TestSyncAlerts_TicketCreationOffHandsNothing(t *testing.T) {
	h := newAlertHarness(t, func(s *settings.Settings) { s.TicketCreationEnabled = false })
	h.sync(AlertCursor{})
	if got := h.notes.take(); len(got) != 0 {
		t.Errorf("notified %v with ticket creation off", ids(got))
	}
}

func (h *alertHarness) event() AlertEvent {
	h.t.Helper()
	h.sync(AlertCursor{})
	evs := h.notes.take()
	if len(evs) != 1 {
		h.t.Fatalf("events = %d, want 1", len(evs))
	}
	return evs[0]
}

func (h *alertHarness) open(ev AlertEvent) AlertTicketRef {
	h.t.Helper()
	v, err := h.env.ExecuteActivity(h.acts.AlertOpenOrJoin, ev)
	if err != nil {
		h.t.Fatal(err)
	}
	var res AlertOpenResult
	_ = v.Get(&res)
	return res.Ref
}

func (h *alertHarness) ticketStep(fn any, in AlertTicketInput) (AlertTicketRef, error) {
	v, err := h.env.ExecuteActivity(fn, in)
	if err != nil {
		return AlertTicketRef{}, err
	}
	var ref AlertTicketRef
	return ref, v.Get(&ref)
}

func TestAlertCreateTicket_LostAnswerIsFoundByExternalIDNotDuplicated(t *testing.T) {
	h := newAlertHarness(t, nil)
	ev := h.event()
	ref := h.open(ev)
	before := h.at.TicketCount()
	// The first create is applied in Autotask but its answer never arrives.
	h.lose.arm("/ATServicesRest/V1.0/Tickets", 1)
	if _, err := h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: ref, Event: ev}); err == nil {
		t.Fatal("the first attempt succeeded; the fault was not injected")
	}
	got, err := h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: ref, Event: ev})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := h.at.TicketCount() - before; n != 1 {
		t.Fatalf("tickets created = %d, want 1", n)
	}
	tickets := h.at.TicketsByExternalID(acsandbox.AlertBackupFailedID)
	if len(tickets) != 1 || tickets[0].ID != got.TicketID {
		t.Fatalf("tickets with the alert id = %d (recorded %d), want the one", len(tickets), got.TicketID)
	}
	tk := tickets[0]
	want := autotask.Ticket{CompanyID: litwareCompany, Priority: 1, Status: 8, QueueID: 8, IssueType: 10, SubIssueType: 101, TicketType: 5, Source: 8,
		ContractID: int(atsandbox.DemoContractID(litwareCompany))}
	gotFields := autotask.Ticket{CompanyID: tk.CompanyID, Priority: tk.Priority, Status: tk.Status, QueueID: tk.QueueID, IssueType: tk.IssueType,
		SubIssueType: tk.SubIssueType, TicketType: tk.TicketType, Source: tk.Source, ContractID: tk.ContractID}
	if !reflect.DeepEqual(gotFields, want) {
		t.Errorf("ticket fields = %+v\nwant %+v", gotFields, want)
	}
	if tk.Title != "Acronis: BackupFailed on LIT-SRV01" || tk.Description == "" {
		t.Errorf("title %q description %q", tk.Title, tk.Description)
	}
	row, _ := h.st.LatestAlertTicket(context.Background(), ev.AlertID)
	if row.TicketID == nil || *row.TicketID != tk.ID {
		t.Errorf("recorded ticket = %v, want %d", row.TicketID, tk.ID)
	}
}

func TestAlertTickets_CloseReopenAndCompletionAgainstTheSandbox(t *testing.T) {
	h := newAlertHarness(t, func(s *settings.Settings) {
		s.Tickets.AutoClose = settings.AutoClose{Enabled: true, StatusID: alertsPtr[int64](5)}
	})
	ev := h.event()
	ref, err := h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: h.open(ev), Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	closed, err := h.ticketStep(h.acts.AlertCloseTicket, AlertTicketInput{Ref: ref, Event: ev, At: at})
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := h.at.Ticket(ref.TicketID)
	notes := h.at.TicketNotes(ref.TicketID)
	if tk.Status != 5 || len(notes) != 1 || notes[0].NoteType != 3 || notes[0].Publish != 2 {
		t.Fatalf("after close: status %d notes %+v; want 5 and one note of type 3 published 2", tk.Status, notes)
	}
	if closed.Open() || !closed.ClosedAt.Equal(at) {
		t.Errorf("recorded %+v, want closed at %s", closed, at)
	}
	// A retried close is harmless.
	if _, err := h.ticketStep(h.acts.AlertTicketCompleted, AlertTicketInput{Ref: ref, At: at}); err != nil {
		t.Errorf("second close: %v", err)
	}

	reopened, err := h.ticketStep(h.acts.AlertReopenTicket, AlertTicketInput{Ref: closed, Event: ev, At: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	tk, _ = h.at.Ticket(ref.TicketID)
	if tk.Status != 8 || !reopened.Open() || reopened.Occurrences != 2 {
		t.Errorf("after re-open: status %d, recorded %+v; want the mapping's status 8, open, 2 occurrences", tk.Status, reopened)
	}

	// A technician completes it in Autotask: the next sync tells the alert's workflow.
	done := TicketStatusComplete
	if err := h.atc.UpdateTicket(context.Background(), autotask.TicketUpdate{ID: ref.TicketID, Status: &done}); err != nil {
		t.Fatal(err)
	}
	if res := h.sync(AlertCursor{}); res.TicketsComplete != 1 || !slices.Equal(h.notes.completed, []int64{ref.TicketID}) {
		t.Errorf("completed = %v (%d), want ticket %d", h.notes.completed, res.TicketsComplete, ref.TicketID)
	}
	if err := func() error { _, err := h.env.ExecuteActivity(h.acts.AlertDismiss, ev.AlertID); return err }(); err != nil {
		t.Fatal(err)
	}
	for _, a := range h.ac.Alerts(acsandbox.LitwareID) {
		if a.ID == ev.AlertID && !a.Dismissed {
			t.Error("the Acronis alert was not dismissed")
		}
	}
}

func TestAlertOpenOrJoin_StormGroupSharesOneOpenTicket(t *testing.T) {
	h := newAlertHarness(t, nil)
	ev := h.event()
	first := h.open(ev)
	other := ev
	other.AlertID = "A1E7B0C2-0001-4000-8000-0000000000FF"
	v, err := h.env.ExecuteActivity(h.acts.AlertOpenOrJoin, other)
	if err != nil {
		t.Fatal(err)
	}
	var res AlertOpenResult
	_ = v.Get(&res)
	if !res.Joined || res.Ref.RowID != first.RowID || res.Ref.Occurrences != 2 {
		t.Errorf("second alert got %+v, want to join row %d with 2 occurrences", res, first.RowID)
	}
	// Its own retry returns the same row, not another join.
	if again := h.open(ev); again.RowID != first.RowID {
		t.Errorf("retry of the first alert got row %d, want %d", again.RowID, first.RowID)
	}
}

func TestOpenOrJoinAlertTicket_ConcurrentFirstSightingsOpenOneTicketPerGroup(t *testing.T) {
	st := testenv.MustOpenDB(t)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	joined := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, joined[i], errs[i] = st.OpenOrJoinAlertTicket(ctx, store.AlertTicket{AlertID: "storm-" + string(rune('a'+i)), CompanyID: 107,
				TenantID: acsandbox.LitwareID, AlertType: "BackupFailed", Resource: "res-1"})
		})
	}
	wg.Wait()
	opened := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("alert %d: %v", i, errs[i])
		}
		if !joined[i] {
			opened++
		}
	}
	rows, _ := st.ListAlertTickets(ctx, store.AlertTicketFilter{State: store.TicketOpen})
	if opened != 1 || len(rows) != 1 || rows[0].Occurrences != n {
		t.Errorf("opened %d, open rows %d (occurrences %v); want 1 ticket counting %d alerts", opened, len(rows), rows, n)
	}
}

package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/alert"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
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
	events    []alert.Event
	completed []int64
}

func (n *alertNotes) NotifyAlert(_ context.Context, ev alert.Event) error {
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

func (n *alertNotes) take() []alert.Event {
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
	// clock is the activities' clock, and the Autotask sandbox's less atLag
	// (nanoseconds; Postgres keeps its own clock).
	clock *usageClock
	atLag *atomic.Int64
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
	clock, lag := &usageClock{t: time.Now().UTC()}, &atomic.Int64{}
	at, err := atsandbox.New(atsandbox.Options{Dataset: "demo", Now: func() time.Time { return clock.Now().Add(-time.Duration(lag.Load())) }})
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
	h := &alertHarness{t: t, at: at, ac: ac, atc: atc, st: st, notes: &alertNotes{}, lose: lose, clock: clock, atLag: lag}
	h.acts = &Alerts{
		Acronis:  func(context.Context) (AlertsAcronis, error) { return acc, nil },
		Autotask: func(context.Context) (*autotask.Client, error) { return atc, nil },
		Store:    st, Audit: st, Notifier: h.notes, Day: time.Second, PageSize: 2, Now: clock.Now,
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

func ids(evs []alert.Event) []string {
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

func (h *alertHarness) event() alert.Event {
	h.t.Helper()
	h.sync(AlertCursor{})
	evs := h.notes.take()
	if len(evs) != 1 {
		h.t.Fatalf("events = %d, want 1", len(evs))
	}
	return evs[0]
}

func (h *alertHarness) open(ev alert.Event) alert.TicketRef {
	h.t.Helper()
	v, err := h.env.ExecuteActivity(h.acts.AlertOpenOrJoin, ev)
	if err != nil {
		h.t.Fatal(err)
	}
	var res AlertOpenResult
	_ = v.Get(&res)
	return res.Ref
}

func (h *alertHarness) ticketStep(fn any, in AlertTicketInput) (alert.TicketRef, error) {
	v, err := h.env.ExecuteActivity(fn, in)
	if err != nil {
		return alert.TicketRef{}, err
	}
	var ref alert.TicketRef
	return ref, v.Get(&ref)
}

func TestAlertCreateTicket_LostAnswerIsFoundByExternalIDNotDuplicated(t *testing.T) {
	h := newAlertHarness(t, nil)
	ev := h.event()
	ref := h.open(ev)
	before := h.at.TicketCount()
	// The first create is applied in Autotask but its answer never arrives.
	h.lose.arm("/ATServicesRest/V1.0/Tickets", 1)
	reqs := h.autotaskRequests(func() {
		if _, err := h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: ref, Event: ev}); err == nil {
			t.Fatal("the first attempt succeeded; the fault was not injected")
		}
	})
	// The contract sync has not recorded Litware: its contract is read from Autotask.
	if want := map[string]int{queryContractEndpoint: 1, createTicketEndpoint: 1}; !reflect.DeepEqual(reqs, want) {
		t.Errorf("first attempt's Autotask requests = %v, want %v", reqs, want)
	}
	var got alert.TicketRef
	reqs = h.autotaskRequests(func() {
		var err error
		if got, err = h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: ref, Event: ev}); err != nil {
			t.Fatalf("retry: %v", err)
		}
	})
	if want := map[string]int{queryTicketsEndpoint: 1}; !reflect.DeepEqual(reqs, want) {
		t.Errorf("retry's Autotask requests = %v, want %v: the look-up finds the ticket", reqs, want)
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

	// A technician completes it in Autotask: the next sync that checks (here a "sync now") tells the alert's workflow.
	done := TicketStatusComplete
	if err := h.atc.UpdateTicket(context.Background(), autotask.TicketUpdate{ID: ref.TicketID, Status: &done}); err != nil {
		t.Fatal(err)
	}
	if res := h.sync(AlertCursor{CheckTickets: true}); res.TicketsComplete != 1 || !slices.Equal(h.notes.completed, []int64{ref.TicketID}) {
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
	// Every write is in the audit log: create, close, re-open, their notes, the dismissal.
	page, err := h.acts.Audit.(*store.Store).ListAudit(context.Background(), store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range page.Entries {
		kinds[e.Kind]++
	}
	want := map[string]int{auditTicketCreate: 1, auditTicketClose: 1, auditTicketReopen: 1, auditTicketNote: 2, auditAlertDismiss: 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("audit entries of kind %s = %d, want %d (all kinds: %v)", k, kinds[k], n, kinds)
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
	rows, _ := st.QueryAlertTickets(ctx, store.AlertTicketQuery{State: store.TicketOpen})
	if opened != 1 || len(rows) != 1 || rows[0].Occurrences != n {
		t.Errorf("opened %d, open rows %d (occurrences %v); want 1 ticket counting %d alerts", opened, len(rows), rows, n)
	}
}

// autotaskRequests runs fn and returns the Autotask requests it sent, per endpoint.
func (h *alertHarness) autotaskRequests(fn func()) map[string]int {
	h.t.Helper()
	before := map[string]int{}
	for _, e := range h.at.RequestLog().Snapshot() {
		before[e.Endpoint] = e.Count
	}
	fn()
	out := map[string]int{}
	for _, e := range h.at.RequestLog().Snapshot() {
		if d := e.Count - before[e.Endpoint]; d > 0 {
			out[e.Endpoint] = d
		}
	}
	return out
}

const (
	createTicketEndpoint  = "POST /ATServicesRest/v1.0/Tickets"
	queryTicketsEndpoint  = "POST /ATServicesRest/v1.0/Tickets/query"
	queryContractEndpoint = "POST /ATServicesRest/v1.0/Contracts/query"
)

// knowContracts records the company's demo contract as the contract sync
// does, so alert tickets take the contract from Postgres.
func (h *alertHarness) knowContracts(companyID int64) int64 {
	h.t.Helper()
	k, ok := h.at.Contract(atsandbox.DemoContractID(companyID))
	if !ok {
		h.t.Fatalf("company %d has no demo contract", companyID)
	}
	raw, _ := json.Marshal([]entitlement.Contract{{ID: k.ID, Recurring: true, Active: true, Start: k.StartDate.Time, End: k.EndDate.Time}})
	if err := h.st.SaveSnapshotFingerprint(context.Background(), companyID, "fp", raw, time.Now()); err != nil {
		h.t.Fatal(err)
	}
	return k.ID
}

func TestAlertCreateTicket_FirstAttemptIsOneRequestWhenTheContractIsKnown(t *testing.T) {
	h := newAlertHarness(t, nil)
	ev := h.event()
	contract := h.knowContracts(litwareCompany)
	ref := h.open(ev)
	var got alert.TicketRef
	reqs := h.autotaskRequests(func() {
		var err error
		if got, err = h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: ref, Event: ev}); err != nil {
			t.Fatal(err)
		}
	})
	if want := map[string]int{createTicketEndpoint: 1}; !reflect.DeepEqual(reqs, want) {
		t.Errorf("Autotask requests = %v, want %v: no look-up before the first create, no contract query", reqs, want)
	}
	tk, ok := h.at.Ticket(got.TicketID)
	if !ok || tk.ContractID != int(contract) || tk.ExternalID != ev.AlertID {
		t.Errorf("ticket = %+v, want contract %d and external id %s", tk, contract, ev.AlertID)
	}
	row, _ := h.st.AlertTicket(context.Background(), ref.RowID)
	if row.CreateAttempts != 1 || row.TicketID == nil || *row.TicketID != got.TicketID {
		t.Errorf("row = %d attempts, ticket %v; want 1 attempt and ticket %d", row.CreateAttempts, row.TicketID, got.TicketID)
	}
	// A retry with the workflow's stale ref (the answer to the workflow was lost) finds the ticket in Postgres.
	reqs = h.autotaskRequests(func() {
		again, err := h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: ref, Event: ev})
		if err != nil || again.TicketID != got.TicketID {
			t.Errorf("retry = %+v, %v; want ticket %d", again, err, got.TicketID)
		}
	})
	if len(reqs) != 0 || h.at.TicketCount() != 1 {
		t.Errorf("retry sent %v and left %d tickets; want no request and 1 ticket", reqs, h.at.TicketCount())
	}
}

func TestAlertCreateTicket_AttemptAfterADeadWorkerLooksUpThenCreatesOnce(t *testing.T) {
	h := newAlertHarness(t, nil)
	ctx := context.Background()
	ev := h.event()
	h.knowContracts(litwareCompany)
	ref := h.open(ev)
	// The worker counted the create and died before sending it.
	if _, err := h.st.MarkAlertTicketCreateAttempt(ctx, ref.RowID); err != nil {
		t.Fatal(err)
	}
	reqs := h.autotaskRequests(func() {
		if _, err := h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: ref, Event: ev}); err != nil {
			t.Fatal(err)
		}
	})
	if want := map[string]int{queryTicketsEndpoint: 1, createTicketEndpoint: 1}; !reflect.DeepEqual(reqs, want) {
		t.Errorf("Autotask requests = %v, want %v: a look-up (nothing found), then the create", reqs, want)
	}
	if n := len(h.at.TicketsByExternalID(ev.AlertID)); n != 1 {
		t.Errorf("tickets with the alert id = %d, want 1", n)
	}
}

// openTickets gives n alerts of Litware an open row with a real Autotask ticket.
func (h *alertHarness) openTickets(n int) []int64 {
	h.t.Helper()
	ctx := context.Background()
	var ids []int64
	for i := range n {
		row, err := h.st.OpenAlertTicket(ctx, store.AlertTicket{AlertID: fmt.Sprintf("open-%03d", i), CompanyID: litwareCompany,
			TenantID: acsandbox.LitwareID, AlertType: "BackupFailed", Resource: fmt.Sprint(i)})
		if err != nil {
			h.t.Fatal(err)
		}
		id, err := h.atc.CreateTicket(ctx, autotask.Ticket{CompanyID: litwareCompany, Title: "alert " + row.AlertID, Status: TicketStatusNew,
			Priority: 2, ExternalID: row.ExternalID})
		if err != nil {
			h.t.Fatal(err)
		}
		if _, err := h.st.SetAlertTicketID(ctx, row.ID, id); err != nil {
			h.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// complete is a technician completing tickets in Autotask.
func (h *alertHarness) complete(ids ...int64) {
	h.t.Helper()
	done := TicketStatusComplete
	for _, id := range ids {
		if err := h.atc.UpdateTicket(context.Background(), autotask.TicketUpdate{ID: id, Status: &done}); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *alertHarness) advance(d time.Duration) { h.clock.Set(h.clock.Now().Add(d)) }

// checkRun runs one alert sync and returns its result and Autotask's ticket queries.
func (h *alertHarness) checkRun(cur AlertCursor) (AlertSyncResult, int) {
	h.t.Helper()
	var res AlertSyncResult
	reqs := h.autotaskRequests(func() { res = h.sync(cur) })
	for ep := range reqs {
		if ep != queryTicketsEndpoint {
			h.t.Errorf("the alert sync sent %v to Autotask, want ticket queries only", reqs)
		}
	}
	return res, reqs[queryTicketsEndpoint]
}

func (h *alertHarness) takeCompleted() []int64 {
	h.notes.mu.Lock()
	defer h.notes.mu.Unlock()
	out := h.notes.completed
	h.notes.completed = nil
	slices.Sort(out)
	return out
}

func TestFindCompletedTickets_OneRequestPerIntervalWhateverTheOpenTickets(t *testing.T) {
	h := newAlertHarness(t, nil)
	// No open ticket: nothing to ask Autotask.
	res, n := h.checkRun(AlertCursor{})
	if n != 0 || res.Cursor.TicketsCheckedAt.IsZero() {
		t.Fatalf("with no open ticket: %d requests, checked at %v; want none, and the check recorded", n, res.Cursor.TicketsCheckedAt)
	}
	ids := h.openTickets(300)
	h.advance(DefaultTicketCheckInterval)
	if res, n = h.checkRun(res.Cursor); n != 1 || res.TicketsComplete != 0 {
		t.Fatalf("300 open tickets, none completed: %d requests, %d completed; want 1 request (the old check sent 2)", n, res.TicketsComplete)
	}

	h.complete(ids[7], ids[250])
	h.advance(30 * time.Second)
	if res, n = h.checkRun(res.Cursor); n != 0 || res.TicketsComplete != 0 {
		t.Errorf("inside the interval: %d requests, %d completed; want the check skipped", n, res.TicketsComplete)
	}
	h.advance(DefaultTicketCheckInterval - 30*time.Second)
	if res, n = h.checkRun(res.Cursor); n != 1 || res.TicketsComplete != 2 {
		t.Errorf("after the interval: %d requests, %d completed; want 1 request finding 2", n, res.TicketsComplete)
	}
	if got, want := h.takeCompleted(), []int64{ids[7], ids[250]}; !slices.Equal(got, want) {
		t.Errorf("reported %v, want %v", got, want)
	}
	// The workflows have not closed their rows yet and the overlap sees the completions again: not reported twice.
	h.advance(DefaultTicketCheckInterval)
	if res, n = h.checkRun(res.Cursor); n != 1 || res.TicketsComplete != 0 || len(h.takeCompleted()) != 0 {
		t.Errorf("next check: %d requests, %d completed; want 1 request reporting nothing again", n, res.TicketsComplete)
	}
	// "Sync now" checks inside the interval.
	h.advance(time.Second)
	cur := res.Cursor
	cur.CheckTickets = true
	if res, n = h.checkRun(cur); n != 1 || res.Cursor.CheckTickets {
		t.Errorf("sync now: %d requests, cursor %+v; want 1 request and the request cleared", n, res.Cursor)
	}
	// An hour of runs at the 30-second sync interval costs at most one request per check interval.
	cur = res.Cursor
	reqs := h.autotaskRequests(func() {
		for range 120 {
			h.advance(30 * time.Second)
			if _, _, err := h.acts.findCompletedTickets(context.Background(), &cur, false); err != nil {
				t.Fatal(err)
			}
		}
	})
	if total, limit := reqs[queryTicketsEndpoint], int(time.Hour/DefaultTicketCheckInterval); len(reqs) != 1 || total > limit {
		t.Errorf("an hour of checks sent %v, want at most %d ticket queries (0.3 %% of 10,000)", reqs, limit)
	}
}

func TestFindCompletedTickets_CompletionWhileTheWorkerWasDownIsFound(t *testing.T) {
	h := newAlertHarness(t, nil)
	ids := h.openTickets(3)
	if _, n := h.checkRun(AlertCursor{}); n != 1 {
		t.Fatalf("first check: %d requests, want 1", n)
	}
	// The worker stops; a technician completes a ticket; the worker is back hours later with a new workflow.
	h.advance(time.Minute)
	h.complete(ids[1])
	h.advance(6 * time.Hour)
	res, n := h.checkRun(AlertCursor{})
	if n != 1 || res.TicketsComplete != 1 || !slices.Equal(h.takeCompleted(), []int64{ids[1]}) {
		t.Errorf("after the outage: %d requests, %d completed; want 1 request finding ticket %d", n, res.TicketsComplete, ids[1])
	}
}

func TestFindCompletedTickets_OverlapCoversAutotasksClockBehindTheWorkers(t *testing.T) {
	h := newAlertHarness(t, nil)
	ids := h.openTickets(2)
	h.atLag.Store(int64(3 * time.Minute))
	res, _ := h.checkRun(AlertCursor{})
	// Completed after that check, but stamped 2.5 minutes before it by Autotask's clock.
	h.advance(30 * time.Second)
	h.complete(ids[0])
	h.advance(DefaultTicketCheckInterval)
	if res, _ = h.checkRun(res.Cursor); res.TicketsComplete != 1 || !slices.Equal(h.takeCompleted(), []int64{ids[0]}) {
		t.Errorf("completed = %d, want ticket %d", res.TicketsComplete, ids[0])
	}
}

func TestFindCompletedTickets_ReopenedAndCompletedAgainIsReportedAgain(t *testing.T) {
	h := newAlertHarness(t, nil)
	ids := h.openTickets(1)
	h.complete(ids[0])
	res, _ := h.checkRun(AlertCursor{CheckTickets: true})
	if res.TicketsComplete != 1 {
		t.Fatalf("completed = %d, want 1", res.TicketsComplete)
	}
	h.takeCompleted()
	// A technician re-opens and completes it again before the alert's workflow closed its row: a new completion.
	h.advance(time.Second)
	status := TicketStatusNew
	if err := h.atc.UpdateTicket(context.Background(), autotask.TicketUpdate{ID: ids[0], Status: &status}); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Second)
	h.complete(ids[0])
	res, _ = h.checkRun(AlertCursor{CheckTickets: true})
	if res.TicketsComplete != 1 || !slices.Equal(h.takeCompleted(), ids) {
		t.Errorf("completed = %d, want the second completion reported", res.TicketsComplete)
	}
}

// setMode saves the current settings with mode m.
func (h *alertHarness) setMode(m settings.Mode) {
	h.t.Helper()
	ctx := context.Background()
	cur, err := h.st.CurrentSettings(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := settings.Decode(cur.Document)
	if err != nil {
		h.t.Fatal(err)
	}
	s.Mode = m
	doc, _ := json.Marshal(s)
	if _, err := h.st.SaveSettings(ctx, doc, cur.Version, store.Actor{Name: "test"}); err != nil {
		h.t.Fatal(err)
	}
}

func TestAlertTickets_ShadowModeKeepsNoPlaceholderTicketAndGoingLiveCreatesTheRealOne(t *testing.T) {
	h := newAlertHarness(t, func(s *settings.Settings) {
		s.Mode = settings.ModeShadow
		s.Tickets.AutoClose = settings.AutoClose{Enabled: true, StatusID: alertsPtr[int64](5)}
	})
	gate := &WriteGate{Store: h.st}
	h.acts.Autotask = func(ctx context.Context) (*autotask.Client, error) { return gate.Autotask(ctx, h.atc) }
	ctx := context.Background()
	ev := h.event()
	before := h.at.TicketCount()

	// Shadow: the create is recorded; the row keeps no ticket and no counted attempt.
	ref, err := h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: h.open(ev), Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	row, _ := h.st.LatestAlertTicket(ctx, ev.AlertID)
	if ref.TicketID != 0 || row.TicketID != nil || row.CreateAttempts != 0 {
		t.Fatalf("after a shadow create: ref ticket %d, row ticket %v, attempts %d; want no ticket and no attempt", ref.TicketID, row.TicketID, row.CreateAttempts)
	}
	if n := h.at.TicketCount() - before; n != 0 {
		t.Fatalf("shadow mode created %d tickets in Autotask", n)
	}
	rep, err := h.st.ShadowReport(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Customers) != 1 || rep.Customers[0].CompanyID != litwareCompany || rep.Customers[0].Writes[0].Operation != "POST Tickets" {
		t.Errorf("shadow report = %+v, want Litware's ticket create", rep.Customers)
	}

	// Live: the same reserved row gets the real ticket, with no look-up first.
	h.setMode(settings.ModeLive)
	reqs := h.autotaskRequests(func() {
		if ref, err = h.ticketStep(h.acts.AlertCreateTicket, AlertTicketInput{Ref: ref, Event: ev}); err != nil {
			t.Fatal(err)
		}
	})
	if reqs[queryTicketsEndpoint] != 0 || reqs[createTicketEndpoint] != 1 {
		t.Errorf("live create's Autotask requests = %v, want one create and no look-up", reqs)
	}
	tickets := h.at.TicketsByExternalID(ev.AlertID)
	if len(tickets) != 1 || ref.TicketID != tickets[0].ID || ref.TicketID <= 0 {
		t.Fatalf("live ticket %d, Autotask has %d with the alert id; want the one", ref.TicketID, len(tickets))
	}

	// Shadow again: closing is recorded, so the ticket stays open here as in Autotask.
	h.setMode(settings.ModeShadow)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	after, err := h.ticketStep(h.acts.AlertCloseTicket, AlertTicketInput{Ref: ref, Event: ev, At: at})
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := h.at.Ticket(ref.TicketID)
	if !after.Open() || tk.Status == 5 || len(h.at.TicketNotes(ref.TicketID)) != 0 {
		t.Errorf("after a shadow close: recorded open=%v, Autotask status %d with %d notes; want open, untouched", after.Open(), tk.Status, len(h.at.TicketNotes(ref.TicketID)))
	}
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/workflows"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// holdCreate sits in front of the Autotask sandbox: it applies the first
// ticket create (POST …/Tickets exactly) but withholds its answer until the
// caller goes away, so the worker can be killed between the ticket's
// creation in Autotask and its recording in Postgres.
type holdCreate struct {
	next  http.Handler
	mu    sync.Mutex
	armed bool
	held  chan struct{} // closed once a create was applied and is being held
}

func (h *holdCreate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	hold := h.armed && r.Method == http.MethodPost && strings.EqualFold(r.URL.Path, "/ATServicesRest/V1.0/Tickets")
	if hold {
		h.armed = false
	}
	h.mu.Unlock()
	if !hold {
		h.next.ServeHTTP(w, r)
		return
	}
	h.next.ServeHTTP(httptest.NewRecorder(), r) // the ticket exists from here on
	close(h.held)
	select {
	case <-r.Context().Done():
	case <-time.After(30 * time.Second):
	}
	http.Error(w, "answer lost", http.StatusBadGateway)
}

// seedAlerts maps Litware to its tenant and BackupFailed to tickets, as an
// admin would before the first alert sync.
func (s *stack) seedAlerts() {
	s.t.Helper()
	ctx := context.Background()
	kr, _ := secrets.ParseKeyring(s.env["SECRETS_KEY"])
	st, err := store.Open(ctx, s.env["DATABASE_URL"], kr)
	if err != nil {
		s.t.Fatal(err)
	}
	defer st.Close()
	actor := store.Actor{Name: "test"}
	if _, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: litware, TenantID: acsandbox.LitwareID, How: "manual"}, actor); err != nil {
		s.t.Fatal(err)
	}
	p := func(v int64) *int64 { return &v }
	if _, err := st.UpsertAlertMapping(ctx, store.AlertMapping{AlertType: "BackupFailed", CreateTicket: true, Priority: p(1), Status: p(8),
		QueueID: p(8), IssueType: p(10), SubIssueType: p(101), TicketType: p(5)}, actor); err != nil {
		s.t.Fatal(err)
	}
}

func alertTickets(a *app, q string) []map[string]any {
	_, body := a.call("GET", "/api/v1/tickets"+q, e2eRead, "", nil)
	var out []map[string]any
	list, _ := body["tickets"].([]any)
	for _, l := range list {
		m, _ := l.(map[string]any)
		out = append(out, m)
	}
	return out
}

func TestE2E_AlertTicketsCreateCloseReopenRenewAndSurviveAKilledWorker(t *testing.T) {
	s := newStack(t, true)
	s.day = 2 * time.Second
	hold := &holdCreate{next: s.autotask.Handler(), armed: true, held: make(chan struct{})}
	front := httptest.NewServer(hold)
	t.Cleanup(front.Close)
	s.env["AUTOTASK_BASE_URL"] = front.URL + "/ATServicesRest"
	s.seed(func(doc map[string]any) {
		doc["ticketCreationEnabled"] = true
		doc["syncIntervalSeconds"] = 5
		doc["tickets"] = map[string]any{
			"reopening": map[string]any{"enabled": true, "withinDays": 3},
			"autoClose": map[string]any{"enabled": true, "statusId": 5},
			"sourceId":  8, "noteTypeId": 3, "notePublishId": 2,
			"dismissAlertOnComplete": true,
		}
	})
	s.seedAlerts()
	alert := acsandbox.AlertBackupFailedID
	before := s.autotask.TicketCount()

	// The demo BackupFailed alert becomes a ticket; its answer is withheld and the worker dies.
	first := s.start()
	select {
	case <-hold.held:
	case <-time.After(60 * time.Second):
		t.Fatalf("no ticket was created\n%s", first.logs.String())
	}
	if l := alertTickets(first, "?companyId=107"); len(l) != 1 || l[0]["ticketId"] != nil {
		t.Fatalf("before the kill the link is %v; want one link without a ticket id", l)
	}
	first.stop()

	second := s.start()
	var ticketID int64
	eventually(t, 60*time.Second, "the ticket is recorded after the restart", func() (bool, string) {
		l := alertTickets(second, "?companyId=107")
		if len(l) == 1 && l[0]["ticketId"] != nil {
			ticketID = int64(l[0]["ticketId"].(float64))
			return true, ""
		}
		return false, fmt.Sprint(l)
	})
	if got := s.autotask.TicketsByExternalID(alert); len(got) != 1 || got[0].ID != ticketID {
		t.Fatalf("tickets with external id %s = %d; want exactly the recorded one (%d)", alert, len(got), ticketID)
	}
	if n := s.autotask.TicketCount() - before; n != 1 {
		t.Fatalf("tickets created = %d, want 1", n)
	}
	tk, _ := s.autotask.Ticket(ticketID)
	if tk.CompanyID != litware || tk.Priority != 1 || tk.Status != 8 || tk.QueueID != 8 || tk.IssueType != 10 || tk.SubIssueType != 101 ||
		tk.TicketType != 5 || tk.Source != 8 || tk.ContractID != int(atsandbox.DemoContractID(litware)) || !strings.Contains(tk.Title, "LIT-SRV01") {
		t.Errorf("ticket = company %d priority %d status %d queue %d issue %d/%d type %d source %d contract %d title %q; want the mapped fields",
			tk.CompanyID, tk.Priority, tk.Status, tk.QueueID, tk.IssueType, tk.SubIssueType, tk.TicketType, tk.Source, tk.ContractID, tk.Title)
	}

	syncAlerts := func() {
		if code, body := second.call("POST", "/api/v1/alerts/sync", e2eAdmin, "", nil); code != 202 {
			t.Fatalf("POST /alerts/sync = %d %v", code, body["_raw"])
		}
	}
	status := func(id int64) int { tk, _ := s.autotask.Ticket(id); return tk.Status }

	// It clears: the ticket closes with a note.
	if err := s.acronis.DismissAlert(alert); err != nil {
		t.Fatal(err)
	}
	syncAlerts()
	eventually(t, 30*time.Second, "the ticket closes", func() (bool, string) {
		return status(ticketID) == 5, fmt.Sprint("status ", status(ticketID))
	})
	if notes := s.autotask.TicketNotes(ticketID); len(notes) != 1 || notes[0].NoteType != 3 || notes[0].Publish != 2 {
		t.Errorf("notes = %+v, want one cleared note of type 3 published 2", notes)
	}

	// It recurs a day later, inside the 3-day window: the same ticket re-opens.
	time.Sleep(s.day)
	raise := func() {
		if _, err := s.acronis.RaiseAlert(acsandbox.AlertSpec{ID: alert, TenantID: acsandbox.LitwareID, Type: "BackupFailed",
			Details: map[string]any{"resourceId": "4c1f8d2e-7a3b-4e5c-9d10-000000000001", "resourceName": "LIT-SRV01"}}); err != nil {
			t.Fatal(err)
		}
		syncAlerts()
	}
	raise()
	eventually(t, 30*time.Second, "the same ticket re-opens", func() (bool, string) {
		return status(ticketID) == 8, fmt.Sprint("status ", status(ticketID))
	})
	if n := s.autotask.TicketCount() - before; n != 1 {
		t.Fatalf("tickets = %d after the recurrence, want still 1", n)
	}

	// It clears again, and recurs after 5 days: a new ticket with a new external id.
	if err := s.acronis.DismissAlert(alert); err != nil {
		t.Fatal(err)
	}
	syncAlerts()
	eventually(t, 30*time.Second, "the ticket closes again", func() (bool, string) {
		return status(ticketID) == 5, fmt.Sprint("status ", status(ticketID))
	})
	time.Sleep(5 * s.day)
	raise()
	var second2 int64
	eventually(t, 30*time.Second, "a new ticket", func() (bool, string) {
		got := s.autotask.TicketsByExternalID(alert + "#2")
		if len(got) == 1 {
			second2 = got[0].ID
		}
		return len(got) == 1, fmt.Sprint(alertTickets(second, "?companyId=107"))
	})
	if status(ticketID) != 5 {
		t.Errorf("the old ticket has status %d, want it left complete", status(ticketID))
	}
	if l := alertTickets(second, "?state=open&alertType=BackupFailed"); len(l) != 1 || l[0]["generation"] != float64(2) {
		t.Errorf("open links = %v, want generation 2 only", l)
	}

	// A technician completes the new ticket in Autotask: the Acronis alert is dismissed.
	at, err := autotask.New(context.Background(), autotask.Config{Username: atsandbox.DefaultUsername, Secret: atsandbox.DefaultSecret,
		IntegrationCode: atsandbox.DefaultIntegrationCode, BaseURL: front.URL + "/ATServicesRest", HourlyLimit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	done := 5
	if err := at.UpdateTicket(context.Background(), autotask.TicketUpdate{ID: second2, Status: &done}); err != nil {
		t.Fatal(err)
	}
	syncAlerts()
	eventually(t, 30*time.Second, "the alert is dismissed", func() (bool, string) {
		for _, a := range s.acronis.Alerts(acsandbox.LitwareID) {
			if strings.EqualFold(a.ID, alert) {
				return a.Dismissed, fmt.Sprintf("%+v", a)
			}
		}
		return false, "alert not found"
	})
	s.recordHistories("tickets", "alert-sync", workflows.AlertWorkflowID(alert))
	// The first generation's run, which cleared, re-opened and closed the ticket.
	s.recordWorkingRun("tickets-cleared", workflows.AlertWorkflowID(alert), "AlertCleared")
}

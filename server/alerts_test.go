package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

func newAlertsHarness(t *testing.T) *apiHarness {
	t.Helper()
	h := newAPIHarness(t, nil)
	h.srv.deps.Alerts = h.store
	return h
}

func TestAlertMappings_BadPutNamesEveryFieldAndSavesNothing(t *testing.T) {
	h := newAlertsHarness(t)
	body := `{"mappings":[
		{"alertType":"BackupFailed","createTicket":true,"priority":1,"status":8,"queueId":8,"issueType":10,"subIssueType":101,"ticketType":5},
		{"alertType":"NoBackupForXDays","createTicket":true,"priority":99,"status":5,"issueType":10,"subIssueType":111},
		{"alertType":"","subIssueType":101},
		{"alertType":"BackupFailed","queueId":12345}
	]}`
	r := h.do(http.MethodPut, "/api/v1/alert-mappings", adminToken, body)
	if r.code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400: %s", r.code, r.body)
	}
	got := problemFields(t, r)
	want := []string{"mappings[1].priority", "mappings[1].status", "mappings[1].subIssueType", "mappings[2].alertType",
		"mappings[2].subIssueType", "mappings[3].alertType", "mappings[3].queueId"}
	if !slices.Equal(got, want) {
		t.Errorf("bad fields = %v\nwant %v", got, want)
	}
	if !strings.Contains(string(r.body), "2 Medium") {
		t.Errorf("the priority error does not list the valid options: %s", r.body)
	}
	maps, _ := h.store.ListAlertMappings(context.Background())
	if len(maps) != 0 {
		t.Errorf("saved %d mappings, want none", len(maps))
	}
}

func TestAlertMappings_PutSavesAndGetLists(t *testing.T) {
	h := newAlertsHarness(t)
	r := h.do(http.MethodPut, "/api/v1/alert-mappings", adminToken,
		`{"mappings":[{"alertType":"BackupFailed","createTicket":true,"priority":1,"status":8,"queueId":8,"issueType":10,"subIssueType":101,"ticketType":5}]}`)
	if r.code != http.StatusOK {
		t.Fatalf("PUT = %d: %s", r.code, r.body)
	}
	r = h.do(http.MethodGet, "/api/v1/alert-mappings", readToken, nil)
	got := decode[AlertMappings](t, r)
	if len(got.Mappings) != 1 {
		t.Fatalf("mappings = %+v, want 1", got.Mappings)
	}
	m := got.Mappings[0]
	if !m.CreateTicket || *m.Priority != 1 || *m.SubIssueType != 101 || m.IsDefault || m.UpdatedBy != "ops" {
		t.Errorf("mapping = %+v", m)
	}
	if r := h.do(http.MethodPut, "/api/v1/alert-mappings", readToken, `{"mappings":[]}`); r.code != http.StatusForbidden {
		t.Errorf("read-only PUT = %d, want 403", r.code)
	}
}

func TestAlertTypes_JoinsAcronisTypesSeenTypesAndMappings(t *testing.T) {
	h := newAlertsHarness(t)
	ctx := context.Background()
	if _, _, err := h.store.EnsureAlertMapping(ctx, "VendorSpecificAlert", store.AlertMapping{}); err != nil {
		t.Fatal(err)
	}
	r := h.do(http.MethodGet, "/api/v1/alert-types", readToken, nil)
	if r.code != http.StatusOK {
		t.Fatalf("GET = %d: %s", r.code, r.body)
	}
	types := decode[AlertTypes](t, r).Types
	byID := map[string]AlertType{}
	for _, ty := range types {
		byID[ty.ID] = ty
	}
	if bf := byID["BackupFailed"]; !bf.Discovered || bf.Mapping != nil {
		t.Errorf("BackupFailed = %+v, want discovered in Acronis and unmapped", bf)
	}
	if v := byID["VendorSpecificAlert"]; v.Discovered || v.Mapping == nil || !v.Mapping.IsDefault || v.Mapping.CreateTicket {
		t.Errorf("VendorSpecificAlert = %+v, want seen with a default mapping that creates no ticket", v)
	}
}

func TestTickets_ListFiltersByCompanyTypeAndState(t *testing.T) {
	h := newAlertsHarness(t)
	ctx := context.Background()
	open := func(alertID string, company int64, typ string) store.AlertTicket {
		row, err := h.store.OpenAlertTicket(ctx, store.AlertTicket{AlertID: alertID, CompanyID: company, TenantID: "t", AlertType: typ})
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	a := open("alert-a", 107, "BackupFailed")
	open("alert-b", 107, "NoBackupForXDays")
	open("alert-c", 101, "BackupFailed")
	if _, err := h.store.CloseAlertTicket(ctx, a.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	list := func(q string) []string {
		t.Helper()
		r := h.do(http.MethodGet, "/api/v1/tickets"+q, readToken, nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", q, r.code, r.body)
		}
		var out []string
		for _, l := range decode[AlertTicketList](t, r).Tickets {
			out = append(out, l.AlertID+":"+l.State)
		}
		slices.Sort(out)
		return out
	}
	for q, want := range map[string][]string{
		"":                                      {"alert-a:closed", "alert-b:open", "alert-c:open"},
		"?companyId=107":                        {"alert-a:closed", "alert-b:open"},
		"?alertType=BackupFailed":               {"alert-a:closed", "alert-c:open"},
		"?state=open&companyId=107":             {"alert-b:open"},
		"?state=closed&alertType=BackupFailed":  {"alert-a:closed"},
		"?companyId=101&alertType=BackupFailed": {"alert-c:open"},
	} {
		if got := list(q); !slices.Equal(got, want) {
			t.Errorf("GET /api/v1/tickets%s = %v, want %v", q, got, want)
		}
	}
	r := h.do(http.MethodGet, "/api/v1/tickets?companyId=x&state=pending", readToken, nil)
	if got := problemFields(t, r); !slices.Equal(got, []string{"companyId", "state"}) || r.code != http.StatusBadRequest {
		t.Errorf("bad query = %d %v, want 400 naming companyId and state", r.code, got)
	}
}

type alertSyncRecorder struct{ calls int }

func (a *alertSyncRecorder) SyncNow(context.Context) error {
	a.calls++
	if a.calls > 1 {
		return errors.New("unreachable")
	}
	return nil
}

func TestAlertSync_PostRunsTheSyncNow(t *testing.T) {
	h := newAlertsHarness(t)
	rec := &alertSyncRecorder{}
	h.srv.deps.AlertSync = rec
	if r := h.do(http.MethodPost, "/api/v1/alerts/sync", adminToken, nil); r.code != http.StatusAccepted || rec.calls != 1 {
		t.Errorf("POST = %d, calls %d; want 202 and one sync", r.code, rec.calls)
	}
}

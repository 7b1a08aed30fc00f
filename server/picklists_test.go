package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/picklist"
	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// requestsTo counts the requests a sandbox saw on endpoints whose key contains part.
func requestsTo(log *sandbox.RequestLog, part string) int {
	n := 0
	for _, e := range log.Snapshot() {
		if strings.Contains(e.Endpoint, part) {
			n += e.Count
		}
	}
	return n
}

func ids(l picklist.List) []string {
	out := make([]string, len(l.Values))
	for i, v := range l.Values {
		out[i] = v.ID + " " + v.Label
	}
	return out
}

func TestPicklists_AnswerFromTheSandboxesAndServeRepeatsFromTheCache(t *testing.T) {
	h := newAPIHarness(t, nil)
	atLog, acLog := h.at.RequestLog(), h.ac.RequestLog()

	prio := decode[picklist.List](t, h.do("GET", "/api/v1/autotask/picklists/ticket-priorities", readToken, nil))
	if got := strings.Join(ids(prio), ", "); got != "4 Critical, 1 High, 2 Medium, 3 Low" {
		t.Fatalf("ticket priorities = %s, want the sandbox's in Autotask's order", got)
	}
	fields := requestsTo(atLog, "Tickets/entityInformation/fields")
	if fields != 1 {
		t.Fatalf("Tickets fields read %d times for one list, want 1", fields)
	}
	// Every ticket list comes from the same metadata, kept by the cache.
	for _, name := range []string{"ticket-priorities", "ticket-statuses", "queues", "issue-types", "ticket-types", "ticket-sources"} {
		if r := h.do("GET", "/api/v1/autotask/picklists/"+name, readToken, nil); r.code != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", name, r.code, r.body)
		}
	}
	h.do("GET", "/api/v1/autotask/picklists/ticket-priorities", readToken, nil)
	if got := requestsTo(atLog, "Tickets/entityInformation/fields"); got != fields {
		t.Fatalf("Tickets fields read %d times after repeated lists, want still %d (cached)", got, fields)
	}
	if r := h.do("GET", "/api/v1/autotask/picklists/ticket-priorities?refresh=true", readToken, nil); r.code != http.StatusOK {
		t.Fatalf("refresh = %d: %s", r.code, r.body)
	}
	if got := requestsTo(atLog, "Tickets/entityInformation/fields"); got != fields+1 {
		t.Fatalf("Tickets fields read %d times after a refresh, want %d", got, fields+1)
	}

	codes := decode[picklist.List](t, h.do("GET", "/api/v1/autotask/picklists/billing-codes", readToken, nil))
	if got := strings.Join(ids(codes), ", "); got != "29682801 Recurring Services, 29682802 Acronis Cloud Services" {
		t.Fatalf("billing codes = %s, want the active Recurring Contract Service codes only", got)
	}
	subs := decode[picklist.List](t, h.do("GET", "/api/v1/autotask/picklists/sub-issue-types", readToken, nil))
	if v, ok := subs.Find("111"); !ok || v.ParentID != "11" {
		t.Fatalf("sub-issue 111 = %+v, want parent issue type 11", v)
	}
	notes := decode[picklist.List](t, h.do("GET", "/api/v1/autotask/picklists/note-publish", readToken, nil))
	if _, ok := notes.Find("1"); !ok || notes.Source != "Autotask TicketNotes.publish" {
		t.Fatalf("note publish = %+v, want TicketNotes.publish with 1", notes)
	}

	st := decode[picklist.List](t, h.do("GET", "/api/v1/acronis/storages", readToken, nil))
	if _, ok := st.Find(acsandbox.DefaultStorageID); !ok {
		t.Fatalf("storages = %v, want %s", ids(st), acsandbox.DefaultStorageID)
	}
	infra := requestsTo(acLog, "/infra")
	h.do("GET", "/api/v1/acronis/storages", readToken, nil)
	if got := requestsTo(acLog, "/infra"); got != infra {
		t.Fatalf("Acronis infra read %d times after a repeat, want %d (cached)", got, infra)
	}

	p := wantProblem(t, h.do("GET", "/api/v1/autotask/picklists/colours", readToken, nil), http.StatusNotFound)
	if len(p.Errors) != 1 || p.Errors[0].Field != "name" || !strings.Contains(p.Errors[0].Message, "billing-codes") {
		t.Fatalf("unknown list = %+v, want the name field listing the lists", p)
	}
	wantFields(t, h.do("GET", "/api/v1/acronis/storages?refresh=yes", readToken, nil), "refresh")
}

func TestSettings_UnknownIdsAre400ListingValidValuesAndSaveNothing(t *testing.T) {
	h := newAPIHarness(t, nil)
	body := map[string]any{"version": 0, "settings": map[string]any{
		"twoWaySync":   true,
		"newServices":  map[string]any{"allocationCodeId": 999999, "periodType": "Monthly"},
		"provisioning": map[string]any{"defaultStorageId": "not-a-storage"},
		"tickets":      map[string]any{"sourceId": 8, "noteTypeId": 77},
	}}
	r := h.do("PUT", "/api/v1/settings", adminToken, body)
	wantFields(t, r, "newServices.allocationCodeId", "provisioning.defaultStorageId", "tickets.noteTypeId")
	for _, want := range []string{"29682802 Acronis Cloud Services", acsandbox.DefaultStorageID, "3 Task Notes"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("the answer does not list %q among the valid values: %s", want, r.body)
		}
	}
	if got := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", readToken, nil)); got.Version != 0 {
		t.Fatalf("version after a refused PUT = %d, want 0 (nothing saved)", got.Version)
	}
	// The same through PATCH.
	r = h.do("PATCH", "/api/v1/settings", adminToken, `{"usageReporting":{"storageClasses":[{"infraId":"not-a-storage","class1UsageNames":[]}]}}`,
		"Content-Type", mergePatchType, "If-Match", `"0"`)
	wantFields(t, r, "usageReporting.storageClasses[0].infraId")

	body["settings"].(map[string]any)["newServices"] = map[string]any{"allocationCodeId": atsandbox.BillingCodeAcronis, "periodType": "Monthly"}
	body["settings"].(map[string]any)["provisioning"] = map[string]any{"defaultStorageId": acsandbox.DefaultStorageID}
	body["settings"].(map[string]any)["tickets"] = map[string]any{"sourceId": 8, "noteTypeId": 3}
	r = h.do("PUT", "/api/v1/settings", adminToken, body)
	if r.code != http.StatusOK {
		t.Fatalf("PUT with ids the vendors offer = %d: %s", r.code, r.body)
	}
	if got := decode[SettingsDocument](t, r); got.Version != 1 || len(got.Unverified) != 0 {
		t.Fatalf("saved version %d with unverified %+v, want 1 and none", got.Version, got.Unverified)
	}
}

func TestSettings_VendorDownSavesUnverifiedAndAReadChecksAgain(t *testing.T) {
	h := newAPIHarness(t, nil)
	h.srv.deps.PicklistTimeout = 300 * time.Millisecond
	h.at.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/BillingCodes", ErrorRate: 1, Status: http.StatusInternalServerError})

	// An unknown code cannot be told from a good one while Autotask fails:
	// both are saved, unverified (after one failure Autotask is not asked
	// again for a while, so the save does not wait once per list).
	r := h.do("PATCH", "/api/v1/settings", adminToken, `{"newServices":{"allocationCodeId":999999},"tickets":{"sourceId":8}}`,
		"Content-Type", mergePatchType, "If-Match", `"0"`)
	if r.code != http.StatusOK {
		t.Fatalf("PATCH while Autotask is down = %d, want 200 (saved unverified): %s", r.code, r.body)
	}
	got := decode[SettingsDocument](t, r)
	if len(got.Unverified) != 2 || got.Unverified[0].Field != "newServices.allocationCodeId" || got.Unverified[0].State != store.StateUnverified ||
		got.Unverified[0].Value != "999999" || got.Unverified[1].Field != "tickets.sourceId" {
		t.Fatalf("unverified = %+v, want newServices.allocationCodeId 999999 and tickets.sourceId", got.Unverified)
	}
	if *got.Settings.NewServices.AllocationCodeID != 999999 {
		t.Fatalf("saved allocation code = %d, want 999999", *got.Settings.NewServices.AllocationCodeID)
	}

	// Autotask is back: the refresh re-checks; the read shows the source
	// verified and the code refused, listing the valid ones.
	h.at.Faults().Reset()
	if r := h.do("GET", "/api/v1/autotask/picklists/billing-codes?refresh=true", readToken, nil); r.code != http.StatusOK {
		t.Fatalf("refresh = %d: %s", r.code, r.body)
	}
	got = decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", readToken, nil))
	if len(got.Unverified) != 1 || got.Unverified[0].State != store.StateInvalid || !strings.Contains(got.Unverified[0].Message, "29682802 Acronis Cloud Services") {
		t.Fatalf("after the check: %+v, want allocationCodeId invalid listing the valid codes", got.Unverified)
	}

	// Fixing it verifies it; nothing is left unverified.
	r = h.do("PATCH", "/api/v1/settings", adminToken, `{"newServices":{"allocationCodeId":29682802}}`,
		"Content-Type", mergePatchType, "If-Match", `"1"`)
	if got := decode[SettingsDocument](t, r); r.code != http.StatusOK || len(got.Unverified) != 0 {
		t.Fatalf("PATCH with a good code = %d, unverified %+v; want 200 and none", r.code, got.Unverified)
	}
}

func TestAlertMappings_AutotaskDownSavesUnverifiedUntilARead(t *testing.T) {
	h := newAlertsHarness(t)
	h.srv.deps.PicklistTimeout = 300 * time.Millisecond
	h.at.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/Tickets/entityInformation", ErrorRate: 1, Status: http.StatusInternalServerError})
	r := h.do(http.MethodPut, "/api/v1/alert-mappings", adminToken, `{"mappings":[{"alertType":"BackupFailed","createTicket":true,"priority":1,"queueId":8}]}`)
	if r.code != http.StatusOK {
		t.Fatalf("PUT while Autotask is down = %d, want 200: %s", r.code, r.body)
	}
	if got := decode[AlertMappings](t, r).Unverified; len(got) != 2 || got[0].AlertType != "BackupFailed" || got[0].Field != "priority" || got[1].Field != "queueId" {
		t.Fatalf("unverified = %+v, want BackupFailed priority and queueId", got)
	}
	h.at.Faults().Reset()
	h.do("GET", "/api/v1/autotask/picklists/queues?refresh=true", readToken, nil)
	if got := decode[AlertMappings](t, h.do(http.MethodGet, "/api/v1/alert-mappings", readToken, nil)).Unverified; len(got) != 0 {
		t.Fatalf("unverified after Autotask answered = %+v, want none", got)
	}
	if n := countUnverified(t, h.store); n != 0 {
		t.Fatalf("%d unverified rows left, want 0", n)
	}
}

func countUnverified(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM unverified_values`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

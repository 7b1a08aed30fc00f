package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
)

// vendorWrites lists the requests in a sandbox's log that change something:
// everything but GET, Autotask's query endpoints (POST …/query) and the
// Acronis token request.
func vendorWrites(log *sandbox.RequestLog) []string {
	var out []string
	for _, e := range log.Snapshot() {
		method, path, _ := strings.Cut(e.Endpoint, " ")
		if method == http.MethodGet || strings.Contains(path, "/query") || path == acronis.TokenPath {
			continue
		}
		out = append(out, fmt.Sprintf("%s ×%d", e.Endpoint, e.Count))
	}
	return out
}

// shadowOps is "vendor operation" of every write the shadow report lists for companyID.
func shadowOps(a *app, companyID int) []string {
	_, body := a.call("GET", "/api/v1/shadow/report?limit=100", e2eRead, "", nil)
	var out []string
	customers, _ := body["customers"].([]any)
	for _, c := range customers {
		cm, _ := c.(map[string]any)
		if fmt.Sprint(cm["companyId"]) != fmt.Sprint(companyID) {
			continue
		}
		writes, _ := cm["writes"].([]any)
		for _, w := range writes {
			wm, _ := w.(map[string]any)
			out = append(out, fmt.Sprint(wm["vendor"], " ", wm["operation"]))
		}
	}
	return out
}

func TestE2E_ShadowModeSendsNoWritesThenGoingLiveMakesThem(t *testing.T) {
	s := newStack(t, true)
	s.seed(func(doc map[string]any) {
		doc["mode"] = "shadow"
		doc["ticketCreationEnabled"] = true
		doc["syncIntervalSeconds"] = 5
		doc["tickets"] = map[string]any{"sourceId": 8, "noteTypeId": 3, "notePublishId": 2}
	})
	s.seedAlerts()
	a := s.start()

	// Contoso would be provisioned with its quotas, Litware's alert would become a ticket.
	eventually(t, 90*time.Second, "the shadow report lists the would-be writes", func() (bool, string) {
		contoso, lit := strings.Join(shadowOps(a, contoso), "; "), strings.Join(shadowOps(a, litware), "; ")
		ok := strings.Contains(contoso, "acronis POST /api/2/tenants") && strings.Contains(contoso, "acronis PUT /api/2/tenants/{id}/offering_items") &&
			strings.Contains(contoso, "acronis POST /api/2/users") && strings.Contains(lit, "autotask POST Tickets")
		return ok, "contoso: " + contoso + " | litware: " + lit
	})
	if st := status(a, contoso); st["state"] != "shadow" || st["tenantId"] != nil && st["tenantId"] != "" {
		t.Errorf("Contoso in shadow mode: state %v tenant %v; want shadow without a tenant", st["state"], st["tenantId"])
	}
	if _, ok := s.acronis.TenantByName("Contoso Ltd"); ok {
		t.Error("shadow mode created Contoso's tenant in Acronis")
	}
	if w := vendorWrites(s.acronis.RequestLog()); len(w) > 0 {
		t.Errorf("shadow mode sent writes to Acronis: %v", w)
	}
	if w := vendorWrites(s.autotask.RequestLog()); len(w) > 0 {
		t.Errorf("shadow mode sent writes to Autotask: %v", w)
	}
	if code, body := a.call("GET", "/api/v1/shadow/report?cursor=x", e2eRead, "", nil); code != 400 {
		t.Errorf("malformed cursor = %d %v, want 400", code, body["_raw"])
	}

	recorded := shadowOps(a, contoso)

	// Going live re-plans everyone: Contoso's tenant and quotas are made for real.
	_, cur := a.call("GET", "/api/v1/settings", e2eRead, "", nil)
	code, body := a.call("PATCH", "/api/v1/settings", e2eAdmin, `{"mode":"live"}`,
		map[string]string{"Content-Type": "application/merge-patch+json", "If-Match": fmt.Sprintf(`"%v"`, cur["version"])})
	if code != 200 {
		t.Fatalf("PATCH mode=live = %d %v", code, body["_raw"])
	}
	eventually(t, 90*time.Second, "Contoso provisioned once live", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "25/0", q + " " + fmt.Sprint(status(a, contoso)["state"])
	})
	live := strings.Join(vendorWrites(s.acronis.RequestLog()), "; ")
	if !strings.Contains(live, "POST /api/2/tenants") || !strings.Contains(live, "offering_items") {
		t.Errorf("live Acronis writes = %s; want the tenant and its quotas", live)
	}
	// The report named the writes live mode then made: every Acronis write
	// recorded for Contoso is among the requests Acronis got once live.
	for _, op := range recorded {
		if endpoint, ok := strings.CutPrefix(op, "acronis "); ok && !strings.Contains(live, endpoint+" ×") {
			t.Errorf("shadow mode recorded %q for Contoso, live mode never sent it (live: %s)", endpoint, live)
		}
	}
	s.recordHistories("shadow", "customer-101")
}

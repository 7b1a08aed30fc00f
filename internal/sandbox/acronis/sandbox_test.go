package acronis_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

func TestAuth_TokenAndBearer(t *testing.T) {
	h := start(t, acsandbox.Options{TokenTTL: time.Hour})
	if res, b := h.tokenRequest(h.sb.ClientID(), "wrong", "grant_type=client_credentials"); res.StatusCode != 401 || !json.Valid(b) {
		t.Errorf("wrong secret: status %d body %s, want 401 JSON", res.StatusCode, b)
	}
	if res, _ := h.tokenRequest(h.sb.ClientID(), h.sb.ClientSecret(), "grant_type=password"); res.StatusCode != 400 {
		t.Errorf("password grant: status %d, want 400", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", h.url+"/api/2/tenants/"+acsandbox.PartnerID, nil)
	if res, b := h.send(req); res.StatusCode != 401 || errCode(b) != 401 {
		t.Errorf("no bearer: status %d body %s, want 401 with an error body", res.StatusCode, b)
	}
	h.must("GET", "/api/2/tenants/"+acsandbox.PartnerID, nil, 200)
	h.clock.Add(time.Hour)
	if status, b := h.call("GET", "/api/2/tenants/"+acsandbox.PartnerID, nil); status != 401 {
		t.Errorf("expired token: status %d body %s, want 401", status, b)
	}
	h.token = h.issueToken()
	h.must("GET", "/api/2/tenants/"+acsandbox.PartnerID, nil, 200)
	if got := obj(h.must("GET", "/api/2/clients/"+h.sb.ClientID(), nil, 200))["tenant_id"]; got != acsandbox.PartnerID {
		t.Errorf("client tenant_id = %v, want %s", got, acsandbox.PartnerID)
	}
	if status, _ := h.call("GET", "/api/2/tenants/"+acsandbox.RootID, nil); status != 403 {
		t.Errorf("root tenant: status %d, want 403 (outside the client's subtree)", status)
	}
}

func TestRateLimit_429WithRetryAfter(t *testing.T) {
	h := start(t, acsandbox.Options{RequestsPerSecond: 0.5, Burst: 2})
	// The token request took one; one more fits.
	h.must("GET", "/api/2/tenants/"+acsandbox.PartnerID, nil, 200)
	req, _ := http.NewRequest("GET", h.url+"/api/2/tenants/"+acsandbox.PartnerID, nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	res, b := h.send(req)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || errCode(b) != 429 {
		t.Fatalf("over the limit: status %d Retry-After %q body %s, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"), b)
	}
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra < 1 || ra > 2 {
		t.Fatalf("Retry-After = %d, want 1–2 s at 0.5 rps", ra)
	}
}

func TestTenants_VersionChecks(t *testing.T) {
	h := start(t, acsandbox.Options{})
	path := "/api/2/tenants/" + acsandbox.LitwareID
	status, b := h.call("PUT", path, map[string]any{"version": 7, "name": "Litware"})
	if status != 409 || errCode(b) != 1001 {
		t.Fatalf("stale version: status %d body %s, want 409 code 1001", status, b)
	}
	if status, _ := h.call("PUT", path, map[string]any{"name": "Litware"}); status != 400 {
		t.Fatalf("no version: status %d, want 400", status)
	}
	got := obj(h.must("PUT", path, map[string]any{"version": 1, "enabled": false}, 200))
	if got["version"] != 2.0 || got["enabled"] != false {
		t.Fatalf("disable: %v, want version 2 enabled false", got)
	}
	if status, b := h.call("DELETE", path+"?version=1", nil); status != 409 || errCode(b) != 1001 {
		t.Fatalf("delete with stale version: status %d body %s, want 409 1001", status, b)
	}
	h.must("DELETE", path+"?version=2", nil, 204)
	if status, b := h.call("GET", path, nil); status != 404 || errCode(b) != 1005 {
		t.Fatalf("deleted tenant: status %d body %s, want 404 1005", status, b)
	}
	if n := len(h.sb.Alerts(acsandbox.LitwareID)); n != 5 {
		t.Fatalf("alerts of a deleted tenant in the store = %d, want them kept (5)", n)
	}
	if status, _ := h.call("GET", "/api/alert_manager/v1/alerts", nil); status != 200 {
		t.Fatalf("alerts after delete: status %d", status)
	}
}

func TestTenants_CreateRules(t *testing.T) {
	h := start(t, acsandbox.Options{})
	body := func(name, kind, parent string) map[string]any {
		return map[string]any{"name": name, "kind": kind, "parent_id": parent}
	}
	got := obj(h.must("POST", "/api/2/tenants", body("Contoso Ltd", "customer", acsandbox.PartnerID), 201))
	if got["pricing_mode"] != "trial" || got["version"] != 1.0 || got["ancestral_access"] != true {
		t.Fatalf("created = %v, want trial, version 1, ancestral access", got)
	}
	for _, tc := range []struct {
		body   map[string]any
		status int
		code   float64
	}{
		{body("contoso ltd", "customer", acsandbox.PartnerID), 409, 1004},
		{body("Unit", "unit", acsandbox.PartnerID), 400, 400},
		{body("Sub", "customer", acsandbox.LitwareID), 400, 400},
		{body("", "customer", acsandbox.PartnerID), 400, 400},
	} {
		status, b := h.call("POST", "/api/2/tenants", tc.body)
		if status != tc.status || errCode(b) != tc.code {
			t.Errorf("POST %v: status %d code %v, want %d %v", tc.body, status, errCode(b), tc.status, tc.code)
		}
	}
	req, _ := http.NewRequest("POST", h.url+"/api/2/tenants", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if res, _ := h.send(req); res.StatusCode != 415 {
		t.Errorf("POST without Content-Type: status %d, want 415", res.StatusCode)
	}
	pr := obj(h.must("GET", "/api/2/tenants/"+got["id"].(string)+"/pricing", nil, 200))
	h.must("PUT", "/api/2/tenants/"+got["id"].(string)+"/pricing", map[string]any{"mode": "production", "version": pr["version"]}, 200)
	pr = obj(h.must("GET", "/api/2/tenants/"+got["id"].(string)+"/pricing", nil, 200))
	if status, b := h.call("PUT", "/api/2/tenants/"+got["id"].(string)+"/pricing", map[string]any{"mode": "trial", "version": pr["version"]}); status != 400 {
		t.Errorf("production → trial: status %d body %s, want 400", status, b)
	}
}

func TestOfferingItems_Rules(t *testing.T) {
	h := start(t, acsandbox.Options{})
	path := "/api/2/tenants/" + acsandbox.WoodgroveRetailID + "/offering_items"
	put := func(items ...map[string]any) (int, []byte) {
		return h.call("PUT", path, map[string]any{"offering_items": items})
	}
	item := func(name string, status int, quota map[string]any) map[string]any {
		m := map[string]any{"application_id": acsandbox.CyberProtectionAppID, "name": name, "status": status}
		if quota != nil {
			m["quota"] = quota
		}
		return m
	}
	// Woodgrove (the parent) has no M365 seats: its customer cannot get them.
	if status, b := put(item("pw_base_m365_seats", 1, nil)); status != 400 || errCode(b) != 1021 {
		t.Errorf("item the parent lacks: status %d body %s, want 400 1021", status, b)
	}
	// Only one storage per customer.
	second := item("pw_base_storage", 1, nil)
	second["infra_id"] = acsandbox.SecondaryStorageID
	if status, b := put(second); status != 400 {
		t.Errorf("second storage: status %d body %s, want 400", status, b)
	}
	// Quota versions: 0 for a never-set quota, +1 per change, 0 again when unlimited.
	ans := items(h.must("PUT", path, map[string]any{"offering_items": []any{item("pw_base_servers", 1, map[string]any{"value": 4, "overage": 0, "version": 0})}}, 200))
	if q := obj(obj(ans[0])["quota"]); q["version"] != 1.0 || q["value"] != 4.0 {
		t.Fatalf("quota after first set = %v, want value 4 version 1", q)
	}
	if status, b := put(item("pw_base_servers", 1, map[string]any{"value": 5, "overage": 0, "version": 0})); status != 426 {
		t.Fatalf("stale quota version: status %d body %s, want 426", status, b)
	}
	ans = items(h.must("PUT", path, map[string]any{"offering_items": []any{item("pw_base_servers", 1, map[string]any{"value": nil, "overage": nil, "version": 1})}}, 200))
	if q := obj(obj(ans[0])["quota"]); q["version"] != 0.0 || q["value"] != nil {
		t.Fatalf("quota after unlimited = %v, want value null version 0", q)
	}
	// Disabled items carry no quota.
	ans = items(h.must("PUT", path, map[string]any{"offering_items": []any{item("pw_base_servers", 0, nil)}}, 200))
	if _, ok := obj(ans[0])["quota"]; ok || obj(ans[0])["status"] != 0.0 {
		t.Fatalf("disabled item = %v, want status 0 without quota", ans[0])
	}
	// Default edition filter is the legacy "standard": none of the pck items.
	for _, it := range items(h.must("GET", path, nil, 200)) {
		if obj(it)["edition"] != nil {
			t.Errorf("default edition filter returned %v", obj(it)["name"])
		}
	}
}

func TestAlerts_FiltersOrderAndPaging(t *testing.T) {
	h := start(t, acsandbox.Options{})
	got := items(h.must("GET", "/api/alert_manager/v1/alerts?severity=ge(error)", nil, 200))
	if len(got) != 2 {
		t.Fatalf("severity ge(error) = %d alerts, want 2 (error, critical)", len(got))
	}
	all := items(h.must("GET", "/api/alert_manager/v1/alerts?show_deleted=true&order=desc(created_at)", nil, 200))
	if len(all) != 5 || obj(all[0])["id"] != acsandbox.AlertMalwareID || obj(all[4])["id"] != acsandbox.AlertDismissedID {
		t.Fatalf("desc(created_at) with deleted = %d alerts, first %v last %v", len(all), obj(all[0])["id"], obj(all[len(all)-1])["id"])
	}
	if _, ok := obj(all[4])["deletedAt"]; !ok {
		t.Errorf("dismissed alert has no deletedAt: %v", all[4])
	}
	if n := len(items(h.must("GET", "/api/alert_manager/v1/alerts?tenant=or("+acsandbox.ProsewareID+","+acsandbox.WoodgroveID+")", nil, 200))); n != 0 {
		t.Errorf("alerts of Proseware or Woodgrove = %d, want 0", n)
	}
	var ids []string
	q := "/api/alert_manager/v1/alerts?limit=3&show_deleted=true"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		p := obj(h.must("GET", q, nil, 200))
		for _, a := range items(p) {
			ids = append(ids, obj(a)["id"].(string))
		}
		after, _ := obj(obj(p["paging"])["cursors"])["after"].(string)
		if after == "" {
			break
		}
		q = "/api/alert_manager/v1/alerts?limit=3&after=" + after
	}
	if len(ids) != 5 {
		t.Fatalf("paged ids = %v, want 5", ids)
	}
	upd, _ := time.Parse(time.RFC3339Nano, obj(all[0])["updatedAt"].(string))
	if n := len(items(h.must("GET", fmt.Sprintf("/api/alert_manager/v1/alerts?updated_at=gt(%d)", upd.UnixNano()), nil, 200))); n != 0 {
		t.Fatalf("updated after the newest = %d, want 0", n)
	}
	h.must("DELETE", "/api/alert_manager/v1/alerts/"+acsandbox.AlertMalwareID, nil, 204)
	if n := len(items(h.must("GET", fmt.Sprintf("/api/alert_manager/v1/alerts?updated_at=gt(%d)&show_deleted=true", upd.UnixNano()), nil, 200))); n != 1 {
		t.Fatalf("updated after dismissal = %d, want the dismissed one even with a standing clock", n)
	}
	if status, _ := h.call("DELETE", "/api/alert_manager/v1/alerts/00000000-0000-0000-0000-000000000000", nil); status != 404 {
		t.Errorf("dismiss unknown: status %d, want 404", status)
	}
}

func TestControls_DriveStateOverHTTP(t *testing.T) {
	h := start(t, acsandbox.Options{})
	h.sb.RequestLog().Reset()
	status, b := h.control("POST", "alerts", map[string]any{"tenant_name": "Proseware Inc", "type": "BackupFailed"})
	if status != 201 {
		t.Fatalf("raise: status %d %s", status, b)
	}
	var raised struct{ ID string }
	_ = json.Unmarshal(b, &raised)
	a := obj(h.must("GET", "/api/alert_manager/v1/alerts/"+raised.ID, nil, 200))
	if a["severity"] != "error" || obj(a["tenant"])["uuid"] != acsandbox.ProsewareID {
		t.Fatalf("raised alert = %v, want error on Proseware", a)
	}
	if status, _ := h.control("DELETE", "alerts/"+raised.ID, nil); status != 204 {
		t.Fatalf("clear: status %d", status)
	}
	if status, b := h.control("PUT", "usages", map[string]any{"tenant_id": acsandbox.LitwareID, "name": "pw_base_servers", "value": 3, "absolute_value": 4}); status != 204 {
		t.Fatalf("set usage: status %d %s", status, b)
	}
	if it, err := h.sb.OfferingItem(acsandbox.LitwareID, "pw_base_servers", ""); err != nil || it.Usage != 3 || it.AbsoluteUsage != 4 {
		t.Fatalf("usage = %+v, %v; want 3/4", it, err)
	}
	if status, b := h.control("PUT", "quotas", map[string]any{"tenant_id": acsandbox.LitwareID, "name": "pw_base_servers", "value": 2, "overage": 0}); status != 204 {
		t.Fatalf("set quota: status %d %s", status, b)
	}
	if it, _ := h.sb.OfferingItem(acsandbox.LitwareID, "pw_base_servers", ""); it.Quota == nil || *it.Quota != 2 || it.Version != 2 {
		t.Fatalf("quota = %+v, want 2 at version 2", it)
	}
	status, b = h.control("GET", "tenants?name=litware%20inc", nil)
	var ti acsandbox.TenantInfo
	if _ = json.Unmarshal(b, &ti); status != 200 || ti.ID != acsandbox.LitwareID {
		t.Fatalf("tenant by name: status %d %s", status, b)
	}
	if status, _ := h.control("PUT", "tenants/"+acsandbox.LitwareID+"/access", map[string]any{"support_access": false}); status != 204 {
		t.Fatalf("access: status %d", status)
	}
	if status, _ := h.call("GET", "/api/2/tenants/"+acsandbox.LitwareID+"/users", nil); status != 403 {
		t.Fatalf("users without support access: status %d, want 403", status)
	}
	status, b = h.control("GET", "stats", nil)
	var st map[string]int
	if _ = json.Unmarshal(b, &st); status != 200 || st["customers"] != 5 || st["partners"] != 1 || st["active_alerts"] != 4 {
		t.Fatalf("stats = %s, want 5 customers, 1 partner, 4 active alerts", b)
	}
	h.control("POST", "tokens/expire", nil)
	if status, _ := h.call("GET", "/api/2/tenants/"+acsandbox.PartnerID, nil); status != 401 {
		t.Fatalf("after tokens/expire: status %d, want 401", status)
	}
	if got, want := h.sb.RequestLog().Total(), int64(3); got != want {
		t.Fatalf("request log counted %d API calls, want %d (controls are not counted)", got, want)
	}
}

func TestGenerated_DeterministicAndSmall(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	a, err := acsandbox.New(acsandbox.Options{Dataset: "generated", Companies: 10000, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := a.CountTenants("customer"); n != 10000 {
		t.Fatalf("customers = %d, want 10000", n)
	}
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 100<<20 {
		t.Fatalf("10,000 tenants take %d MiB, want < 100", grown>>20)
	}
	t.Logf("generating 10,000 tenants took %v", elapsed)
	b, _ := acsandbox.New(acsandbox.Options{Dataset: "generated", Companies: 50, Seed: 42})
	for _, i := range []int{0, 17, 49} {
		ia, _ := a.OfferingItems(acsandbox.GeneratedTenantID(i))
		ib, _ := b.OfferingItems(acsandbox.GeneratedTenantID(i))
		if !reflect.DeepEqual(ia, ib) || len(ia) == 0 {
			t.Fatalf("tenant %d differs between runs with one seed:\n%v\n%v", i, ia, ib)
		}
	}
	if ti, ok := a.TenantByName(acsandbox.GeneratedTenantName(9999)); !ok || ti.ID != acsandbox.GeneratedTenantID(9999) {
		t.Fatalf("TenantByName(%s) = %+v, %v", acsandbox.GeneratedTenantName(9999), ti, ok)
	}
}

func TestConcurrent_CreatesAndReads(t *testing.T) {
	h := start(t, acsandbox.Options{RequestsPerSecond: -1})
	var wg sync.WaitGroup
	created := make(chan int, 40)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				// Two goroutines race for each name; exactly one may win.
				status, _ := h.call("POST", "/api/2/tenants", map[string]any{"name": fmt.Sprintf("Race %d", (g/2)*5+i), "kind": "customer", "parent_id": acsandbox.PartnerID})
				created <- status
				h.call("GET", "/api/2/tenants?parent_id="+acsandbox.PartnerID, nil)
			}
		}(g)
	}
	wg.Wait()
	close(created)
	ok, conflict := 0, 0
	for s := range created {
		switch s {
		case 201:
			ok++
		case 409:
			conflict++
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if ok != 20 || conflict != 20 || h.sb.CountTenants("customer") != 25 {
		t.Fatalf("created %d conflicts %d customers %d, want 20, 20, 25", ok, conflict, h.sb.CountTenants("customer"))
	}
}

package server

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// withStoreReads wires the store as the audit log, stats source and usage
// ledger of a harness (newHarness leaves them out).
func withStoreReads(h *harness) *harness {
	h.srv.deps.Audit, h.srv.deps.Stats, h.srv.deps.Usage = h.store, h.store, h.store
	return h
}

// auditPage reads one page of the audit log.
func (h *harness) auditPage(query string) AuditPage {
	h.t.Helper()
	r := h.do("GET", "/api/v1/audit"+query, readToken, nil)
	if r.code != 200 {
		h.t.Fatalf("GET /api/v1/audit%s = %d %s", query, r.code, r.body)
	}
	return decode[AuditPage](h.t, r)
}

func kinds(p AuditPage) []string {
	out := []string{}
	for _, e := range p.Items {
		out = append(out, e.Kind)
	}
	return out
}

func TestAudit_AdminChangesThroughTheAPIAreAuditedWithTheTokenName(t *testing.T) {
	h := withStoreReads(newHarness(t))
	if r := h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{"billingEnabled":true}}`, "If-Match", `"0"`); r.code != 200 {
		t.Fatalf("PUT settings = %d %s", r.code, r.body)
	}
	const secret = "Audit-S3cret-value"
	if r := h.do("PUT", "/api/v1/connections/autotask", adminToken, AutotaskConnection{Username: "api@msp.example", Secret: secret, IntegrationCode: "CODE"}); r.code != 200 {
		t.Fatalf("PUT connection = %d %s", r.code, r.body)
	}
	page := h.auditPage("")
	if got, want := kinds(page), []string{store.KindCredentialUpdate, store.KindSettingsUpdate}; !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v, want %v (newest first)", got, want)
	}
	for _, e := range page.Items {
		if e.Actor != "ops" || e.System != store.SystemAdmin || e.RequestID == "" || e.Reason == "" || e.After == nil {
			t.Errorf("entry %s = %+v, want actor ops with request id, reason and after", e.Kind, e)
		}
	}
	if r := h.do("GET", "/api/v1/audit", readToken, nil); strings.Contains(string(r.body), secret) {
		t.Fatalf("the audit log shows a secret: %s", r.body)
	}
}

func TestAudit_FiltersAndPagesWithACursor(t *testing.T) {
	h := withStoreReads(newHarness(t))
	ctx := context.Background()
	c101, c102, tenant := int64(101), int64(102), "tenant-a"
	add := func(e store.AuditEntry) {
		t.Helper()
		if err := h.store.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		add(store.AuditEntry{Actor: "provisioning", Kind: "acronis.tenant.update", System: "acronis", CompanyID: &c101, TenantID: &tenant,
			Target: fmt.Sprintf("tenant:%d", i), Reason: "quota"})
	}
	add(store.AuditEntry{Actor: "usage-report", Kind: "autotask.contract_service.usage_adjustment", System: "autotask", CompanyID: &c102})
	add(store.AuditEntry{Actor: "ops", Kind: "acronisx.other", System: "admin"})

	// Keyset paging: five entries of company 101 in pages of two, no repeats, newest first.
	var targets []string
	cursor := ""
	for pages := 0; ; pages++ {
		q := "?companyId=101&limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		p := h.auditPage(q)
		for _, e := range p.Items {
			targets = append(targets, e.Target)
			if *e.CompanyID != 101 || *e.TenantID != tenant {
				t.Fatalf("entry of another company: %+v", e)
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			if pages != 2 {
				t.Fatalf("%d pages, want 3", pages+1)
			}
			break
		}
	}
	if want := []string{"tenant:4", "tenant:3", "tenant:2", "tenant:1", "tenant:0"}; !reflect.DeepEqual(targets, want) {
		t.Fatalf("targets = %v, want %v", targets, want)
	}

	if got := kinds(h.auditPage("?kind=acronis")); len(got) != 5 {
		t.Errorf("kind=acronis = %v, want the 5 acronis.* entries (not acronisx)", got)
	}
	if got := kinds(h.auditPage("?kind=autotask.contract_service&system=autotask")); !reflect.DeepEqual(got, []string{"autotask.contract_service.usage_adjustment"}) {
		t.Errorf("kind prefix = %v", got)
	}
	if got := h.auditPage("?tenantId=" + tenant + "&limit=500"); len(got.Items) != 5 || got.NextCursor != "" {
		t.Errorf("tenantId = %d items, cursor %q", len(got.Items), got.NextCursor)
	}
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	if got := h.auditPage("?from=" + tomorrow); len(got.Items) != 0 {
		t.Errorf("from tomorrow = %v", kinds(got))
	}
	if got := h.auditPage("?to=" + tomorrow + "&from=2020-01-01T00:00:00Z"); len(got.Items) != 7 {
		t.Errorf("from 2020 to tomorrow = %d entries, want 7", len(got.Items))
	}
}

func TestAudit_BadParametersAreNamed(t *testing.T) {
	h := withStoreReads(newHarness(t))
	wantFields(t, h.do("GET", "/api/v1/audit?companyId=abc&from=yesterday&to=2026-13-01&limit=0&system=mail&kind=a%25b", readToken, nil),
		"companyId", "from", "kind", "limit", "system", "to")
	wantFields(t, h.do("GET", "/api/v1/audit?from=2026-11-02&to=2026-11-01", readToken, nil), "to")
	wantFields(t, h.do("GET", "/api/v1/audit?cursor=not-a-cursor", readToken, nil), "cursor")
}

func TestAudit_ServiceMappingChangesCarryTheTokenName(t *testing.T) {
	cw, _ := syncRecorder(t)
	h := newAPIHarness(t, cw)
	withStoreReads(h.harness)
	put := func(items ...ServiceMappingInput) {
		t.Helper()
		if items == nil {
			items = []ServiceMappingInput{} // an empty list removes every mapping
		}
		if r := h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: items}); r.code != 200 {
			t.Fatalf("PUT service mappings = %d %s", r.code, r.body)
		}
	}
	put(ServiceMappingInput{OfferingItem: "pw_base_workstations", ServiceID: ptr(atsandbox.ServiceWorkstations)})
	put()
	page := h.auditPage("?kind=mapping.service")
	if got, want := kinds(page), []string{store.KindServiceMappingDelete, store.KindServiceMappingUpsert}; !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	for _, e := range page.Items {
		if e.Actor != "ops" || e.RequestID == "" {
			t.Errorf("%s by %q (request %q), want ops", e.Kind, e.Actor, e.RequestID)
		}
	}
}

func TestAudit_CustomerMappingThroughTemporalCarriesTheTokenName(t *testing.T) {
	h := withTemporal(t)
	withStoreReads(h.harness)
	wantMessage(t, mapConfirmed(t, h, 107, acsandbox.LitwareID), 200, "mapped to tenant")
	if r := h.do("DELETE", "/api/v1/customers/107/mapping", adminToken, ActionBody{Reason: "wrong tenant"}); r.code != 200 {
		t.Fatalf("DELETE mapping = %d %s", r.code, r.body)
	}
	page := h.auditPage("?companyId=107&kind=mapping.customer")
	if got, want := kinds(page), []string{store.KindCustomerMappingDelete, store.KindCustomerMappingCreate}; !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	del, create := page.Items[0], page.Items[1]
	if del.Actor != "ops" || !strings.HasPrefix(del.Reason, "wrong tenant; mapping removed") || !strings.Contains(del.Reason, "leaves it exactly as it is") || del.Before == nil || *del.TenantID != acsandbox.LitwareID {
		t.Errorf("unmap entry = %+v", del)
	}
	if create.Actor != "ops" || create.After == nil || create.After["tenantId"] != acsandbox.LitwareID {
		t.Errorf("map entry = %+v", create)
	}
}

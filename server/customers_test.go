package server

import (
	"context"
	"reflect"
	"strings"
	"testing"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

func companyIDs(l CustomerList) []int64 {
	out := []int64{}
	for _, it := range l.Items {
		out = append(out, it.CompanyID)
	}
	return out
}

func mapCompany(t *testing.T, h *apiHarness, companyID int64, tenantID string) {
	t.Helper()
	if _, err := h.store.MapCustomer(context.Background(), store.CustomerMapping{CompanyID: companyID, TenantID: tenantID}, store.Actor{Name: "test"}); err != nil {
		t.Fatalf("map %d: %v", companyID, err)
	}
}

func TestCustomers_ListFiltersPagesAndJoinsMappings(t *testing.T) {
	h := newAPIHarness(t, nil)
	mapCompany(t, h, 101, "tenant-of-contoso")
	mapCompany(t, h, 107, acsandbox.LitwareID)
	if err := h.store.SetCustomerState(context.Background(), 101, "error", "apply quotas: boom"); err != nil {
		t.Fatal(err)
	}
	list := func(query string) CustomerList {
		t.Helper()
		r := h.do("GET", "/api/v1/customers"+query, readToken, nil)
		if r.code != 200 {
			t.Fatalf("GET %s = %d %s", query, r.code, r.body)
		}
		return decode[CustomerList](t, r)
	}
	for _, tc := range []struct {
		query   string
		want    []int64
		hasMore bool
	}{
		{"", []int64{0, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110}, false},
		{"?pageSize=4", []int64{0, 101, 102, 103}, true},
		{"?pageSize=4&page=3", []int64{108, 109, 110}, false},
		{"?type=Customer&pageSize=3&page=2", []int64{104, 105, 106}, true},
		{"?type=Partner", []int64{0}, false},
		{"?type=1&q=wood", []int64{109}, false},
		{"?mapped=mapped", []int64{101, 107}, false},
		{"?mapped=unmapped&type=customer&pageSize=3", []int64{102, 103, 104}, true},
		{"?mapped=unmapped&q=Inc", []int64{102, 108}, false},
		{"?q=nobody", []int64{}, false},
	} {
		got := list(tc.query)
		if ids := companyIDs(got); !reflect.DeepEqual(ids, tc.want) || got.HasMore != tc.hasMore {
			t.Errorf("%s: ids %v hasMore %v, want %v %v", tc.query, ids, got.HasMore, tc.want, tc.hasMore)
		}
	}
	got := list("?mapped=mapped")
	m := got.Items[0].Mapping
	if got.Items[0].CompanyName != "Contoso Ltd" || got.Items[0].CompanyType != "Customer" || m == nil ||
		m.TenantID != "tenant-of-contoso" || m.How != "manual" || m.State != "error" || m.LastError != "apply quotas: boom" {
		t.Fatalf("mapped company = %+v mapping %+v", got.Items[0], m)
	}
	if got := list("?mapped=unmapped"); got.Items[0].Mapping != nil {
		t.Fatalf("unmapped company has a mapping: %+v", got.Items[0])
	}
	wantFields(t, h.do("GET", "/api/v1/customers?mapped=maybe&page=0&pageSize=9999&type=Martian", readToken, nil),
		"mapped", "page", "pageSize", "type")
}

func TestTenants_ListUnderPartnerWithMappingAndManageability(t *testing.T) {
	h := newAPIHarness(t, nil)
	mapCompany(t, h, 107, acsandbox.LitwareID)
	r := h.do("GET", "/api/v1/acronis/tenants", readToken, nil)
	if r.code != 200 {
		t.Fatalf("GET = %d %s", r.code, r.body)
	}
	got := decode[AcronisTenants](t, r)
	byID := map[string]AcronisTenant{}
	for _, tn := range got.Items {
		byID[tn.ID] = tn
	}
	for _, id := range []string{acsandbox.LitwareID, acsandbox.ProsewareID, acsandbox.WoodgroveID, acsandbox.WoodgroveRetailID, acsandbox.WoodgroveWealthID, acsandbox.FourthCoffeeID} {
		if _, ok := byID[id]; !ok {
			t.Errorf("tenant %s missing from %+v", id, got.Items)
		}
	}
	if _, ok := byID[acsandbox.PartnerID]; ok {
		t.Error("the partner itself is listed")
	}
	if lw := byID[acsandbox.LitwareID]; !lw.Manageable || lw.MappedCompanyID == nil || *lw.MappedCompanyID != 107 || lw.Kind != "customer" {
		t.Errorf("Litware = %+v", lw)
	}
	if pw := byID[acsandbox.ProsewareID]; pw.Manageable || !pw.SelfService || pw.MappedCompanyID != nil {
		t.Errorf("Proseware = %+v", pw)
	}
	if wg := byID[acsandbox.WoodgroveID]; wg.Kind != "partner" {
		t.Errorf("Woodgrove = %+v", wg)
	}
	got = decode[AcronisTenants](t, h.do("GET", "/api/v1/acronis/tenants?q=WOODGROVE", readToken, nil))
	if len(got.Items) != 3 {
		t.Fatalf("q=WOODGROVE = %+v, want the sub-partner and its two customers", got.Items)
	}
	wantFields(t, h.do("GET", "/api/v1/acronis/tenants?q="+strings.Repeat("a", 101), readToken, nil), "q")
}

func TestOpenAPI_DocumentsTheCustomerListParameters(t *testing.T) {
	h := newHarness(t)
	op := h.srv.openapi.Paths.Find("/api/v1/customers").Get
	var names []string
	for _, p := range op.Parameters {
		names = append(names, p.Value.In+":"+p.Value.Name)
	}
	if want := []string{"query:mapped", "query:type", "query:q", "query:page", "query:pageSize"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("parameters = %v, want %v", names, want)
	}
	if op := h.srv.openapi.Paths.Find("/api/v1/customers/{companyID}/mapping").Put; op.RequestBody == nil || op.Responses.Status(422) == nil {
		t.Fatalf("mapping operation lacks its body or 422 answer: %+v", op)
	}
}

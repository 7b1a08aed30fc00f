package server

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

type ignoreSnapshots struct{}

func (ignoreSnapshots) NotifyContracts(context.Context, company.Snapshot) error { return nil }

func (ignoreSnapshots) Replan(context.Context, int64, string) error { return nil }

// fillReadModel runs the real contract sync and tenant sync activities
// against the sandboxes, as the worker would, then clears both sandboxes'
// request logs so a test sees only the requests its own calls cause.
func fillReadModel(t *testing.T, h *apiHarness) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	cs := &activities.ContractSync{
		Autotask:  func(ctx context.Context) (*autotask.Client, error) { return h.vendors.Autotask(ctx) },
		Store:     h.store,
		Customers: ignoreSnapshots{},
	}
	ts := &activities.TenantSync{
		Acronis: func(ctx context.Context) (activities.TenantSyncAcronis, error) { return h.vendors.Acronis(ctx) },
		Store:   h.store,
	}
	env.RegisterActivity(cs)
	env.RegisterActivity(ts)
	if _, err := env.ExecuteActivity(cs.SyncContracts, activities.SyncCursor{}); err != nil {
		t.Fatalf("contract sync: %v", err)
	}
	if _, err := env.ExecuteActivity(ts.SyncTenants, int64(1)); err != nil {
		t.Fatalf("tenant sync: %v", err)
	}
	h.at.RequestLog().Reset()
	h.ac.RequestLog().Reset()
}

// noVendorRequests fails when either sandbox was called since the last reset.
func noVendorRequests(t *testing.T, h *apiHarness) {
	t.Helper()
	if n := h.at.RequestLog().Total(); n != 0 {
		t.Errorf("Autotask requests = %d (%v), want 0: lists read the read model", n, h.at.RequestLog().Snapshot())
	}
	if n := h.ac.RequestLog().Total(); n != 0 {
		t.Errorf("Acronis requests = %d (%v), want 0: lists read the read model", n, h.ac.RequestLog().Snapshot())
	}
}

func TestCustomers_ListFiltersPagesAndJoinsMappingsWithoutVendorRequests(t *testing.T) {
	h := newAPIHarness(t, nil)
	fillReadModel(t, h)
	mapCompany(t, h, 101, "tenant-of-contoso")
	mapCompany(t, h, 107, acsandbox.LitwareID)
	mapCompany(t, h, 108, acsandbox.ProsewareID)
	if err := h.store.SetCustomerState(context.Background(), 101, "error", "apply quotas: boom"); err != nil {
		t.Fatal(err)
	}
	if err := h.store.SetCustomerState(context.Background(), 107, "deprovisioning", ""); err != nil {
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
		total   int
		hasMore bool
	}{
		{"?sort=id", []int64{0, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110}, 11, false},
		{"?sort=id&pageSize=4", []int64{0, 101, 102, 103}, 11, true},
		{"?sort=id&pageSize=4&page=3", []int64{108, 109, 110}, 11, false},
		{"?sort=-id&pageSize=2", []int64{110, 109}, 11, true},
		{"?pageSize=3", []int64{0, 106, 110}, 11, true}, // by name: Acronis Autotask Demo MSP, Adventure Works, Blue Yonder Airlines
		{"?type=Customer&sort=id&pageSize=3&page=2", []int64{104, 105, 106}, 10, true},
		{"?type=Partner", []int64{0}, 1, false},
		{"?type=1&q=wood", []int64{109}, 1, false},
		{"?mapped=mapped&sort=id", []int64{101, 107, 108}, 3, false},
		{"?filter=unmapped&type=customer&sort=id&pageSize=3", []int64{102, 103, 104}, 7, true},
		{"?filter=unmapped&q=Inc", []int64{102}, 1, false},
		{"?filter=error", []int64{101}, 1, false},
		{"?filter=invalid", []int64{108}, 1, false}, // Proseware is self-service
		{"?filter=missing", []int64{101}, 1, false}, // no such tenant
		{"?filter=deprovisioning", []int64{107}, 1, false},
		{"?q=nobody", []int64{}, 0, false},
		{"?q=50%25", []int64{}, 0, false},
	} {
		got := list(tc.query)
		if ids := companyIDs(got); !reflect.DeepEqual(ids, tc.want) || got.HasMore != tc.hasMore || got.Total != tc.total {
			t.Errorf("%s: ids %v total %d hasMore %v, want %v %d %v", tc.query, ids, got.Total, got.HasMore, tc.want, tc.total, tc.hasMore)
		}
	}
	got := list("?mapped=mapped&sort=id")
	m := got.Items[0].Mapping
	if got.Items[0].CompanyName != "Contoso Ltd" || got.Items[0].CompanyType != "Customer" || m == nil ||
		m.TenantID != "tenant-of-contoso" || m.How != "manual" || m.State != "error" || m.LastError != "apply quotas: boom" || m.Health != "missing" {
		t.Fatalf("mapped company = %+v mapping %+v", got.Items[0], m)
	}
	if lw := got.Items[1]; lw.Mapping.Health != "ok" || lw.Mapping.TenantName != acsandbox.LitwareName || lw.EligibleContracts != 1 ||
		lw.PrimaryContact == nil || lw.PrimaryContact.Email != "grace.hall@litware.example" {
		t.Errorf("Litware = %+v mapping %+v", lw, lw.Mapping)
	}
	if pw := got.Items[2].Mapping; pw.Health != "invalid" || !strings.Contains(pw.HealthReason, "self-service") {
		t.Errorf("Proseware mapping = %+v, want invalid because self-service", pw)
	}
	unmapped := list("?filter=unmapped&q=woodgrove")
	if len(unmapped.Items) != 1 || unmapped.Items[0].Mapping != nil || len(unmapped.Items[0].Suggestions) == 0 ||
		unmapped.Items[0].Suggestions[0].TenantID != acsandbox.WoodgroveID {
		t.Fatalf("unmapped Woodgrove Bank = %+v, want the Woodgrove Bank tenant suggested", unmapped.Items)
	}
	if list("?filter=unmapped&q=woodgrove&suggestions=false").Items[0].Suggestions != nil {
		t.Error("suggestions=false still lists suggestions")
	}
	noVendorRequests(t, h)
	wantFields(t, h.do("GET", "/api/v1/customers?filter=maybe&page=0&pageSize=9999&type=Martian&sort=size", readToken, nil),
		"filter", "page", "pageSize", "sort", "type")
}

func TestCustomers_ListSeesRenamesAndDeactivationsAfterTheNextSync(t *testing.T) {
	h := newAPIHarness(t, nil)
	fillReadModel(t, h)
	mapCompany(t, h, 107, acsandbox.LitwareID)
	if err := h.at.RenameCompany(107, "Litware International"); err != nil {
		t.Fatal(err)
	}
	// Before the next company poll the list still shows the old name.
	if got := decode[CustomerList](t, h.do("GET", "/api/v1/customers?q=litware", readToken, nil)); got.Items[0].CompanyName != "Litware Inc" {
		t.Fatalf("before the sync: %+v", got.Items[0])
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	cs := &activities.ContractSync{Autotask: func(ctx context.Context) (*autotask.Client, error) { return h.vendors.Autotask(ctx) },
		Store: h.store, Customers: ignoreSnapshots{}}
	env.RegisterActivity(cs)
	v, err := env.ExecuteActivity(cs.SyncContracts, activities.SyncCursor{})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.SyncResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	// A later poll reads only what changed since the cursor.
	cur := res.Cursor
	cur.PollNow = true
	cur.CompaniesPolled = time.Time{}
	if _, err := env.ExecuteActivity(cs.SyncContracts, cur); err != nil {
		t.Fatal(err)
	}
	got := decode[CustomerList](t, h.do("GET", "/api/v1/customers?q=litware", readToken, nil))
	if it := got.Items[0]; it.CompanyName != "Litware International" || it.Mapping.Health != "renamed" ||
		!strings.Contains(it.Mapping.HealthReason, "Litware Inc") {
		t.Fatalf("after the sync: %+v mapping %+v, want renamed", it, it.Mapping)
	}
}

func TestTenants_ListFromTheReadModelWithMappingAndManageability(t *testing.T) {
	h := newAPIHarness(t, nil)
	fillReadModel(t, h)
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
	if lw := byID[acsandbox.LitwareID]; !lw.Manageable || lw.MappedCompanyID == nil || *lw.MappedCompanyID != 107 || lw.Kind != "customer" ||
		lw.MappedCompanyName != "Litware Inc" || lw.ContactEmail != "grace.hall@litware.example" {
		t.Errorf("Litware = %+v", lw)
	}
	if pw := byID[acsandbox.ProsewareID]; pw.Manageable || !pw.SelfService || pw.MappedCompanyID != nil {
		t.Errorf("Proseware = %+v", pw)
	}
	if wg := byID[acsandbox.WoodgroveID]; wg.Kind != "partner" {
		t.Errorf("Woodgrove = %+v", wg)
	}
	got = decode[AcronisTenants](t, h.do("GET", "/api/v1/acronis/tenants?q=WOODGROVE", readToken, nil))
	if len(got.Items) != 3 || got.Total != 3 {
		t.Fatalf("q=WOODGROVE = %+v, want the sub-partner and its two customers", got.Items)
	}
	got = decode[AcronisTenants](t, h.do("GET", "/api/v1/acronis/tenants?filter=mappable&kind=customer&pageSize=2&sort=-name", readToken, nil))
	var names []string
	for _, tn := range got.Items {
		names = append(names, tn.Name)
	}
	// Fourth Coffee refuses support access (probed by the tenant sync), Proseware is self-service, Litware is mapped.
	if want := []string{acsandbox.WoodgroveWealth, acsandbox.WoodgroveRetail}; !reflect.DeepEqual(names, want) || got.HasMore || got.Total != 2 {
		t.Errorf("mappable customers, by name descending = %v total %d hasMore %v, want %v and no more", names, got.Total, got.HasMore, want)
	}
	if fc := byID[acsandbox.FourthCoffeeID]; fc.Manageable || fc.SupportAccess == nil || *fc.SupportAccess {
		t.Errorf("Fourth Coffee = %+v, want not manageable: support access refused", fc)
	}
	noVendorRequests(t, h)
	wantFields(t, h.do("GET", "/api/v1/acronis/tenants?q="+strings.Repeat("a", 101)+"&filter=x&kind=folder", readToken, nil), "filter", "kind", "q")
}

func TestSuggestions_RankTheLikelyTenantsWithReasons(t *testing.T) {
	h := newAPIHarness(t, nil)
	fillReadModel(t, h)
	r := h.do("GET", "/api/v1/customers/107/suggestions", readToken, nil)
	if r.code != 200 {
		t.Fatalf("GET = %d %s", r.code, r.body)
	}
	got := decode[Suggestions](t, r)
	if len(got.Items) == 0 || got.Items[0].TenantID != acsandbox.LitwareID || got.Items[0].Confidence < 0.95 {
		t.Fatalf("suggestions for Litware Inc = %+v, want the Litware tenant first with ≥ 0.95", got.Items)
	}
	reasons := strings.Join(got.Items[0].Reasons, "; ")
	if !strings.Contains(reasons, "same name") || !strings.Contains(reasons, "litware.example") {
		t.Errorf("reasons = %q, want the same name and the shared e-mail domain", reasons)
	}
	// Proseware's tenant is self-service: it can never be mapped, so it is no suggestion.
	if got := decode[Suggestions](t, h.do("GET", "/api/v1/customers/108/suggestions", readToken, nil)); len(got.Items) != 0 {
		t.Errorf("suggestions for Proseware = %+v, want none", got.Items)
	}
	// Once mapped, the tenant is no longer suggested to anyone.
	mapCompany(t, h, 1, acsandbox.LitwareID)
	if got := decode[Suggestions](t, h.do("GET", "/api/v1/customers/107/suggestions", readToken, nil)); len(got.Items) != 0 && got.Items[0].TenantID == acsandbox.LitwareID {
		t.Errorf("a mapped tenant is still suggested: %+v", got.Items)
	}
	noVendorRequests(t, h)
	wantProblem(t, h.do("GET", "/api/v1/customers/999/suggestions", readToken, nil), 404)
}

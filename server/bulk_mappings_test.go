package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/internal/bulkmap"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// mappingWorkflows stands in for the customer workflows: a map update
// records the mapping in the store as the workflow's activity would, unless
// the tenant is in refuse.
type mappingWorkflows struct {
	st     *store.Store
	mu     sync.Mutex
	maps   []int64
	refuse map[string]string
}

func (f *mappingWorkflows) Refresh(context.Context, workflows.Company) error { return nil }
func (f *mappingWorkflows) SyncNow(context.Context) error                    { return nil }
func (f *mappingWorkflows) Status(context.Context, int64) (workflows.CustomerStatus, error) {
	return workflows.CustomerStatus{}, errors.New("not used")
}
func (f *mappingWorkflows) Update(ctx context.Context, co workflows.Company, name string, arg any) (workflows.ActionResult, error) {
	id := co.ID
	req := arg.(workflows.MapRequest)
	f.mu.Lock()
	f.maps = append(f.maps, id)
	f.mu.Unlock()
	if why, ok := f.refuse[req.TenantID]; ok {
		return workflows.ActionResult{}, temporal.NewNonRetryableApplicationError(why, "refused", nil)
	}
	if _, err := f.st.MapCustomer(ctx, store.CustomerMapping{CompanyID: id, TenantID: req.TenantID}, store.Actor{Name: req.Actor}); err != nil {
		return workflows.ActionResult{}, err
	}
	return workflows.ActionResult{Message: fmt.Sprintf("company %d mapped to tenant %s", id, req.TenantID)}, nil
}

func planCount(t *testing.T, h *apiHarness) int {
	t.Helper()
	var n int
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM mapping_plans`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBulkMapping_BadPairsAreAllNamedAndNothingIsStored(t *testing.T) {
	h := newAPIHarness(t, nil)
	fillReadModel(t, h)
	h.srv.deps.BulkMappings = h.store
	mapCompany(t, h, 101, acsandbox.WoodgroveRetailID)
	r := h.do("POST", "/api/v1/mappings/bulk", adminToken, BulkMappingRequest{Pairs: []MappingPair{
		{CompanyID: 107, TenantID: acsandbox.LitwareID},         // fine
		{CompanyID: 108, TenantID: acsandbox.ProsewareID},       // self-service
		{CompanyID: 999, TenantID: acsandbox.WoodgroveWealthID}, // no such company
		{CompanyID: 103, TenantID: acsandbox.LitwareID},         // tenant twice
		{CompanyID: 101, TenantID: acsandbox.WoodgroveID},       // company mapped elsewhere
		{CompanyID: 110, TenantID: "not-a-tenant"},              // unknown tenant
		{CompanyID: 102, TenantID: acsandbox.FourthCoffeeID},    // support access refused
	}})
	wantFields(t, r, "pairs[1].tenantId", "pairs[2].companyId", "pairs[3].tenantId", "pairs[4].companyId", "pairs[5].tenantId", "pairs[6].tenantId")
	if !strings.Contains(string(r.body), "self-service") || !strings.Contains(string(r.body), "pairs[0]") {
		t.Errorf("problem does not say why or which pair clashes: %s", r.body)
	}
	if n := planCount(t, h); n != 0 {
		t.Fatalf("%d plans stored after a bad request, want 0", n)
	}
	wantFields(t, h.do("POST", "/api/v1/mappings/bulk", adminToken, map[string]any{}), "minConfidence", "pairs")
	wantFields(t, h.do("POST", "/api/v1/mappings/bulk", adminToken, map[string]any{"minConfidence": 1.5}), "minConfidence")
}

func TestBulkMapping_SuggestionsAboveAConfidenceBecomeOnePlanAppliedOnce(t *testing.T) {
	cw := &mappingWorkflows{refuse: map[string]string{}}
	h := newAPIHarness(t, cw)
	cw.st = h.store
	fillReadModel(t, h)
	h.srv.deps.BulkMappings = h.store
	r := h.do("POST", "/api/v1/mappings/bulk", adminToken, BulkMappingRequest{MinConfidence: ptrTo(0.9)})
	if r.code != 201 {
		t.Fatalf("preview = %d %s", r.code, r.body)
	}
	plan := decode[bulkmap.Plan](t, r)
	got := map[int64]string{}
	for _, it := range plan.Items {
		got[it.CompanyID] = it.TenantID
		if it.Confidence < 0.9 || it.Action != bulkmap.ActionMap {
			t.Errorf("item %+v, want confidence ≥ 0.9 and action map", it)
		}
	}
	// Litware and Woodgrove Bank share name and e-mail domain with their tenants.
	if want := map[int64]string{107: acsandbox.LitwareID, 109: acsandbox.WoodgroveID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plan items = %v, want %v", got, want)
	}
	if len(cw.maps) != 0 {
		t.Fatal("a preview mapped companies")
	}
	r = h.do("POST", "/api/v1/mappings/bulk/"+plan.ID+"/apply", adminToken, nil)
	if r.code != 200 {
		t.Fatalf("apply = %d %s", r.code, r.body)
	}
	applied := decode[bulkmap.Plan](t, r)
	if applied.Status != bulkmap.StatusApplied || len(applied.Results) != 2 || !applied.Results[0].OK || !applied.Results[1].OK || applied.AppliedBy != "ops" {
		t.Fatalf("applied plan = %+v", applied)
	}
	for id, tenant := range got {
		ms, err := h.store.ListCustomerMappings(context.Background(), store.CustomerMappingFilter{CompanyIDs: []int64{id}})
		if err != nil || len(ms) != 1 || ms[0].TenantID != tenant {
			t.Errorf("mapping of %d = %+v (%v), want tenant %s", id, ms, err, tenant)
		}
	}
	if p := wantProblem(t, h.do("POST", "/api/v1/mappings/bulk/"+plan.ID+"/apply", adminToken, nil), 409); !strings.Contains(p.Detail, "applied") {
		t.Errorf("second apply: %+v", p)
	}
	if len(cw.maps) != 2 {
		t.Errorf("workflow updates = %v, want one per item, once", cw.maps)
	}
	wantProblem(t, h.do("POST", "/api/v1/mappings/bulk/mp_nope/apply", adminToken, nil), 404)
}

func TestMappingsCSV_ExportAndImportWithLineNumberedProblems(t *testing.T) {
	cw := &mappingWorkflows{refuse: map[string]string{acsandbox.WoodgroveWealthID: "tenant is being deleted"}}
	h := newAPIHarness(t, cw)
	cw.st = h.store
	fillReadModel(t, h)
	h.srv.deps.BulkMappings = h.store
	mapCompany(t, h, 107, acsandbox.LitwareID)

	r := h.do("GET", "/api/v1/mappings.csv", readToken, nil)
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d %s %s", r.code, r.header.Get("Content-Type"), r.body)
	}
	want := "company_id,company_name,tenant_id,tenant_name,how,state,health\n107,Litware Inc," + acsandbox.LitwareID + ",Litware Inc,manual,mapped,ok\n"
	if string(r.body) != want {
		t.Fatalf("export =\n%s\nwant\n%s", r.body, want)
	}

	csvType := []string{"Content-Type", "text/csv"}
	bad := "company_id,tenant_id\n109," + acsandbox.WoodgroveID + "\n110,\nabc," + acsandbox.WoodgroveRetailID + "\n108," + acsandbox.ProsewareID + "\n"
	r = h.do("PUT", "/api/v1/mappings.csv", adminToken, bad, csvType...)
	wantFields(t, r, "line 3: tenant_id", "line 4: company_id", "line 5: tenant_id")
	if n := planCount(t, h); n != 0 || len(cw.maps) != 0 {
		t.Fatalf("after a bad file: %d plans, updates %v, want none", n, cw.maps)
	}
	wantFields(t, h.do("PUT", "/api/v1/mappings.csv", adminToken, "company,tenant\n1,x\n", csvType...), "line 1")
	wantProblem(t, h.do("PUT", "/api/v1/mappings.csv", adminToken, "company_id,tenant_id\n"), 415)

	// The exported file imports as it is (Litware kept), plus two new lines, one refused by its workflow.
	good := string(r.body[:0]) + want + "109,Woodgrove Bank," + acsandbox.WoodgroveID + ",,,,\n103,Northwind," + acsandbox.WoodgroveWealthID + ",,,,\n"
	r = h.do("PUT", "/api/v1/mappings.csv", adminToken, good, csvType...)
	if r.code != 200 {
		t.Fatalf("import = %d %s", r.code, r.body)
	}
	plan := decode[bulkmap.Plan](t, r)
	if plan.Source != bulkmap.SourceCSV || len(plan.Items) != 3 || plan.Items[0].Action != bulkmap.ActionKeep {
		t.Fatalf("plan = %+v", plan)
	}
	if res := plan.Results; !res[0].OK || !res[1].OK || res[2].OK || !strings.Contains(res[2].Message, "being deleted") {
		t.Fatalf("results = %+v, want kept, mapped, refused with the workflow's reason", res)
	}
}

func ptrTo[T any](v T) *T { return &v }

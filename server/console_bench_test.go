package server

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// consoleBenchCompanies is the scale the console must stay fast at (issue 17: ≤ 200 ms per page).
const consoleBenchCompanies = 10000

// benchCustomers answers status queries from memory: the benchmark measures
// the console and the API, not a Temporal query.
type benchCustomers struct{}

func (benchCustomers) Refresh(context.Context, workflows.Company) error { return nil }
func (benchCustomers) SyncNow(context.Context) error                    { return nil }
func (benchCustomers) Update(context.Context, workflows.Company, string, any) (workflows.ActionResult, error) {
	return workflows.ActionResult{}, nil
}
func (benchCustomers) Status(_ context.Context, id int64) (workflows.CustomerStatus, error) {
	v := int64(25)
	st := workflows.CustomerStatus{
		Quotas: []entitlement.Quota{{Item: entitlement.Item{Name: "pw_base_workstations", Group: entitlement.GroupStandard},
			Enabled: true, Value: &v, Source: "contract 12 (prepaid)"}},
		Pending: []workflows.PendingAction{{Action: "disable-tenant", At: time.Now().Add(72 * time.Hour)}},
	}
	st.CompanyID, st.CompanyName, st.Phase = id, fmt.Sprintf("Company %d", id), workflows.PhaseDeprovisioning
	st.TenantID, st.MappedHow = fmt.Sprintf("00000000-0000-4000-8000-%012d", id), "manual"
	st.Deprovision = workflows.Deprovision{Since: time.Now().Add(-time.Hour)}
	return st, nil
}

// BenchmarkConsolePages measures the server time of every console page (the
// in-process API calls, the vendor sandboxes they reach, PostgreSQL and
// template rendering) with 10,000 Autotask companies, half of them mapped,
// 1 in 50 of those in error, and an audit row per mapping. Run it with
// `make bench-console`; results are in BENCHMARKS.md.
func BenchmarkConsolePages(b *testing.B) {
	if testing.Short() {
		b.Skip("needs PostgreSQL")
	}
	h := consoleBenchHarness(b)
	br := h.browser()
	br.signIn(adminToken)
	detail := atsandbox.GeneratedCompanyID(5000)
	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"overview-health", "/overview/health"},
		{"settings", "/settings"},
		{"billing", "/billing"},
		{"customers", "/customers"},
		{"customers-search", "/customers?" + url.Values{"q": {"a"}}.Encode()},
		{"customers-unmapped-page-20", "/customers?filter=unmapped&page=20"},
		{"customers-error", "/customers?filter=error"},
		{"customer-detail", fmt.Sprintf("/customers/%d", detail)},
		{"customer-usage", fmt.Sprintf("/customers/%d/usage", detail)},
		{"map", fmt.Sprintf("/customers/%d/map", atsandbox.GeneratedCompanyID(1))},
		{"map-suggestions", fmt.Sprintf("/customers/%d/suggestions", atsandbox.GeneratedCompanyID(1))},
		{"tickets", "/tickets"},
		{"audit", "/audit"},
		{"audit-filtered", "/audit?kind=mapping"},
	}
	// The API calls behind the slowest pages, to tell the console's time from the API's.
	for _, p := range []struct{ name, path string }{
		{"api-suggestions", fmt.Sprintf("/api/v1/customers/%d/suggestions", atsandbox.GeneratedCompanyID(1))},
		{"api-tenants-mappable", "/api/v1/acronis/tenants?filter=mappable&pageSize=50"},
		{"api-usage-company", fmt.Sprintf("/api/v1/usage?companyId=%d&limit=50", detail)},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if got := h.do("GET", p.path, adminToken, nil); got.code != 200 {
					b.Fatalf("GET %s = %d: %s", p.path, got.code, got.body)
				}
			}
		})
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if got := br.do("GET", p.path, nil); got.code != 200 {
					b.Fatalf("GET %s = %d:\n%s", p.path, got.code, got.body)
				}
			}
		})
	}
}

// consoleBenchHarness is an API harness holding the benchmark's data:
// consoleBenchCompanies companies and tenants, half of them mapped.
func consoleBenchHarness(b testing.TB) *apiHarness {
	b.Helper()
	h := newAPIHarnessWith(b, benchCustomers{}, atsandbox.Options{Dataset: "generated", Companies: consoleBenchCompanies, Seed: 1})
	h.srv.deps.Audit, h.srv.deps.Stats, h.srv.deps.Usage, h.srv.deps.Alerts = h.store, h.store, h.store, h.store
	h.srv.deps.ReadModel = h.store
	ctx := context.Background()
	// The read model holds what the contract and tenant syncs would have
	// stored: every company, and a tenant per company.
	now := time.Now().UTC()
	companies := make([]store.CompanyRecord, 0, consoleBenchCompanies)
	tenants := make([]readmodel.Tenant, 0, consoleBenchCompanies)
	for i := 0; i < consoleBenchCompanies; i++ {
		id := atsandbox.GeneratedCompanyID(i)
		co, _ := h.at.Company(id)
		companies = append(companies, store.CompanyRecord{ID: id, Name: co.CompanyName, Type: co.CompanyType, TypeLabel: "Customer",
			Active: true, ModifiedAt: now})
		tenants = append(tenants, readmodel.Tenant{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id), Name: co.CompanyName,
			Kind: "customer", Enabled: true, UpdatedAt: now})
	}
	for lo := 0; lo < len(companies); lo += 1000 {
		if err := h.store.SaveCompanies(ctx, companies[lo:lo+1000], now); err != nil {
			b.Fatal(err)
		}
		if _, err := h.store.SaveTenants(ctx, tenants[lo:lo+1000], 1, now); err != nil {
			b.Fatal(err)
		}
	}
	// The tenant sync ends a complete listing so.
	if _, err := h.store.MarkUnseenTenantsDeleted(ctx, 1, now); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < consoleBenchCompanies; i += 2 {
		id := atsandbox.GeneratedCompanyID(i)
		if _, err := h.store.MapCustomer(ctx, store.CustomerMapping{CompanyID: id, TenantID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id)},
			store.Actor{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		if i%100 == 0 {
			if err := h.store.SetCustomerState(ctx, id, "error", "Acronis answered 503 three times"); err != nil {
				b.Fatal(err)
			}
		}
	}
	return h
}

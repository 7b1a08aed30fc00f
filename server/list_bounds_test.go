package server

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// documentedMax finds a route's size parameter: the query parameter
// documented as "1–N, default D", with N its maximum.
var documentedMax = regexp.MustCompile(`^1–(\d+)\b`)

// listBounds is what the bounds test needs to know of one list route.
type listBounds struct {
	// seed stores n rows the route lists (through the store or the sandbox).
	seed func(t *testing.T, h *apiHarness, n int)
	// items is the JSON key of the page's rows.
	items string
	// more says whether a page says more rows follow (nil: the route has no such signal).
	more func(page map[string]any) bool
	// next is the query reading the rest after a full first page ("" when the route cannot).
	next func(page map[string]any, size int) string
	// past is a query whose page lies beyond the last row.
	past func(size int) string
}

func truthy(key string) func(map[string]any) bool {
	return func(p map[string]any) bool { b, _ := p[key].(bool); return b }
}

func hasCursor(p map[string]any) bool { c, _ := p["nextCursor"].(string); return c != "" }

func cursorNext(param string) func(map[string]any, int) string {
	return func(p map[string]any, size int) string {
		return fmt.Sprintf("%s=%d&cursor=%s", param, size, p["nextCursor"])
	}
}

func pageNext(_ map[string]any, size int) string { return fmt.Sprintf("pageSize=%d&page=2", size) }

func pagePast(size int) string { return fmt.Sprintf("pageSize=%d&page=1000000", size) }

// exec runs SQL that seeds rows, failing the test on error.
func exec(t *testing.T, h *apiHarness, sql string, args ...any) {
	t.Helper()
	if _, err := h.store.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

// listRoutes is every route with a documented page size, by path.
var listRoutes = map[string]listBounds{
	"/api/v1/customers": {
		seed: func(t *testing.T, h *apiHarness, n int) {
			now := time.Now().UTC()
			cs := make([]store.CompanyRecord, n)
			for i := range cs {
				cs[i] = store.CompanyRecord{ID: int64(900000 + i), Name: fmt.Sprintf("Bounds company %04d", i), Type: 1,
					TypeLabel: "Customer", Active: true, ModifiedAt: now}
			}
			if err := h.store.SaveCompanies(context.Background(), cs, now); err != nil {
				t.Fatal(err)
			}
		},
		items: "items", more: truthy("hasMore"), next: pageNext, past: pagePast,
	},
	"/api/v1/acronis/tenants": {
		seed: func(t *testing.T, h *apiHarness, n int) {
			now := time.Now().UTC()
			ts := make([]readmodel.Tenant, n)
			for i := range ts {
				ts[i] = readmodel.Tenant{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("Bounds tenant %04d", i),
					Kind: "customer", Enabled: true, UpdatedAt: now}
			}
			if _, err := h.store.SaveTenants(context.Background(), ts, 1, now); err != nil {
				t.Fatal(err)
			}
		},
		items: "items", more: truthy("hasMore"), next: pageNext, past: pagePast,
	},
	"/api/v1/audit": {
		seed: func(t *testing.T, h *apiHarness, n int) {
			exec(t, h, `INSERT INTO audit_log (at, actor, kind, system, company_id)
				SELECT now() - make_interval(secs => i), 'bounds', 'mapping.customer', 'admin', i FROM generate_series(1, $1) i`, n)
		},
		items: "items", more: hasCursor, next: cursorNext("limit"),
		past: func(size int) string { return fmt.Sprintf("limit=%d&from=2999-01-01", size) },
	},
	"/api/v1/usage": {
		seed: func(t *testing.T, h *apiHarness, n int) {
			exec(t, h, `INSERT INTO usage_ledger (contract_service_id, period_start, period_end, metric, raw_value, raw_unit, billed_value, billed_unit)
				SELECT 1 + i % 7, timestamptz '2020-01-01' + make_interval(days => i), timestamptz '2020-01-02' + make_interval(days => i),
					'class2_billed', 1, 'bytes', 1, 'GB' FROM generate_series(1, $1) i`, n)
		},
		items: "items", more: truthy("truncated"),
		past: func(size int) string { return fmt.Sprintf("limit=%d&from=2999-01-01", size) },
	},
	"/api/v1/tickets": {
		seed: func(t *testing.T, h *apiHarness, n int) {
			exec(t, h, `INSERT INTO alert_tickets (alert_id, company_id, alert_type, state, closed_at, active_alerts)
				SELECT 'bounds-' || i, 1 + i % 3, 'BackupFailed', 'closed', now(), '{}' FROM generate_series(1, $1) i`, n)
		},
		items: "tickets",
		past:  func(size int) string { return fmt.Sprintf("limit=%d&companyId=999999", size) },
	},
	"/api/v1/autotask/services": {
		seed: func(t *testing.T, h *apiHarness, n int) {
			like := h.at.Services()[0] // a valid billing code and period type of this sandbox
			for i := range n {
				if _, err := h.at.AddService(autotask.Service{Name: fmt.Sprintf("Bounds service %04d", i), IsActive: autotask.Ptr(true),
					BillingCodeID: like.BillingCodeID, PeriodType: like.PeriodType, UnitPrice: autotask.Ptr(1.0)}); err != nil {
					t.Fatal(err)
				}
			}
		},
		items: "items", more: hasCursor, next: cursorNext("pageSize"),
		past: func(size int) string { return fmt.Sprintf("pageSize=%d&cursor=%d", size, int64(1)<<52) },
	},
}

// TestLists_EveryPagedRouteWorksAcrossItsDocumentedRange checks every GET
// route whose size parameter is documented as "1–N" against real rows in
// PostgreSQL (or the Autotask sandbox): the smallest and the largest
// documented size answer that many rows and say more follow, the rest reads
// after a full page, a page past the end is empty, and a size out of range
// (0, -1, N+1, not a number) is a 400 naming the parameter.
func TestLists_EveryPagedRouteWorksAcrossItsDocumentedRange(t *testing.T) {
	h := newAPIHarness(t, nil)
	h.srv.deps.Audit, h.srv.deps.Usage, h.srv.deps.Alerts, h.srv.deps.ReadModel = h.store, h.store, h.store, h.store
	seen := 0
	for _, r := range h.srv.routes() {
		if r.method != http.MethodGet {
			continue
		}
		for _, p := range r.query {
			m := documentedMax.FindStringSubmatch(p.description)
			if m == nil {
				continue
			}
			seen++
			maxSize, _ := strconv.Atoi(m[1])
			lb, ok := listRoutes[r.path]
			if !ok {
				t.Errorf("GET %s documents %s %q but the bounds test has no case for it", r.path, p.name, p.description)
				continue
			}
			t.Run(r.path, func(t *testing.T) { checkListBounds(t, h, r.path, p.name, maxSize, lb) })
		}
	}
	if seen != len(listRoutes) {
		t.Errorf("routes with a documented size = %d, cases = %d: a case names a route that is gone", seen, len(listRoutes))
	}
}

func checkListBounds(t *testing.T, h *apiHarness, path, param string, maxSize int, lb listBounds) {
	lb.seed(t, h, maxSize+1)
	get := func(query string) (map[string]any, int) {
		t.Helper()
		r := h.do("GET", path+"?"+query, readToken, nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET %s?%s = %d, want 200: %s", path, query, r.code, r.body)
		}
		page := decode[map[string]any](t, r)
		items, _ := page[lb.items].([]any)
		return page, len(items)
	}
	total := 0
	for _, size := range []int{1, maxSize} {
		page, n := get(fmt.Sprintf("%s=%d", param, size))
		if n != size {
			t.Errorf("%s=%d: %d rows, want %d", param, size, n, size)
		}
		if lb.more != nil && !lb.more(page) {
			t.Errorf("%s=%d: the page does not say more rows follow (%d stored)", param, size, maxSize+1)
		}
		if size == maxSize && lb.next != nil {
			q := lb.next(page, size)
			rest, m := get(q)
			if m < 1 {
				t.Errorf("%s after a full page: %d rows, want the rest", q, m)
			}
			if lb.more != nil && lb.more(rest) && m < size {
				t.Errorf("%s: a short last page says more rows follow", q)
			}
			total = n + m
		}
	}
	if lb.next != nil && total < maxSize+1 {
		t.Errorf("two pages of %d read %d rows, want at least %d", maxSize, total, maxSize+1)
	}
	if page, n := get(lb.past(maxSize)); n != 0 || (lb.more != nil && lb.more(page)) {
		t.Errorf("%s: %d rows (more: %v), want an empty last page", lb.past(maxSize), n, lb.more != nil && lb.more(page))
	}
	bad := []string{param + "=0", param + "=-1", param + "=" + strconv.Itoa(maxSize+1), param + "=ten"}
	if lb.past(maxSize) == pagePast(maxSize) {
		bad = append(bad, "page=0", "page=-1", "page=1000001")
	}
	for _, q := range bad {
		r := h.do("GET", path+"?"+q, readToken, nil)
		name, _, _ := strings.Cut(q, "=")
		if r.code != http.StatusBadRequest || !slices.Contains(problemFields(t, r), name) {
			t.Errorf("%s = %d %s, want 400 naming %s", q, r.code, r.body, name)
		}
	}
}

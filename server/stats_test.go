package server

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// seedStats gives the store three companies with contracts, three mapped
// customers (two provisioned, one deprovisioning, one in error), two tickets
// (one closed) and one pending usage row.
func seedStats(t *testing.T, st *store.Store) time.Time {
	t.Helper()
	ctx := context.Background()
	observed := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for _, id := range []int64{101, 102, 103} {
		if err := st.SaveSnapshotFingerprint(ctx, id, "fp", nil, observed); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []store.CustomerMapping{{CompanyID: 101, TenantID: "t1"}, {CompanyID: 102, TenantID: "t2", How: store.MappedAutomatically},
		{CompanyID: 103, TenantID: "t3", How: store.MappedAutomatically}} {
		if _, err := st.MapCustomer(ctx, m, store.Actor{Name: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SetCustomerState(ctx, 101, "active", ""))
	must(st.SetCustomerState(ctx, 102, "deprovisioning", ""))
	must(st.SetCustomerState(ctx, 103, "error", "apply quotas: boom"))
	tk, err := st.OpenAlertTicket(ctx, store.AlertTicket{AlertID: "a1", CompanyID: 101, AlertType: "BackupFailed"})
	must(err)
	_, err = st.OpenAlertTicket(ctx, store.AlertTicket{AlertID: "a2", CompanyID: 101, AlertType: "BackupFailed"})
	must(err)
	_, err = st.CloseAlertTicket(ctx, tk.ID, observed)
	must(err)
	_, err = st.RecordUsage(ctx, store.UsageRecord{ContractServiceID: 7, PeriodStart: observed, PeriodEnd: observed.Add(time.Hour), Metric: "m",
		RawValue: "1", RawUnit: "seats", BilledValue: "1", BilledUnit: "seats"})
	must(err)
	return observed
}

func TestStats_CountsFromTheStore(t *testing.T) {
	h := withStoreReads(newHarness(t))
	observed := seedStats(t, h.store)
	r := h.do("GET", "/api/v1/stats", readToken, nil)
	if r.code != 200 {
		t.Fatalf("GET /api/v1/stats = %d %s", r.code, r.body)
	}
	got := decode[Stats](t, r)
	wantCustomers := CustomerStats{WithContracts: 3, Mapped: 3, ProvisionedAutomatically: 2, Deprovisioning: 1, Error: 1, WithLastError: 1,
		ByState: map[string]int64{"active": 1, "deprovisioning": 1, "error": 1},
		// Before the first tenant sync no mapping's tenant is known to exist or not.
		ByHealth: map[string]int64{"unknown": 3}}
	if !reflect.DeepEqual(got.Customers, wantCustomers) {
		t.Errorf("customers = %+v, want %+v", got.Customers, wantCustomers)
	}
	if want := (TicketStats{Created: 2, Open: 1, Closed: 1}); got.Tickets != want {
		t.Errorf("tickets = %+v, want %+v", got.Tickets, want)
	}
	if got.Usage.Pending != 1 {
		t.Errorf("usage pending = %d, want 1", got.Usage.Pending)
	}
	streams := map[string]time.Time{}
	for _, s := range got.LastSync {
		streams[s.Stream] = s.At
	}
	if !streams[streamContracts].Equal(observed) || streams[streamCustomerStates].IsZero() {
		t.Errorf("last sync = %+v, want contracts at %v and customer states", got.LastSync, observed)
	}
}

func TestStats_SameNumbersAsPrometheusGauges(t *testing.T) {
	h := withStoreReads(newHarness(t))
	seedStats(t, h.store)
	if err := RegisterStatsMetrics(h.srv.deps.Registry, h.store); err != nil {
		t.Fatal(err)
	}
	body := string(h.do("GET", "/metrics", "", nil).body)
	for _, line := range []string{
		"acronis_autotask_stats_up 1",
		"acronis_autotask_companies_with_contracts 3",
		"acronis_autotask_customers_mapped 3",
		"acronis_autotask_customers_provisioned_automatically 2",
		`acronis_autotask_customers{state="deprovisioning"} 1`,
		`acronis_autotask_customers{state="error"} 1`,
		"acronis_autotask_customers_with_error 1",
		`acronis_autotask_alert_tickets{state="open"} 1`,
		`acronis_autotask_alert_tickets{state="closed"} 1`,
		"acronis_autotask_alert_tickets_created 2",
		"acronis_autotask_usage_ledger_pending 1",
		`acronis_autotask_last_sync_timestamp_seconds{stream="contracts"} 1.7951616e+09`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
	// Gauges follow the store at the next scrape: nothing is cached.
	if err := h.store.SetCustomerState(context.Background(), 103, "active", ""); err != nil {
		t.Fatal(err)
	}
	body = string(h.do("GET", "/metrics", "", nil).body)
	if !strings.Contains(body, `acronis_autotask_customers{state="error"} 0`+"\n") || !strings.Contains(body, "acronis_autotask_customers_with_error 0\n") {
		t.Errorf("after recovery the error gauges did not drop to 0")
	}
}

type failingStats struct{}

func (failingStats) Stats(context.Context) (store.Stats, error) {
	return store.Stats{}, errors.New("database down")
}

func TestStats_StoreFailureIsVisible(t *testing.T) {
	h := newHarness(t)
	if p := wantProblem(t, h.do("GET", "/api/v1/stats", readToken, nil), 503); p.Type != problemTypeBase+"not-available" {
		t.Fatalf("stats without a store = %+v", p)
	}
	reg := prometheus.NewRegistry()
	if err := RegisterStatsMetrics(reg, failingStats{}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "acronis_autotask_stats_up" || mfs[0].GetMetric()[0].GetGauge().GetValue() != 0 {
		t.Fatalf("gather with a failing store = %v, %v; want only stats_up 0", mfs, err)
	}
}

package workflows

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// markOnceFails makes the first MarkReported fail, as a database outage
// right after the Autotask write would: the activity fails and is retried.
type markOnceFails struct {
	*store.Store
	mu     sync.Mutex
	failed bool
}

func (m *markOnceFails) MarkReported(ctx context.Context, id, adj int64) (store.UsageRecord, error) {
	m.mu.Lock()
	first := !m.failed
	m.failed = true
	m.mu.Unlock()
	if first {
		return store.UsageRecord{}, errors.New("connection reset")
	}
	return m.Store.MarkReported(ctx, id, adj)
}

// TestUsageReport_PrepaidOverageIsBilledOnceOverTheMonthEnd runs the usage
// report workflow with the real usage activities on both sandboxes and
// PostgreSQL, time skipping from October 31st over the month end: Litware
// (12 prepaid workstations with overage, 15 used) gets one ledger row of 3
// overage units from October's billing report and one adjustment in its
// contract, although the first write's ledger update fails and is retried;
// settling October again writes nothing.
func TestUsageReport_PrepaidOverageIsBilledOnceOverTheMonthEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	ctx := context.Background()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	checkPools(t, env)
	start := time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	now := func() time.Time { return env.Now() }

	at, err := atsandbox.New(atsandbox.Options{Dataset: "demo", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	atSrv := httptest.NewServer(at.Handler())
	t.Cleanup(atSrv.Close)
	atc, err := autotask.New(ctx, autotask.Config{Username: atsandbox.DefaultUsername, Secret: atsandbox.DefaultSecret,
		IntegrationCode: atsandbox.DefaultIntegrationCode, BaseURL: atSrv.URL + "/ATServicesRest", HourlyLimit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := acsandbox.New(acsandbox.Options{Dataset: acsandbox.DatasetDemo, Now: now, RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	acSrv := httptest.NewServer(ac.Handler())
	t.Cleanup(acSrv.Close)
	acc, err := acronis.New(ctx, acronis.Config{BaseURL: acSrv.URL, ClientID: ac.ClientID(), ClientSecret: ac.ClientSecret(),
		HTTPClient: acSrv.Client(), Now: now, RetryBackoff: 10 * time.Millisecond, RequestsPerSecond: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, testenv.NewTestDatabase(t), testenv.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	// Litware (company 107, prepaid contract 2107: 12 workstations) is mapped
	// to its tenant; workstations bill their overage as a new service.
	const company = int64(107)
	contract := atsandbox.DemoContractID(company)
	actor := store.Actor{Name: "test"}
	if _, err := st.SaveSettings(ctx, []byte(`{"billingEnabled": true, "usageReporting": {"period": "previous_month"}}`), 0, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: company, TenantID: acsandbox.LitwareID, How: store.MappedManually}, actor); err != nil {
		t.Fatal(err)
	}
	overage, err := at.AddService(autotask.Service{Name: "Acronis Workstations overage", BillingCodeID: int(atsandbox.BillingCodeAcronis),
		PeriodType: 1, UnitPrice: autotask.Ptr(12.5), IsActive: autotask.Ptr(true)}) // 1: Monthly

	if err != nil {
		t.Fatal(err)
	}
	if err := at.AddServiceUnits(contract, overage, 0); err != nil {
		t.Fatal(err)
	}
	ws := atsandbox.ServiceWorkstations
	if _, err := st.UpsertServiceMapping(ctx, store.ServiceMapping{ApplicationID: acsandbox.CyberProtectionAppID, OfferingItem: "pw_base_workstations",
		ServiceID: &ws, ServiceName: "Workstations", RawUnit: "quantity", BilledUnit: "unit", OverageServiceID: &overage}, actor); err != nil {
		t.Fatal(err)
	}
	if err := ac.SetUsage(acsandbox.LitwareID, "pw_base_workstations", "", 15, 15); err != nil {
		t.Fatal(err)
	}
	adjustments := at.Count("ContractServiceAdjustments")

	acts := &activities.Usage{
		Acronis:  func(context.Context) (activities.UsageAcronis, error) { return acc, nil },
		Autotask: func(context.Context) (*autotask.Client, error) { return atc, nil },
		Store:    &markOnceFails{Store: st},
	}
	env.RegisterActivity(acts)
	setting := usage.Setting{Period: "previous_month"}
	env.ExecuteWorkflow(UsageReportWorkflow, UsageReportState{NextRunAt: usage.NextRun(setting, start), Setting: setting})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v; want continue-as-new after the run", err)
	}
	var next UsageReportState
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	oct := usage.Period{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	if next.LastRun == nil || next.LastRun.At.Before(oct.End) || !next.SettledThrough.Equal(oct.End) || len(next.Unsettled) != 0 {
		t.Fatalf("state after the run = %+v (last run %+v); want October settled by a run after the month end", next, next.LastRun)
	}

	rows, err := st.ListUsage(ctx, store.UsageFilter{Metric: usage.OveragePrefix + "pw_base_workstations"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("overage rows = %+v; want one", rows)
	}
	row := rows[0]
	if row.BilledValue != "3" || !row.PeriodStart.Equal(oct.Start) || row.Estimate || !strings.Contains(string(row.Source), `"report"`) ||
		!strings.Contains(row.Rounding, "usage 15 quantity − prepaid 12 units (contract 2107) = 3 quantity") {
		t.Fatalf("overage row = billed %s period %s estimate %v source %s rounding %q", row.BilledValue, row.PeriodStart, row.Estimate, row.Source, row.Rounding)
	}
	if row.State != store.UsageReported || row.AdjustmentID == nil {
		t.Fatalf("overage row is %s (adjustment %v); want reported: the retry marks it with the adjustment its first attempt heartbeated", row.State, row.AdjustmentID)
	}
	units, _ := at.CurrentUnits(contract, overage)
	if n := at.Count("ContractServiceAdjustments") - adjustments; n != 1 || units != 3 {
		t.Fatalf("%d adjustments, overage service at %d units; want one adjustment to 3 despite the retried write", n, units)
	}

	// A crash that lost the settled state settles October again: nothing new.
	again := testsuite.WorkflowTestSuite{}
	env2 := again.NewTestWorkflowEnvironment()
	env2.SetStartTime(next.NextRunAt.Add(-time.Minute))
	env2.RegisterActivity(acts)
	lost := next
	lost.Unsettled, lost.SettledThrough = []usage.Period{oct}, time.Time{}
	env2.ExecuteWorkflow(UsageReportWorkflow, lost)
	if err := env2.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("second run ended with %v", err)
	}
	rows, _ = st.ListUsage(ctx, store.UsageFilter{Metric: usage.OveragePrefix + "pw_base_workstations"})
	units, _ = at.CurrentUnits(contract, overage)
	if n := at.Count("ContractServiceAdjustments") - adjustments; n != 1 || units != 3 || len(rows) != 1 {
		t.Fatalf("after settling again: %d adjustments, %d units, %d rows; want 1, 3, 1", n, units, len(rows))
	}
}

package activities

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// Fabrikam (102) has the demo's pay-as-you-go contract: workstations,
// servers and backup storage at 0 units.
const (
	paygCompany  int64 = 102
	paygContract       = 2102
	gib                = float64(1 << 30)
)

var usageStart = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// usageClock is the clock both sandboxes share.
type usageClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *usageClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *usageClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// failingMarks makes MarkReported fail a number of times, as a database
// outage right after the Autotask write would.
type failingMarks struct {
	*store.Store
	mu    sync.Mutex
	fails int
}

func (f *failingMarks) MarkReported(ctx context.Context, id, adj int64) (store.UsageRecord, error) {
	f.mu.Lock()
	fail := f.fails > 0
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	if fail {
		return store.UsageRecord{}, errors.New("connection reset")
	}
	return f.Store.MarkReported(ctx, id, adj)
}

type usageHarness struct {
	t     *testing.T
	clock *usageClock
	ac    *acsandbox.Sandbox
	at    *atsandbox.Sandbox
	db    *store.Store
	marks *failingMarks
	acts  *Usage
	acc   *acronis.Client
}

func newUsageHarness(t *testing.T) *usageHarness {
	t.Helper()
	clk := &usageClock{t: usageStart}
	at, err := atsandbox.New(atsandbox.Options{Dataset: "demo", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	atSrv := httptest.NewServer(at.Handler())
	t.Cleanup(atSrv.Close)
	atc, err := autotask.New(context.Background(), autotask.Config{Username: atsandbox.DefaultUsername, Secret: atsandbox.DefaultSecret,
		IntegrationCode: atsandbox.DefaultIntegrationCode, BaseURL: atSrv.URL + "/ATServicesRest", HourlyLimit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := acsandbox.New(acsandbox.Options{Dataset: acsandbox.DatasetDemo, Now: clk.Now, RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	acSrv := httptest.NewServer(ac.Handler())
	t.Cleanup(acSrv.Close)
	acc, err := acronis.New(context.Background(), acronis.Config{BaseURL: acSrv.URL, ClientID: ac.ClientID(), ClientSecret: ac.ClientSecret(),
		HTTPClient: acSrv.Client(), Now: clk.Now, RetryBackoff: 10 * time.Millisecond, RequestsPerSecond: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	db := testenv.MustOpenDB(t)
	marks := &failingMarks{Store: db}
	h := &usageHarness{t: t, clock: clk, ac: ac, at: at, db: db, marks: marks, acc: acc}
	h.acts = &Usage{
		Acronis:  func(context.Context) (UsageAcronis, error) { return acc, nil },
		Autotask: func(context.Context) (*autotask.Client, error) { return atc, nil },
		Store:    marks,
	}
	h.mapService("pw_base_workstations", "", atsandbox.ServiceWorkstations, "quantity", "unit", "1")
	h.mapService(usage.MetricClass2Billed, acsandbox.DefaultStorageID, atsandbox.ServiceBackupStorage, "bytes", "GB", usage.GiBDivisor)
	return h
}

func (h *usageHarness) mapService(item, infra string, serviceID int64, raw, billed, divisor string) {
	h.t.Helper()
	_, err := h.db.UpsertServiceMapping(context.Background(), store.ServiceMapping{ApplicationID: acsandbox.CyberProtectionAppID, OfferingItem: item,
		InfraID: infra, ServiceID: &serviceID, ServiceName: item, RawUnit: raw, BilledUnit: billed, Divisor: divisor, Rounding: store.RoundUp},
		store.Actor{Name: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
}

// setUsage records Litware's measured workstations and storage.
func (h *usageHarness) setUsage(tenant string, workstations, storageGiB float64) {
	h.t.Helper()
	if err := h.ac.SetUsage(tenant, "pw_base_workstations", "", workstations, workstations); err != nil {
		h.t.Fatal(err)
	}
	if err := h.ac.SetUsage(tenant, "pw_base_storage", acsandbox.DefaultStorageID, storageGiB*gib, storageGiB*gib); err != nil {
		h.t.Fatal(err)
	}
}

// run reports one period as the workflow does: collect, then write. A fresh
// activity environment per call is a fresh worker: no heartbeat survives.
func (h *usageHarness) run(s usage.Setting, customers ...UsageCustomer) (UsageCustomerResult, UsageWriteResult) {
	h.t.Helper()
	now := h.clock.Now()
	p, _ := usage.PeriodFor(s, now)
	in := UsageBatchInput{Period: p, EffectiveDate: usage.EffectiveDate(s, p, now), Storage: []settings.StorageReport{settings.StorageClass2Billed},
		Customers: customers, ObservedAt: now, Estimate: s.Period == settings.PeriodCurrentMonth}
	collected := h.collect(in)
	var rows []PendingUsage
	for _, c := range collected.Customers {
		rows = append(rows, c.Pending...)
	}
	written, err := h.report(nil, rows)
	if err != nil {
		h.t.Fatalf("ReportUsage: %v", err)
	}
	return collected.Customers[0], written
}

func (h *usageHarness) collect(in UsageBatchInput) UsageBatchResult {
	h.t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(h.acts)
	v, err := env.ExecuteActivity(h.acts.CollectUsage, in)
	if err != nil {
		h.t.Fatalf("CollectUsage: %v", err)
	}
	var out UsageBatchResult
	if err := v.Get(&out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// report runs ReportUsage; heartbeat, when set, is what an earlier attempt heartbeated.
func (h *usageHarness) report(heartbeat map[int64]int64, rows []PendingUsage) (UsageWriteResult, error) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(h.acts)
	if heartbeat != nil {
		env.SetHeartbeatDetails(heartbeat)
	}
	v, err := env.ExecuteActivity(h.acts.ReportUsage, UsageWriteInput{Rows: rows})
	if err != nil {
		return UsageWriteResult{}, err
	}
	var out UsageWriteResult
	if err := v.Get(&out); err != nil {
		h.t.Fatal(err)
	}
	return out, nil
}

// current returns the ledger's current row of a contract service's metric for p.
func (h *usageHarness) current(csID int64, metric string, p usage.Period) store.UsageRecord {
	h.t.Helper()
	rows, err := h.db.ListUsage(context.Background(), store.UsageFilter{ContractServiceID: &csID, Metric: metric, From: p.Start, To: p.End})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range rows {
		if r.State != store.UsageSuperseded {
			return r
		}
	}
	h.t.Fatalf("no current ledger row for contract service %d %s %s", csID, metric, p)
	return store.UsageRecord{}
}

// units reads the units Autotask shows today for a demo service of the PAYG contract.
func (h *usageHarness) units(serviceID int64) int {
	h.t.Helper()
	n, ok := h.at.CurrentUnits(paygContract, serviceID)
	if !ok {
		h.t.Fatalf("contract %d has no service %d", paygContract, serviceID)
	}
	return n
}

var litware = UsageCustomer{CompanyID: paygCompany, TenantID: acsandbox.LitwareID}

func TestUsage_MonthOfPAYGUsageLeavesAutotaskUnitsEqualToTheLedger(t *testing.T) {
	h := newUsageHarness(t)
	current := usage.Setting{Period: settings.PeriodCurrentMonth}
	nov := usage.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	var csWS, csStorage int64
	for d := 1; d <= 30; d++ {
		h.clock.Set(time.Date(2026, 11, d, 6, 0, 0, 0, time.UTC))
		// Workstations grow by one a week; storage by 1.5 GiB a day (so some days round to the same GB).
		h.setUsage(acsandbox.LitwareID, float64(10+d/7), 100+1.5*float64(d))
		res, _ := h.run(current, litware)
		if res.Error != "" {
			t.Fatalf("day %d: %s", d, res.Error)
		}
		for _, p := range res.Pending {
			switch p.ServiceID {
			case atsandbox.ServiceWorkstations:
				csWS = p.ContractServiceID
			case atsandbox.ServiceBackupStorage:
				csStorage = p.ContractServiceID
			}
		}
		if csWS == 0 || csStorage == 0 {
			t.Fatalf("day %d: the PAYG services were not reported: %+v", d, res)
		}
		ws, st := h.current(csWS, "pw_base_workstations", nov), h.current(csStorage, usage.MetricClass2Billed, nov)
		if got, want := strconv.Itoa(h.units(atsandbox.ServiceWorkstations)), ws.BilledValue; got != want {
			t.Errorf("day %d: Autotask workstations units = %s, ledger billed = %s", d, got, want)
		}
		if got, want := strconv.Itoa(h.units(atsandbox.ServiceBackupStorage)), st.BilledValue; got != want {
			t.Errorf("day %d: Autotask storage units = %s, ledger billed = %s", d, got, want)
		}
	}
	ws := h.current(csWS, "pw_base_workstations", nov)
	if ws.BilledValue != "14" || ws.State != store.UsageReported || ws.Revision != 5 {
		t.Errorf("November workstations = %s (%s, revision %d), want 14 reported as revision 5 (10→11→12→13→14)", ws.BilledValue, ws.State, ws.Revision)
	}
	if !strings.Contains(ws.Reason, "changed from 13 unit to 14 unit") {
		t.Errorf("correction reason = %q, want the change named", ws.Reason)
	}
	st := h.current(csStorage, usage.MetricClass2Billed, nov)
	if st.BilledValue != "145" || st.RawValue != strconv.FormatInt(int64(145*gib), 10) || st.BilledUnit != "GB" {
		t.Errorf("November storage = raw %s %s billed %s %s, want 145 GiB billed 145 GB", st.RawValue, st.RawUnit, st.BilledValue, st.BilledUnit)
	}
}

func TestUsage_ReportingThePeriodTwiceChangesUnitsOnce(t *testing.T) {
	h := newUsageHarness(t)
	previous := usage.Setting{Period: settings.PeriodPreviousMonth}
	h.clock.Set(time.Date(2026, 12, 2, 0, 30, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 9, 20)
	before := h.at.Count("ContractServiceAdjustments")

	_, first := h.run(previous, litware)
	if n := countOutcome(first, UsageWritten); n != 2 {
		t.Fatalf("first run outcomes %+v, want 2 written", first.Rows)
	}
	_, second := h.run(previous, litware)
	if len(second.Rows) != 0 {
		t.Errorf("second run wrote %+v, want nothing pending", second.Rows)
	}
	if got := h.at.Count("ContractServiceAdjustments") - before; got != 2 {
		t.Errorf("adjustments created = %d, want 2 (one per service, once)", got)
	}
	if got := h.units(atsandbox.ServiceWorkstations); got != 9 {
		t.Errorf("workstations units = %d, want 9", got)
	}
}

func TestUsage_RetryAfterALostAnswerNeverCreatesASecondAdjustment(t *testing.T) {
	h := newUsageHarness(t)
	custom := usage.Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: 1}
	h.clock.Set(time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 9, 0)
	p, _ := usage.PeriodFor(custom, h.clock.Now())
	in := UsageBatchInput{Period: p, EffectiveDate: usage.EffectiveDate(custom, p, h.clock.Now()), Customers: []UsageCustomer{litware}, ObservedAt: h.clock.Now()}
	rows := h.collect(in).Customers[0].Pending
	if len(rows) != 1 || rows[0].Billed != 9 {
		t.Fatalf("pending rows %+v, want workstations 9 (storage is 0 on 0 units: skipped)", rows)
	}
	before := h.at.Count("ContractServiceAdjustments")

	// The write succeeds, recording it in the ledger fails: the attempt fails.
	h.marks.fails = 1
	if _, err := h.report(nil, rows); err == nil {
		t.Fatal("ReportUsage succeeded although marking the row failed")
	}
	// A new worker retries without the heartbeat: Autotask already shows 9 units.
	again, err := h.report(nil, h.collect(in).Customers[0].Pending)
	if err != nil {
		t.Fatal(err)
	}
	if got := countOutcome(again, UsageInEffect); got != 1 {
		t.Errorf("retry outcomes %+v, want in-effect", again.Rows)
	}
	if got := h.at.Count("ContractServiceAdjustments") - before; got != 1 {
		t.Errorf("adjustments = %d, want exactly 1", got)
	}
	if got := h.units(atsandbox.ServiceWorkstations); got != 9 {
		t.Errorf("units = %d, want 9", got)
	}
	row := h.current(rows[0].ContractServiceID, "pw_base_workstations", p)
	if row.State != store.UsagePending {
		t.Errorf("row state = %s, want pending (its adjustment id is unknown)", row.State)
	}
}

func TestUsage_RetryWithTheHeartbeatMarksTheRowReported(t *testing.T) {
	h := newUsageHarness(t)
	custom := usage.Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: 1}
	h.clock.Set(time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 4, 0)
	p, _ := usage.PeriodFor(custom, h.clock.Now())
	in := UsageBatchInput{Period: p, EffectiveDate: usage.EffectiveDate(custom, p, h.clock.Now()), Customers: []UsageCustomer{litware}, ObservedAt: h.clock.Now()}
	rows := h.collect(in).Customers[0].Pending
	before := h.at.Count("ContractServiceAdjustments")
	// An earlier attempt wrote adjustment 777 and heartbeated it before dying.
	res, err := h.report(map[int64]int64{rows[0].LedgerID: 777}, rows)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0].Outcome != UsageWritten || res.Rows[0].AdjustmentID != 777 {
		t.Errorf("outcome %+v, want written as adjustment 777", res.Rows[0])
	}
	if got := h.at.Count("ContractServiceAdjustments") - before; got != 0 {
		t.Errorf("adjustments created = %d, want none", got)
	}
	row := h.current(rows[0].ContractServiceID, "pw_base_workstations", p)
	if row.State != store.UsageReported || row.AdjustmentID == nil || *row.AdjustmentID != 777 {
		t.Errorf("row = %s adjustment %v, want reported as 777", row.State, row.AdjustmentID)
	}
}

func TestUsage_ChangedValueForAReportedPeriodIsACorrection(t *testing.T) {
	h := newUsageHarness(t)
	previous := usage.Setting{Period: settings.PeriodPreviousMonth}
	h.clock.Set(time.Date(2026, 12, 2, 0, 30, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 10, 0)
	res, _ := h.run(previous, litware)
	cs := res.Pending[0].ContractServiceID
	h.clock.Set(time.Date(2026, 12, 3, 0, 30, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 12, 0)
	res, written := h.run(previous, litware)
	if res.Corrected != 1 || countOutcome(written, UsageWritten) != 1 || written.Rows[0].UnitChange != 2 {
		t.Fatalf("second run: %+v written %+v, want one correction written as +2", res, written.Rows)
	}
	nov := usage.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	row := h.current(cs, "pw_base_workstations", nov)
	if row.Revision != 2 || row.Supersedes == nil || !strings.Contains(row.Reason, "changed from 10 unit to 12 unit") {
		t.Errorf("correction = revision %d supersedes %v reason %q", row.Revision, row.Supersedes, row.Reason)
	}
	if got := h.units(atsandbox.ServiceWorkstations); got != 12 {
		t.Errorf("units = %d, want 12", got)
	}
}

func TestUsage_SubPartnerCustomersAreReportedInAggregate(t *testing.T) {
	h := newUsageHarness(t)
	h.clock.Set(time.Date(2026, 12, 2, 0, 30, 0, 0, time.UTC))
	h.setUsage(acsandbox.WoodgroveRetailID, 7, 0)
	h.setUsage(acsandbox.WoodgroveWealthID, 5, 0)
	res, _ := h.run(usage.Setting{Period: settings.PeriodPreviousMonth}, UsageCustomer{CompanyID: paygCompany, TenantID: acsandbox.WoodgroveID})
	if res.Error != "" || len(res.Pending) != 1 || res.Pending[0].Billed != 12 {
		t.Fatalf("result %+v, want workstations 7 + 5 = 12", res)
	}
	nov := usage.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	row := h.current(res.Pending[0].ContractServiceID, "pw_base_workstations", nov)
	var samples []usage.Sample
	if err := json.Unmarshal(row.Samples, &samples); err != nil {
		t.Fatal(err)
	}
	tenants := map[string]bool{}
	for _, s := range samples {
		tenants[s.TenantID] = true
	}
	if len(tenants) != 2 || !tenants[acsandbox.WoodgroveRetailID] || !tenants[acsandbox.WoodgroveWealthID] {
		t.Errorf("samples come from %v, want both Woodgrove customers", tenants)
	}
	if got := h.units(atsandbox.ServiceWorkstations); got != 12 {
		t.Errorf("units = %d, want 12", got)
	}

	// Once Wealth Management is mapped to a company of its own, the sub-partner no longer counts it.
	if _, err := h.db.MapCustomer(context.Background(), store.CustomerMapping{CompanyID: 110, TenantID: acsandbox.WoodgroveWealthID,
		How: store.MappedManually}, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(time.Date(2026, 12, 3, 0, 30, 0, 0, time.UTC))
	res, _ = h.run(usage.Setting{Period: settings.PeriodPreviousMonth}, UsageCustomer{CompanyID: paygCompany, TenantID: acsandbox.WoodgroveID})
	if res.Corrected != 1 || len(res.Pending) != 1 || res.Pending[0].Billed != 7 {
		t.Fatalf("result %+v, want a correction to 7 (retail only)", res)
	}
	if got := h.units(atsandbox.ServiceWorkstations); got != 7 {
		t.Errorf("units = %d, want 7", got)
	}
}

func TestCollectUsage_OneCustomersFailureLeavesTheOthers(t *testing.T) {
	h := newUsageHarness(t)
	h.clock.Set(time.Date(2026, 12, 2, 0, 30, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 3, 0)
	s := usage.Setting{Period: settings.PeriodPreviousMonth}
	p, _ := usage.PeriodFor(s, h.clock.Now())
	out := h.collect(UsageBatchInput{Period: p, EffectiveDate: p.Start, ObservedAt: h.clock.Now(), Customers: []UsageCustomer{
		{CompanyID: 101, TenantID: "00000000-0000-4000-8000-00000000dead"}, // prepaid Contoso, tenant gone
		litware,
	}})
	if len(out.Customers) != 2 {
		t.Fatalf("results %+v", out.Customers)
	}
	if out.Customers[0].Error == "" && len(out.Customers[0].Problems) == 0 {
		t.Errorf("the broken customer reports nothing wrong: %+v", out.Customers[0])
	}
	if out.Customers[1].Error != "" || out.Customers[1].Recorded != 1 {
		t.Errorf("Litware = %+v, want one row recorded", out.Customers[1])
	}
}

func TestPlanUsageRun_ReadsTheSettingAndTheMappedCustomers(t *testing.T) {
	h := newUsageHarness(t)
	ctx := context.Background()
	doc := `{"billingEnabled": true, "usageReporting": {"period": "custom_billing_month", "billingDay": 15, "storage": ["class2_billed"]}}`
	if _, err := h.db.SaveSettings(ctx, json.RawMessage(doc), 0, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.MapCustomer(ctx, store.CustomerMapping{CompanyID: paygCompany, TenantID: acsandbox.LitwareID, How: store.MappedManually}, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	plan, err := h.acts.PlanUsageRun(ctx, UsagePlanInput{Now: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	want := usage.Period{Start: time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC)}
	if !plan.Due || plan.Period != want || len(plan.Customers) != 1 || plan.Customers[0] != litware {
		t.Errorf("plan = %+v, want due for %s with Litware", plan, want)
	}
	plan, err = h.acts.PlanUsageRun(ctx, UsagePlanInput{Now: time.Date(2026, 12, 16, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	// Not due, but the customers are listed: a late billing report may
	// still settle a closed period on another day.
	if plan.Due || len(plan.Customers) != 1 {
		t.Errorf("the day after the billing day: %+v; want not due, with the customers", plan)
	}
}

func countOutcome(r UsageWriteResult, outcome string) int {
	n := 0
	for _, row := range r.Rows {
		if row.Outcome == outcome {
			n++
		}
	}
	return n
}

func TestUsage_PrepaidCustomerGetsStorageOverageInItsOwnService(t *testing.T) {
	h := newUsageHarness(t)
	// Contoso (101) is prepaid with 500 GB of backup storage; an overage service joins its contract.
	var monthly int
	for _, sv := range h.at.Services() {
		if sv.ID == atsandbox.ServiceBackupStorage {
			monthly = sv.PeriodType
		}
	}
	overage, err := h.at.AddService(autotask.Service{Name: "Acronis backup storage overage (GB)", BillingCodeID: int(atsandbox.BillingCodeAcronis),
		PeriodType: monthly, UnitPrice: autotask.Ptr(0.1), IsActive: autotask.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	const contoso = 101
	if err := h.at.AddServiceUnits(atsandbox.DemoContractID(contoso), overage, 0); err != nil {
		t.Fatal(err)
	}
	h.mapService(usage.MetricQuotaOverageTotal, acsandbox.DefaultStorageID, overage, "bytes", "GB", usage.GiBDivisor)
	// The storage item's own service carries the prepaid quota: class 2 mapped there must not touch it.
	h.mapService("pw_base_storage", acsandbox.DefaultStorageID, atsandbox.ServiceBackupStorage, "bytes", "GB", usage.GiBDivisor)
	// The storage quota follows the contract (F7): 100 GiB here, 130.25 GiB used.
	quota := 100 * gib
	if err := h.ac.SetQuota(acsandbox.LitwareID, "pw_base_storage", acsandbox.DefaultStorageID, &quota, nil); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 3, 130.25)
	p, _ := usage.PeriodFor(usage.Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: 1}, h.clock.Now())
	out := h.collect(UsageBatchInput{Period: p, EffectiveDate: p.Start, ObservedAt: h.clock.Now(),
		Storage:   []settings.StorageReport{settings.StorageQuotaOverageTotal, settings.StorageClass2Billed},
		Customers: []UsageCustomer{{CompanyID: contoso, TenantID: acsandbox.LitwareID}}})
	res := out.Customers[0]
	if res.Error != "" || len(res.Pending) != 1 {
		t.Fatalf("result %+v, want only the overage row (workstations and the storage quota service are prepaid)", res)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "prepaid quota") {
		t.Errorf("problems %v, want class 2 refused on the prepaid quota service", res.Problems)
	}
	if got := res.Pending[0]; got.ServiceID != overage || got.Billed != 31 || got.Metric != usage.MetricQuotaOverageTotal {
		t.Errorf("pending %+v, want 31 GB of overage into service %d", got, overage)
	}
	if _, err := h.report(nil, res.Pending); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.at.CurrentUnits(atsandbox.DemoContractID(contoso), overage); n != 31 {
		t.Errorf("overage units = %d, want 31", n)
	}
	if n, _ := h.at.CurrentUnits(atsandbox.DemoContractID(contoso), atsandbox.ServiceBackupStorage); n != 500 {
		t.Errorf("prepaid storage units = %d, want 500 untouched", n)
	}
}

func TestUsage_ShadowModeRecordsTheAdjustmentsAndLiveModeWritesThem(t *testing.T) {
	h := newUsageHarness(t)
	ctx := context.Background()
	gate := &WriteGate{Store: h.db}
	direct := h.acts.Autotask
	h.acts.Autotask = func(ctx context.Context) (*autotask.Client, error) {
		c, err := direct(ctx)
		if err != nil {
			return nil, err
		}
		return gate.Autotask(ctx, c)
	}
	setMode := func(version int64, mode settings.Mode) {
		t.Helper()
		if _, err := h.db.SaveSettings(ctx, json.RawMessage(`{"mode":"`+string(mode)+`"}`), version, store.Actor{Name: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	previous := usage.Setting{Period: settings.PeriodPreviousMonth}
	h.clock.Set(time.Date(2026, 12, 2, 0, 30, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 9, 20)
	before := h.at.Count("ContractServiceAdjustments")

	setMode(0, settings.ModeShadow)
	for run := 1; run <= 2; run++ {
		_, res := h.run(previous, litware)
		if n := countOutcome(res, UsageShadow); n != 2 || len(res.Rows) != 2 {
			t.Fatalf("shadow run %d outcomes %+v, want 2 shadow (the rows stay pending)", run, res.Rows)
		}
	}
	if got := h.at.Count("ContractServiceAdjustments") - before; got != 0 {
		t.Errorf("shadow mode created %d adjustments in Autotask, want 0", got)
	}
	rep, err := h.db.ShadowReport(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var recorded int
	for _, c := range rep.Customers {
		for _, w := range c.Writes {
			if w.Vendor == "autotask" && strings.Contains(w.Operation, "ContractServiceAdjustments") {
				recorded++
			}
		}
	}
	if recorded != 2 {
		t.Errorf("shadow report has %d adjustments, want 2 (one per service, once over two runs): %+v", recorded, rep.Customers)
	}

	// Live: the rows shadow mode left pending are written now, once.
	setMode(1, settings.ModeLive)
	_, live := h.run(previous, litware)
	if n := countOutcome(live, UsageWritten); n != 2 {
		t.Fatalf("live run outcomes %+v, want 2 written", live.Rows)
	}
	for _, r := range live.Rows {
		if r.AdjustmentID <= 0 {
			t.Errorf("ledger row %d reported as adjustment %d, want an Autotask id", r.LedgerID, r.AdjustmentID)
		}
	}
	if got := h.at.Count("ContractServiceAdjustments") - before; got != 2 {
		t.Errorf("adjustments created = %d, want 2", got)
	}
	if got := h.units(atsandbox.ServiceWorkstations); got != 9 {
		t.Errorf("workstations units = %d, want 9", got)
	}
}

package activities

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// exec runs one usage activity in a fresh activity environment (a fresh worker).
func exec[T any](h *usageHarness, activity any, in any) T {
	h.t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(h.acts)
	v, err := env.ExecuteActivity(activity, in)
	if err != nil {
		h.t.Fatalf("activity: %v", err)
	}
	var out T
	if v != nil && v.HasValue() {
		if err := v.Get(&out); err != nil {
			h.t.Fatal(err)
		}
	}
	return out
}

// savedReport finds or creates the period's report and polls it until saved,
// as the workflow does, moving the shared clock past the sandbox's delay.
func (h *usageHarness) savedReport(p usage.Period) UsageReportStatus {
	h.t.Helper()
	st := exec[UsageReportStatus](h, h.acts.EnsureUsageReport, UsageReportInput{Period: p})
	for i := 0; st.Status == acronis.StoredInProgress; i++ {
		if i > 5 {
			h.t.Fatalf("report %s still in progress", st.Ref.ReportID)
		}
		h.clock.Set(h.clock.Now().Add(time.Minute))
		st = exec[UsageReportStatus](h, h.acts.PollUsageReport, st.Ref)
	}
	if st.Status != acronis.StoredSaved || st.Ref.StoredID == "" {
		h.t.Fatalf("report = %+v, want saved with a stored copy", st)
	}
	return st
}

func decodeSource(t *testing.T, r store.UsageRecord) usage.Source {
	t.Helper()
	var s usage.Source
	if err := json.Unmarshal(r.Source, &s); err != nil {
		t.Fatalf("source %s: %v", r.Source, err)
	}
	return s
}

// TestUsage_BillingReportSettlesTheMonthsEstimates: a month of current-month
// estimates, then the month's billing report. A number the report changes
// becomes a correction with the reason "billing report"; a number it
// confirms keeps its revision and now names the report. Autotask units,
// the ledger and the report agree, and settling again changes nothing.
func TestUsage_BillingReportSettlesTheMonthsEstimates(t *testing.T) {
	h := newUsageHarness(t)
	current := usage.Setting{Period: settings.PeriodCurrentMonth}
	nov := usage.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	var csWS, csStorage int64
	for d := 1; d <= 30; d++ {
		h.clock.Set(time.Date(2026, 11, d, 6, 0, 0, 0, time.UTC))
		h.setUsage(acsandbox.LitwareID, float64(10+d/10), 140)
		res, _ := h.run(current, litware)
		for _, p := range res.Pending {
			switch p.ServiceID {
			case atsandbox.ServiceWorkstations:
				csWS = p.ContractServiceID
			case atsandbox.ServiceBackupStorage:
				csStorage = p.ContractServiceID
			}
		}
	}
	if csWS == 0 || csStorage == 0 {
		t.Fatal("the PAYG services were never reported")
	}
	est := h.current(csWS, "pw_base_workstations", nov)
	if est.BilledValue != "13" || !est.Estimate || decodeSource(t, est).Kind != usage.SourceLive {
		t.Fatalf("November workstations estimate = %s estimate=%v source %s; want 13, an estimate from live usage", est.BilledValue, est.Estimate, est.Source)
	}

	// December 2nd: the report counts 14 workstations at the month's end
	// (live usage lagged); storage is the same.
	h.clock.Set(time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC))
	if err := h.ac.SetUsage(acsandbox.LitwareID, "pw_base_workstations", "", 14, 14); err != nil {
		t.Fatal(err)
	}
	st := h.savedReport(nov)
	settle := func() UsageBatchResult {
		ref := st.Ref
		in := UsageBatchInput{Period: nov, EffectiveDate: usage.EffectiveDate(current, nov, h.clock.Now()), Customers: []UsageCustomer{litware},
			Storage: []settings.StorageReport{settings.StorageClass2Billed}, ObservedAt: h.clock.Now(), Report: &ref}
		out := h.collect(in)
		var rows []PendingUsage
		for _, c := range out.Customers {
			if c.Error != "" {
				t.Fatalf("settle: %s", c.Error)
			}
			rows = append(rows, c.Pending...)
		}
		if _, err := h.report(nil, rows); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := settle()
	if r := first.Customers[0]; r.Corrected != 1 || r.Unchanged != 1 {
		t.Fatalf("settling = %+v; want the workstations corrected and the storage confirmed", r)
	}
	ws := h.current(csWS, "pw_base_workstations", nov)
	src := decodeSource(t, ws)
	if ws.BilledValue != "14" || ws.Estimate || ws.Revision != est.Revision+1 || !strings.HasPrefix(ws.Reason, "billing report") ||
		src.Kind != usage.SourceReport || src.ReportID != st.Ref.ReportID || src.StoredID != st.Ref.StoredID {
		t.Fatalf("settled workstations = billed %s estimate=%v revision %d reason %q source %+v", ws.BilledValue, ws.Estimate, ws.Revision, ws.Reason, src)
	}
	if ws.State != store.UsageReported || strconv.Itoa(h.units(atsandbox.ServiceWorkstations)) != ws.BilledValue {
		t.Fatalf("Autotask workstations = %d, ledger %s (%s); want them equal and reported", h.units(atsandbox.ServiceWorkstations), ws.BilledValue, ws.State)
	}
	stor := h.current(csStorage, usage.MetricClass2Billed, nov)
	if stor.Estimate || decodeSource(t, stor).Kind != usage.SourceReport || stor.Reason != "" && strings.HasPrefix(stor.Reason, "billing report") {
		t.Fatalf("confirmed storage = %+v; want the same revision, no longer an estimate, sourced from the report", stor)
	}
	// The report itself says 14 for Litware's workstations.
	data, err := h.acc.DownloadStoredReport(context.Background(), st.Ref.ReportID, st.Ref.StoredID)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := acronis.ParseUsageCSV(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.TenantID == acsandbox.LitwareID && r.Name == "pw_base_workstations" && r.Production != ws.BilledValue {
			t.Errorf("report has %s workstations, ledger %s", r.Production, ws.BilledValue)
		}
	}

	// Settling again (a retried run) finds the same report and changes nothing.
	again := h.savedReport(nov)
	if again.Ref.ReportID != st.Ref.ReportID || len(h.ac.Reports()) != 1 {
		t.Fatalf("second ensure: report %s, %d reports in Acronis; want the same, one", again.Ref.ReportID, len(h.ac.Reports()))
	}
	if r := settle().Customers[0]; r.Corrected != 0 || r.Recorded != 0 || len(r.Pending) != 0 {
		t.Fatalf("settling twice = %+v; want nothing new", r)
	}
}

// TestUsage_BillingReportIsCreatedOnceWhenAWorkerDiesMidway: an attempt that
// created the report in Acronis but died before recording its id leaves a
// claimed row; the retry adopts that report instead of creating a second
// one. A failed report is replaced by a new one.
func TestUsage_BillingReportIsCreatedOnceWhenAWorkerDiesMidway(t *testing.T) {
	h := newUsageHarness(t)
	ctx := context.Background()
	h.clock.Set(time.Date(2026, 11, 5, 6, 0, 0, 0, time.UTC))
	oct := usage.Period{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := h.db.ClaimUsageReport(ctx, oct.Start, oct.End, h.ac.PartnerID()); err != nil {
		t.Fatal(err)
	}
	start, end := usage.ReportStartEnd(oct)
	orphan, err := h.acc.CreateReport(ctx, acronis.SummaryReport(h.ac.PartnerID(), start, end))
	if err != nil {
		t.Fatal(err)
	}
	st := exec[UsageReportStatus](h, h.acts.EnsureUsageReport, UsageReportInput{Period: oct})
	if st.Ref.ReportID != orphan.ID || len(h.ac.Reports()) != 1 {
		t.Fatalf("retry after the crash: report %s, %d in Acronis; want the orphan %s adopted, one report", st.Ref.ReportID, len(h.ac.Reports()), orphan.ID)
	}
	if st2 := exec[UsageReportStatus](h, h.acts.EnsureUsageReport, UsageReportInput{Period: oct}); st2.Ref != st.Ref || len(h.ac.Reports()) != 1 {
		t.Fatalf("second ensure = %+v; want %+v and still one report", st2.Ref, st.Ref)
	}

	// September's report fails: the next ensure creates a new one.
	sep := usage.Period{Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), End: oct.Start}
	h.ac.FailNextReports(1)
	bad := exec[UsageReportStatus](h, h.acts.EnsureUsageReport, UsageReportInput{Period: sep})
	h.clock.Set(h.clock.Now().Add(2 * time.Minute))
	if got := exec[UsageReportStatus](h, h.acts.PollUsageReport, bad.Ref); got.Status != acronis.StoredFailed {
		t.Fatalf("poll = %+v; want failed", got)
	}
	good := h.savedReport(sep)
	if good.Ref.ReportID == bad.Ref.ReportID || len(h.ac.Reports()) != 3 {
		t.Fatalf("after a failure: report %s (failed one %s), %d in Acronis; want a new third report", good.Ref.ReportID, bad.Ref.ReportID, len(h.ac.Reports()))
	}
}

// TestUsage_LastPeriodIsProratedByActiveDays: a pay-as-you-go contract that
// ends on November 12th bills 12 of November's 30 days, rounded up, and the
// ledger row says so.
func TestUsage_LastPeriodIsProratedByActiveDays(t *testing.T) {
	h := newUsageHarness(t)
	prev := usage.Setting{Period: settings.PeriodPreviousMonth}
	nov := usage.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	h.clock.Set(time.Date(2026, 11, 5, 6, 0, 0, 0, time.UTC))
	if err := h.at.EndContract(paygContract, time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 10, 100)
	st := h.savedReport(nov)
	ref := st.Ref
	out := h.collect(UsageBatchInput{Period: nov, EffectiveDate: usage.EffectiveDate(prev, nov, h.clock.Now()), Customers: []UsageCustomer{litware},
		Storage: []settings.StorageReport{settings.StorageClass2Billed}, ObservedAt: h.clock.Now(), Report: &ref})
	var csWS int64
	for _, p := range out.Customers[0].Pending {
		if p.ServiceID == atsandbox.ServiceWorkstations {
			csWS = p.ContractServiceID
		}
	}
	if csWS == 0 {
		t.Fatalf("workstations not reported: %+v", out.Customers[0])
	}
	ws := h.current(csWS, "pw_base_workstations", nov)
	// ceil(10 × 12 / 30) = 4
	if ws.BilledValue != "4" || ws.RawValue != "10" || !strings.Contains(ws.Rounding, "12 of 30 days active") {
		t.Fatalf("prorated workstations = raw %s billed %s rounding %q; want raw 10 billed 4 with the rule", ws.RawValue, ws.BilledValue, ws.Rounding)
	}
}

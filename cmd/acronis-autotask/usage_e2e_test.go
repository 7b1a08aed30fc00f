package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	usagepkg "github.com/acronis-autotask/acronis-autotask/internal/usage"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// TestE2E_WorkerKilledWhileABillingReportIsInProgress: the usage workflow
// settles the month before from its Acronis billing report (current_month
// setting, so from the 2nd of a month on). The worker is killed while the
// report is still being generated; after the restart the workflow polls
// the same report, settles the month, and Acronis holds exactly one report
// for it: no second report, no lost period.
func TestE2E_WorkerKilledWhileABillingReportIsInProgress(t *testing.T) {
	now := time.Now().UTC()
	if now.Day() < 2 {
		t.Skip("on the 1st the month before is not settled yet: Acronis generates its usage at the end of the 1st")
	}
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	prevStart := monthStart.AddDate(0, -1, 0)
	prev := prevStart.Format(time.DateOnly)
	s := newStack(t, true)
	s.seed(nil)
	// Long enough for the worker to die mid-generation, short enough that the
	// workflow's first poll after its one-minute timer finds it saved.
	s.acronis.SetReportDelay(20 * time.Second)
	reports := func() (n int, status string) {
		for _, r := range s.acronis.Reports() {
			if r.Start == prev {
				n++
				status = r.Status
			}
		}
		return n, status
	}
	first := s.start()
	eventually(t, 90*time.Second, "the month's billing report is in progress", func() (bool, string) {
		n, st := reports()
		return n == 1 && st == "in_progress", fmt.Sprintf("%d reports for %s, last %q", n, prev, st)
	})
	first.stop() // kill the worker while the report is generated

	second := s.start()
	t.Cleanup(func() {
		if t.Failed() {
			logs := second.logs.String()
			t.Logf("app's logs (tail):\n%s", logs[max(0, len(logs)-20000):])
		}
	})
	kr, _ := secrets.ParseKeyring(s.env["SECRETS_KEY"])
	st, err := store.Open(context.Background(), s.env["DATABASE_URL"], kr)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eventually(t, 3*time.Minute, "the month before is settled from its report", func() (bool, string) {
		rows, err := st.ListUsageReports(context.Background(), prevStart)
		if err != nil {
			return false, err.Error()
		}
		var states []string
		settled := false
		for _, r := range rows {
			if r.PeriodStart.Equal(prevStart) {
				states = append(states, r.ReportID+" "+r.Status)
				settled = settled || r.Status == store.ReportSettled
			}
		}
		return settled, fmt.Sprintf("usage_reports rows for %s: %v", prev, states)
	})
	if n, st := reports(); n != 1 || st != "saved" {
		t.Fatalf("Acronis has %d reports for %s (last %q); want exactly one, saved", n, prev, st)
	}
	// The run that settled the month, not the idle run it continued as.
	s.recordWorkingRun("usage-report-killed-worker", workflows.UsageReportWorkflowID, "SettleUsageReport")
}

// fabrikam has a pay-as-you-go contract in the demo data.
const fabrikam = 102

// TestE2E_BillingSwitchedOnSettlesTheMonthBeforeFromItsReport: with billing
// off nothing is provisioned or reported; once an admin switches it on,
// customers are provisioned, and a "report now" settles the month before
// from its billing report for them (Fabrikam is pay-as-you-go): its
// rows are recorded from the report, not as estimates, and written to
// Autotask. Recording this run gives the replay tests a settlement with
// customers, whose batches the killed-worker run above (started before any
// customer was mapped) does not have.
func TestE2E_BillingSwitchedOnSettlesTheMonthBeforeFromItsReport(t *testing.T) {
	now := time.Now().UTC()
	if now.Day() < 2 {
		t.Skip("on the 1st the month before is not settled yet: Acronis generates its usage at the end of the 1st")
	}
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	prevStart := monthStart.AddDate(0, -1, 0)
	s := newStack(t, true)
	s.seed(func(doc map[string]any) { doc["billingEnabled"] = false })
	a := s.start()
	kr, _ := secrets.ParseKeyring(s.env["SECRETS_KEY"])
	st, err := store.Open(context.Background(), s.env["DATABASE_URL"], kr)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eventually(t, 60*time.Second, "the first usage run, with billing off", func() (bool, string) {
		runs, err := st.ListAudit(context.Background(), store.AuditFilter{KindPrefix: "usage.report.run"})
		return err == nil && len(runs.Entries) > 0, fmt.Sprint(len(runs.Entries), " runs audited ", err)
	})
	if rows, err := st.ListUsage(context.Background(), store.UsageFilter{}); err != nil || len(rows) != 0 {
		t.Fatalf("with billing off the ledger holds %d rows (%v), want none", len(rows), err)
	}

	putSettingsChange(t, a, func(doc map[string]any) { doc["billingEnabled"] = true })
	eventually(t, 60*time.Second, "Fabrikam provisioned once billing is on", func() (bool, string) {
		st := status(a, fabrikam)
		return st["state"] == "active", fmt.Sprint(st["state"])
	})
	if code, body := a.call("POST", "/api/v1/usage/report-now", e2eAdmin, "", nil); code != 202 {
		t.Fatalf("POST /usage/report-now = %d %v", code, body["_raw"])
	}
	var settled []store.UsageRecord
	eventually(t, 2*time.Minute, "the month before settled from its report and written to Autotask", func() (bool, string) {
		rows, err := st.ListUsage(context.Background(), store.UsageFilter{From: prevStart, To: monthStart})
		if err != nil {
			return false, err.Error()
		}
		settled = settled[:0]
		var states []string
		for _, r := range rows {
			states = append(states, fmt.Sprintf("%s %s estimate=%v", r.Metric, r.State, r.Estimate))
			if !r.Estimate && r.State == store.UsageReported && r.AdjustmentID != nil {
				settled = append(settled, r)
			}
		}
		reports, _ := st.ListUsageReports(context.Background(), prevStart)
		done := false
		for _, r := range reports {
			done = done || (r.PeriodStart.Equal(prevStart) && r.Status == store.ReportSettled)
		}
		return done && len(settled) > 0 && len(settled) == len(rows), fmt.Sprintf("report settled %v, rows %v", done, states)
	})
	for _, r := range settled {
		var src usagepkg.Source
		if err := json.Unmarshal(r.Source, &src); err != nil || src.Kind != usagepkg.SourceReport || src.ReportID == "" {
			t.Errorf("row %s of the settled month has source %s (%v), want its billing report", r.Metric, r.Source, err)
		}
	}
	s.recordWorkingRun("usage-report-billing-on", workflows.UsageReportWorkflowID, "SettleUsageReport")
}

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
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
}

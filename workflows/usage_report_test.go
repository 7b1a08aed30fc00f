package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// usageWorld fakes the usage activities: every mapped customer has one
// pending row per run, written at once; calls are recorded.
type usageWorld struct {
	mu         sync.Mutex
	setting    usage.Setting
	billing    bool
	customers  int
	failBatch  int // CollectUsage fails for the batch starting at this company id (0: never)
	plans      []time.Time
	collects   []activities.UsageBatchInput
	writes     []activities.UsageWriteInput
	runsRecord []activities.UsageRunSummary

	// Billing reports: each report is in_progress for pollsToSave polls,
	// then saved; failReports makes that many reports fail first.
	pollsToSave int
	failReports int
	ensures     []usage.Period
	polls       []usage.ReportRef
	settles     []usage.ReportRef
	reports     map[usage.Period]*fakeReport
}

type fakeReport struct {
	ref    usage.ReportRef
	polls  int
	failed bool
}

func (w *usageWorld) ensure(_ context.Context, in activities.UsageReportInput) (activities.UsageReportStatus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ensures = append(w.ensures, in.Period)
	if w.reports == nil {
		w.reports = map[usage.Period]*fakeReport{}
	}
	r := w.reports[in.Period]
	if r == nil || r.failed { // a failed report is replaced by a new one
		n := len(w.ensures)
		r = &fakeReport{ref: usage.ReportRef{RowID: int64(n), ReportID: fmt.Sprintf("report-%d", n), Period: in.Period}}
		if w.failReports > 0 {
			w.failReports--
			r.failed = true
		}
		w.reports[in.Period] = r
	}
	return w.status(r), nil
}

func (w *usageWorld) status(r *fakeReport) activities.UsageReportStatus {
	switch {
	case r.failed:
		return activities.UsageReportStatus{Ref: r.ref, Status: acronis.StoredFailed, Error: "generation failed"}
	case r.polls < w.pollsToSave:
		return activities.UsageReportStatus{Ref: r.ref, Status: acronis.StoredInProgress}
	}
	ref := r.ref
	ref.StoredID = "stored-" + ref.ReportID
	return activities.UsageReportStatus{Ref: ref, Status: acronis.StoredSaved}
}

func (w *usageWorld) poll(_ context.Context, ref usage.ReportRef) (activities.UsageReportStatus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.polls = append(w.polls, ref)
	r := w.reports[ref.Period]
	r.polls++
	return w.status(r), nil
}

func (w *usageWorld) settle(_ context.Context, ref usage.ReportRef) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.settles = append(w.settles, ref)
	return nil
}

// live and fromReports split the recorded batches by where their figures come from.
func (w *usageWorld) live() []activities.UsageBatchInput {
	var out []activities.UsageBatchInput
	for _, c := range w.collects {
		if c.Report == nil {
			out = append(out, c)
		}
	}
	return out
}

func (w *usageWorld) fromReports() []activities.UsageBatchInput {
	var out []activities.UsageBatchInput
	for _, c := range w.collects {
		if c.Report != nil {
			out = append(out, c)
		}
	}
	return out
}

func (w *usageWorld) plan(_ context.Context, in activities.UsagePlanInput) (activities.UsageRunPlan, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.plans = append(w.plans, in.Now)
	p, due := usage.PeriodFor(w.setting, in.Now)
	plan := activities.UsageRunPlan{BillingEnabled: w.billing, Setting: w.setting, Period: p, Due: due,
		EffectiveDate: usage.EffectiveDate(w.setting, p, in.Now), Storage: []settings.StorageReport{settings.StorageClass2Billed}}
	if w.billing { // as PlanUsageRun: listed whenever billing is on, due or not
		for i := 1; i <= w.customers; i++ {
			plan.Customers = append(plan.Customers, activities.UsageCustomer{CompanyID: int64(i), TenantID: fmt.Sprintf("tenant-%d", i)})
		}
	}
	return plan, nil
}

func (w *usageWorld) collect(_ context.Context, in activities.UsageBatchInput) (activities.UsageBatchResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.collects = append(w.collects, in)
	if in.Customers[0].CompanyID == int64(w.failBatch) {
		return activities.UsageBatchResult{}, temporal.NewNonRetryableApplicationError("Acronis refused the batch", activities.ErrTypeRefused, nil)
	}
	var out activities.UsageBatchResult
	for _, c := range in.Customers {
		out.Customers = append(out.Customers, activities.UsageCustomerResult{CompanyID: c.CompanyID, TenantID: c.TenantID, Recorded: 1,
			Pending: []activities.PendingUsage{{LedgerID: c.CompanyID * 10, CompanyID: c.CompanyID, Billed: 3, EffectiveDate: in.EffectiveDate}}})
	}
	return out, nil
}

func (w *usageWorld) write(_ context.Context, in activities.UsageWriteInput) (activities.UsageWriteResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, in)
	var out activities.UsageWriteResult
	for _, r := range in.Rows {
		out.Rows = append(out.Rows, activities.UsageWriteOutcome{LedgerID: r.LedgerID, CompanyID: r.CompanyID, Outcome: activities.UsageWritten})
	}
	return out, nil
}

func (w *usageWorld) record(_ context.Context, s activities.UsageRunSummary) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runsRecord = append(w.runsRecord, s)
	return nil
}

type UsageReportSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	world *usageWorld
}

func TestUsageReportWorkflow(t *testing.T) { suite.Run(t, new(UsageReportSuite)) }

func (s *UsageReportSuite) SetupTest() {
	s.world = &usageWorld{setting: usage.Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: 1}, billing: true, customers: 3}
	s.newEnv(time.Date(2026, 10, 30, 10, 0, 0, 0, time.UTC))
}

// newEnv is a fresh environment (one per workflow generation) on the same world.
func (s *UsageReportSuite) newEnv(start time.Time) {
	s.env = s.NewTestWorkflowEnvironment()
	checkPools(s.T(), s.env)
	s.env.SetStartTime(start)
	s.env.RegisterActivity(&activities.Usage{})
	w := s.world
	s.env.OnActivity(activities.UsageActs.PlanUsageRun, mock.Anything, mock.Anything).Return(w.plan).Maybe()
	s.env.OnActivity(activities.UsageActs.CollectUsage, mock.Anything, mock.Anything).Return(w.collect).Maybe()
	s.env.OnActivity(activities.UsageActs.ReportUsage, mock.Anything, mock.Anything).Return(w.write).Maybe()
	s.env.OnActivity(activities.UsageActs.RecordUsageRun, mock.Anything, mock.Anything).Return(w.record).Maybe()
	s.env.OnActivity(activities.UsageActs.EnsureUsageReport, mock.Anything, mock.Anything).Return(w.ensure).Maybe()
	s.env.OnActivity(activities.UsageActs.PollUsageReport, mock.Anything, mock.Anything).Return(w.poll).Maybe()
	s.env.OnActivity(activities.UsageActs.SettleUsageReport, mock.Anything, mock.Anything).Return(w.settle).Maybe()
}

// generation runs one workflow generation from state and returns the state it continued as new with.
func (s *UsageReportSuite) generation(state UsageReportState) UsageReportState {
	s.env.ExecuteWorkflow(UsageReportWorkflow, state)
	s.Require().True(s.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	err := s.env.GetWorkflowError()
	s.Require().True(errors.As(err, &can), "workflow continued as new: %v", err)
	var next UsageReportState
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	return next
}

func utc(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

func (s *UsageReportSuite) TestCustomMonthSleepsOverTheMonthEndAndReportsTheMonthBefore() {
	s.world.customers = 120 // three batches: 50, 50, 20
	start := utc(2026, 10, 30, 10)
	next := s.generation(UsageReportState{NextRunAt: usage.NextRun(s.world.setting, start), Setting: s.world.setting})

	s.Equal([]time.Time{utc(2026, 11, 1, 0)}, s.world.plans, "one run, at midnight of the billing day")
	s.Require().Len(s.world.collects, 3)
	for i, want := range []int{50, 50, 20} {
		c := s.world.collects[i]
		s.Len(c.Customers, want, "batch %d", i)
		s.Equal(usage.Period{Start: utc(2026, 10, 1, 0), End: utc(2026, 11, 1, 0)}, c.Period, "October is reported")
		s.Equal(utc(2026, 10, 1, 0), c.EffectiveDate)
	}
	s.Len(s.world.writes, 3)
	s.Equal(utc(2026, 12, 1, 0), next.NextRunAt, "the next run is December 1st")
	s.Equal(1, next.Runs)
	s.Require().NotNil(next.LastRun)
	s.Equal(120, next.LastRun.Written)
	s.Empty(next.LastRun.Failed)
	s.Len(s.world.runsRecord, 1, "the run is recorded")
}

func (s *UsageReportSuite) TestCurrentMonthRunsDailyAcrossTheYearEnd() {
	s.world.setting = usage.Setting{Period: settings.PeriodCurrentMonth}
	s.newEnv(utc(2026, 12, 31, 15))
	// A new workflow runs at once, then sleeps until midnight.
	next := s.generation(UsageReportState{})
	s.Equal(utc(2027, 1, 1, 0), next.NextRunAt)
	live := s.world.live()
	s.Require().Len(live, 1)
	s.Equal(utc(2026, 12, 31, 0), live[0].EffectiveDate, "current month takes effect today")
	s.True(live[0].Estimate, "live current-month figures are estimates")
	// November, closed for a month, is settled from its billing report,
	// effective on its last day like its last estimate.
	settled := s.world.fromReports()
	s.Require().Len(settled, 1)
	s.Equal(usage.Period{Start: utc(2026, 11, 1, 0), End: utc(2026, 12, 1, 0)}, settled[0].Period)
	s.Equal(utc(2026, 11, 30, 0), settled[0].EffectiveDate)
	s.False(settled[0].Estimate)
	s.True(settled[0].Overage, "a settled period bills prepaid overage")
	s.False(live[0].Overage, "live estimates never bill overage")
	s.Equal(utc(2026, 12, 1, 0), next.SettledThrough)
	s.Empty(next.Unsettled)

	// The midnight run still reports December (the month so far is the whole
	// month), effective on its last day; its report is not asked for yet
	// (Acronis generates the month's usage at the end of the 1st).
	s.newEnv(utc(2026, 12, 31, 15).Add(time.Minute))
	next = s.generation(next)
	live = s.world.live()
	s.Require().Len(live, 2)
	s.Equal(usage.Period{Start: utc(2026, 12, 1, 0), End: utc(2027, 1, 1, 0)}, live[1].Period)
	s.Equal(utc(2026, 12, 31, 0), live[1].EffectiveDate)
	s.Len(s.world.fromReports(), 1, "no report for December on January 1st")
	s.Equal(utc(2027, 1, 2, 0), next.NextRunAt)
	s.Equal(2, next.Runs)

	// The next day reports January so far and settles December from its report.
	s.newEnv(utc(2027, 1, 1, 0).Add(time.Minute))
	next = s.generation(next)
	live = s.world.live()
	s.Equal(usage.Period{Start: utc(2027, 1, 1, 0), End: utc(2027, 2, 1, 0)}, live[2].Period)
	s.Equal(utc(2027, 1, 2, 0), live[2].EffectiveDate)
	settled = s.world.fromReports()
	s.Require().Len(settled, 2)
	s.Equal(usage.Period{Start: utc(2026, 12, 1, 0), End: utc(2027, 1, 1, 0)}, settled[1].Period)
	s.Equal(utc(2026, 12, 31, 0), settled[1].EffectiveDate, "the correction lands where the last estimate did")
	s.Equal("stored-"+settled[1].Report.ReportID, settled[1].Report.StoredID)
	s.Equal(utc(2027, 1, 1, 0), next.SettledThrough)
	s.Len(s.world.settles, 2)
}

// TestPreviousMonthIsSettledOnceFromItsReport: previous_month bills only from
// the billing report, once, across a leap-year February.
func (s *UsageReportSuite) TestPreviousMonthIsSettledOnceFromItsReport() {
	s.world.setting = usage.Setting{Period: settings.PeriodPreviousMonth}
	s.world.pollsToSave = 2
	s.newEnv(utc(2028, 2, 29, 12))
	next := s.generation(UsageReportState{NextRunAt: utc(2028, 3, 1, 0), Setting: s.world.setting})
	s.Empty(s.world.live(), "closed periods never bill live usage")
	settled := s.world.fromReports()
	s.Require().Len(settled, 1)
	s.Equal(usage.Period{Start: utc(2028, 2, 1, 0), End: utc(2028, 3, 1, 0)}, settled[0].Period, "February 2028 has 29 days")
	s.Equal("2028-02-01 – 2028-02-29", usage.ReportDates(settled[0].Period))
	s.Equal(utc(2028, 2, 1, 0), settled[0].EffectiveDate)
	s.Len(s.world.ensures, 1)
	s.Len(s.world.polls, 2, "polled until saved")
	s.Equal(utc(2028, 3, 1, 0), next.SettledThrough)

	// The next daily run has nothing left to settle for February.
	s.newEnv(utc(2028, 3, 1, 0).Add(time.Minute))
	next = s.generation(next)
	s.Len(s.world.ensures, 1, "no second report")
	s.Len(s.world.fromReports(), 1)
	s.Equal(utc(2028, 3, 3, 0), next.NextRunAt)
}

// TestRunsBeforePrepaidOverageSettlePAYGOnly: a run whose history has no
// versionPrepaidOverage marker (started by the previous release) settles the
// period as before, without overage; the same activities run in the same order.
func (s *UsageReportSuite) TestRunsBeforePrepaidOverageSettlePAYGOnly() {
	s.world.setting = usage.Setting{Period: settings.PeriodPreviousMonth}
	s.newEnv(utc(2028, 2, 29, 12))
	s.env.OnGetVersion(versionPrepaidOverage, workflow.DefaultVersion, workflow.Version(1)).Return(workflow.DefaultVersion)
	s.generation(UsageReportState{NextRunAt: utc(2028, 3, 1, 0), Setting: s.world.setting})
	settled := s.world.fromReports()
	s.Require().Len(settled, 1)
	s.False(settled[0].Overage)
	s.Len(s.world.writes, 1)
}

// TestALateReportIsSettledOnAnotherDayWithEveryCustomer: a report that is
// still not ready after the polling window is retried the next day, which
// is not a billing day, and still records every customer.
func (s *UsageReportSuite) TestALateReportIsSettledOnAnotherDayWithEveryCustomer() {
	s.world.setting = usage.Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: 28}
	s.world.pollsToSave = reportMaxPolls + 30 // not ready within the first run's window
	s.newEnv(utc(2027, 2, 27, 23))
	next := s.generation(UsageReportState{NextRunAt: utc(2027, 2, 28, 0), Setting: s.world.setting})
	s.Len(next.Unsettled, 1)
	s.Empty(s.world.collects)
	s.Equal(utc(2027, 2, 28, 1), next.NextRunAt, "retried an hour after the run started, not on March 28th")
	// The worker was down for the rest of the day: the retry runs on March 1st.
	s.newEnv(utc(2027, 3, 1, 0))
	next = s.generation(next)
	s.Empty(next.Unsettled)
	s.Require().Len(s.world.fromReports(), 1)
	s.Len(s.world.fromReports()[0].Customers, 3, "a day that is not the billing day still settles every customer")
	s.Len(s.world.ensures, 2, "the same report, found again")
	s.Equal(s.world.ensures[0], s.world.ensures[1])
}

// TestAFailedReportKeepsItsPeriod: a failed report leaves the period unsettled
// and retried within the hour with a new report; the month after is settled
// only after it, so no period is lost or overtaken.
func (s *UsageReportSuite) TestAFailedReportKeepsItsPeriod() {
	s.world.setting = usage.Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: 28}
	s.world.failReports = 1
	s.newEnv(utc(2027, 2, 27, 12))
	next := s.generation(UsageReportState{NextRunAt: utc(2027, 2, 28, 0), Setting: s.world.setting})
	jan28 := usage.Period{Start: utc(2027, 1, 28, 0), End: utc(2027, 2, 28, 0)}
	s.Equal([]usage.Period{jan28}, next.Unsettled)
	s.Empty(s.world.collects)
	s.Equal(utc(2027, 2, 28, 1), next.NextRunAt, "retried in an hour, not on March 28th")
	s.Require().NotEmpty(next.LastRun.Failed)
	s.Contains(next.LastRun.Failed[0], "failed")

	s.newEnv(utc(2027, 2, 28, 0).Add(time.Minute))
	next = s.generation(next)
	s.Empty(next.Unsettled)
	s.Require().Len(s.world.fromReports(), 1)
	s.Equal(jan28, s.world.fromReports()[0].Period)
	s.NotEqual(s.world.ensures, nil)
	s.Equal("report-2", s.world.fromReports()[0].Report.ReportID, "the failed report is replaced")
	s.Equal(utc(2027, 3, 28, 0), next.NextRunAt)
}

func (s *UsageReportSuite) TestBillingDay28CoversFebruary29() {
	s.world.setting = usage.Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: 28}
	start := utc(2028, 2, 28, 0).Add(time.Hour) // just after February's run
	s.newEnv(start)
	next := s.generation(UsageReportState{NextRunAt: usage.NextRun(s.world.setting, start), Setting: s.world.setting})
	s.Require().Len(s.world.collects, 1)
	s.Equal(usage.Period{Start: utc(2028, 2, 28, 0), End: utc(2028, 3, 28, 0)}, s.world.collects[0].Period)
	s.Equal(utc(2028, 4, 28, 0), next.NextRunAt)
}

func (s *UsageReportSuite) TestAFailedBatchDoesNotStopTheOthers() {
	s.world.customers = 120
	s.world.failBatch = 51 // the second batch
	next := s.generation(UsageReportState{NextRunAt: utc(2026, 11, 1, 0), Setting: s.world.setting})
	s.Len(s.world.collects, 3)
	s.Len(s.world.writes, 2, "the first and third batches are written")
	s.Equal(70, next.LastRun.Written)
	s.Len(next.LastRun.Failed, 50, "each customer of the failed batch is named")
	s.Contains(next.LastRun.Failed[0], "company 51")
}

func (s *UsageReportSuite) TestRunNowWakesTheWorkflowEarly() {
	s.world.billing = false
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(SignalUsageRunNow, nil) }, time.Hour)
	next := s.generation(UsageReportState{NextRunAt: utc(2026, 11, 1, 0), Setting: s.world.setting})
	s.Equal([]time.Time{utc(2026, 10, 30, 11)}, s.world.plans, "ran an hour after the start, not on the 1st")
	s.Empty(s.world.collects, "billing is off: nothing is collected")
	s.Equal(utc(2026, 11, 1, 0), next.NextRunAt, "the schedule is unchanged")
	s.False(next.LastRun.BillingEnabled)
}

func (s *UsageReportSuite) TestNotDueOnAnotherDayReportsNothing() {
	s.world.setting = usage.Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: 15}
	next := s.generation(UsageReportState{}) // a new workflow on October 30th
	s.Empty(s.world.collects)
	s.Equal(utc(2026, 11, 15, 0), next.NextRunAt)
	s.False(next.LastRun.Due)
}

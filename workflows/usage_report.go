package workflows

import (
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// UsageReportWorkflowID is the id of the one usage report workflow: a fixed
// natural key, so starting it twice (USE_EXISTING) never runs two reporters
// that could adjust the same contract service at once.
const UsageReportWorkflowID = "usage-report"

// UsageReportStartOptions starts (or joins) the one usage report workflow;
// start it with UsageReportState{} so its first run happens at once.
func UsageReportStartOptions(taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       UsageReportWorkflowID,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            "Usage report: reads Acronis pay-as-you-go usage and reports it on the customers' Autotask contracts",
	}
}

// SignalUsageRunNow asks the usage report workflow to run at once instead of
// at its next scheduled time (admin "report now", or settings changed).
const SignalUsageRunNow = "run-now"

// maxFailuresKept bounds the failures kept in the workflow state, which is
// also the continue-as-new input.
const maxFailuresKept = 50

// UsageReportState is the durable state of the usage report workflow: the
// continue-as-new input and the status query's answer.
type UsageReportState struct {
	// NextRunAt is the absolute time of the next run; zero runs at once.
	NextRunAt time.Time     `json:"nextRunAt"`
	Setting   usage.Setting `json:"setting"`
	// Runs counts finished runs over all continue-as-new generations.
	Runs    int             `json:"runs"`
	LastRun *UsageRunRecord `json:"lastRun,omitempty"`
	// Unsettled are the closed periods still to settle from a billing
	// report, oldest first: a period stays here until its report was read
	// and every batch recorded, across runs and continue-as-new, so a failed
	// or slow report never loses a period.
	Unsettled []usage.Period `json:"unsettled,omitempty"`
	// SettledThrough is the end of the latest period settled from a report.
	SettledThrough time.Time `json:"settledThrough,omitzero"`
}

// UsageRunRecord summarises one run for operators.
type UsageRunRecord struct {
	At             time.Time    `json:"at"`
	Period         usage.Period `json:"period"`
	Due            bool         `json:"due"`
	BillingEnabled bool         `json:"billingEnabled"`
	Customers      int          `json:"customers"`
	Recorded       int          `json:"recorded"`
	Corrected      int          `json:"corrected"`
	Written        int          `json:"written"`
	InEffect       int          `json:"inEffect"`
	// Failed names each customer or batch that failed, with why (first maxFailuresKept).
	Failed []string `json:"failed,omitempty"`
}

// UsageReportWorkflow reports pay-as-you-go usage into Autotask (SPEC F8):
// it sleeps on one durable timer until the next run of the configured
// reporting period, reports every mapped customer in batches of
// acronis.UsagesBatchSize, records the run, and continues as new, so the
// history stays one run long however many months it lives.
func UsageReportWorkflow(ctx workflow.Context, state UsageReportState) error {
	r := &usageReport{state: state}
	if err := r.setup(ctx); err != nil {
		return err
	}
	return r.run(ctx)
}

type usageReport struct {
	state  UsageReportState
	runNow workflow.ReceiveChannel
}

func (r *usageReport) setup(ctx workflow.Context) error {
	r.runNow = workflow.GetSignalChannel(ctx, SignalUsageRunNow)
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (UsageReportState, error) { return r.state, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	return nil
}

func (r *usageReport) run(ctx workflow.Context) error {
	if wait := r.state.NextRunAt.Sub(workflow.Now(ctx)); wait > 0 {
		// Wait for the next scheduled run or an operator's "run now", whichever
		// comes first; the "run now" is drained after the run it starts.
		if err := sleepOrSignal(ctx, wait, r.runNow, "Wait for the next usage report at "+r.state.NextRunAt.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}

	now := workflow.Now(ctx)
	rec := r.report(ctx, now)
	r.state.LastRun = &rec
	r.state.Runs++
	r.state.NextRunAt = usage.NextRun(r.state.Setting, now)
	if retry := now.Add(settleRetry); len(r.state.Unsettled) > 0 && retry.Before(r.state.NextRunAt) {
		// A period waits for its billing report: try again soon, not next month.
		r.state.NextRunAt = retry
	}

	// A "run now" that arrived during the run is answered by it; drain it so
	// the next generation does not run again at once, and let handlers finish
	// before the run is replaced.
	for r.runNow.ReceiveAsync(nil) {
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, UsageReportWorkflow, r.state)
}

// report runs one report at now. Failures are recorded, never returned: a
// failed batch is retried by the next run, which finds its ledger rows.
func (r *usageReport) report(ctx workflow.Context, now time.Time) UsageRunRecord {
	rec := UsageRunRecord{At: now}
	var plan activities.UsageRunPlan
	if err := execUsage(ctx, PoolLocal, "Plan the usage report", time.Minute, activities.UsageActs.PlanUsageRun, activities.UsagePlanInput{Now: now}).Get(ctx, &plan); err != nil {
		rec.fail("plan: " + err.Error())
		return rec
	}
	r.state.Setting = plan.Setting
	rec.Period, rec.Due, rec.BillingEnabled, rec.Customers = plan.Period, plan.Due, plan.BillingEnabled, len(plan.Customers)
	if workflow.GetVersion(ctx, versionBillingReport, workflow.DefaultVersion, 1) == 1 {
		r.reportWithBillingReports(ctx, plan, now, &rec)
		r.recordRun(ctx, now, &rec)
		return rec
	}
	if !plan.BillingEnabled || !plan.Due {
		return rec
	}
	// Runs recorded before versionBillingReport: every period from live
	// usage, the same activities in the same order as collectAndWrite.
	r.collectAndWrite(ctx, activities.UsageBatchInput{Period: plan.Period, EffectiveDate: plan.EffectiveDate, Storage: plan.Storage,
		ObservedAt: now}, plan.Customers, &rec)
	r.recordRun(ctx, now, &rec)
	return rec
}

// Billing report polling: Acronis says a report usually takes 1–2 minutes.
const (
	reportPollEvery = time.Minute
	reportMaxPolls  = 60
	// settleRetry is how soon a run retries a period whose report failed or
	// was not ready (Acronis refuses reports from 1 to 6 am while it
	// prepares the usage history).
	settleRetry = time.Hour
)

// reportWithBillingReports is a run under versionBillingReport:
//
//   - current_month: the month so far from live usage, each row marked as
//     an estimate; from the 2nd of a month on, the month before is settled
//     from its billing report (Acronis generates monthly usage at 23:59:59
//     UTC on the 1st, reference §5.2): a differing number becomes a
//     correction with the reason "billing report";
//   - previous_month and custom_billing_month: nothing from live usage; the
//     due period is settled from its billing report.
//
// Periods whose report fails or is not ready stay in Unsettled and are
// retried (settleRetry) before any newer period.
func (r *usageReport) reportWithBillingReports(ctx workflow.Context, plan activities.UsageRunPlan, now time.Time, rec *UsageRunRecord) {
	if !plan.BillingEnabled {
		return
	}
	current := plan.Setting.Period == settings.PeriodCurrentMonth
	switch {
	case current:
		end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		prev := usage.Period{Start: end.AddDate(0, -1, 0), End: end}
		if !now.Before(end.AddDate(0, 0, 1)) {
			r.queue(prev)
		}
	case plan.Due:
		r.queue(plan.Period)
	}
	if current && plan.Due {
		in := activities.UsageBatchInput{Period: plan.Period, EffectiveDate: plan.EffectiveDate, Storage: plan.Storage,
			StorageClasses: plan.StorageClasses, ObservedAt: now, Estimate: true}
		r.collectAndWrite(ctx, in, plan.Customers, rec)
	}
	for len(r.state.Unsettled) > 0 {
		p := r.state.Unsettled[0]
		if !r.settle(ctx, plan, p, now, rec) {
			return // keep the order: an older period is never overtaken
		}
		r.state.Unsettled = r.state.Unsettled[1:]
		if p.End.After(r.state.SettledThrough) {
			r.state.SettledThrough = p.End
		}
	}
}

// queue adds a closed period to Unsettled unless it is settled or queued.
func (r *usageReport) queue(p usage.Period) {
	if !p.End.After(r.state.SettledThrough) || slices.Contains(r.state.Unsettled, p) {
		return
	}
	r.state.Unsettled = append(r.state.Unsettled, p)
}

// settle settles one closed period from its billing report: the report is
// found or created (EnsureUsageReport is idempotent, so a worker restart
// resumes the same report), polled on durable timers until saved, then every
// batch is recorded from it and written. False leaves the period unsettled.
func (r *usageReport) settle(ctx workflow.Context, plan activities.UsageRunPlan, p usage.Period, now time.Time, rec *UsageRunRecord) bool {
	var st activities.UsageReportStatus
	if err := execUsage(ctx, PoolLocal, "find or create the billing report for "+usage.ReportDates(p), 2*time.Minute,
		activities.UsageActs.EnsureUsageReport, activities.UsageReportInput{Period: p}).Get(ctx, &st); err != nil {
		rec.fail(fmt.Sprintf("billing report for %s: %v", p, err))
		return false
	}
	for polls := 0; st.Status == acronis.StoredInProgress; polls++ {
		if polls == reportMaxPolls {
			rec.fail(fmt.Sprintf("billing report %s for %s: still in progress after %d polls", st.Ref.ReportID, p, polls))
			return false
		}
		timer := workflow.NewTimerWithOptions(ctx, reportPollEvery, workflow.TimerOptions{Summary: "wait for billing report " + st.Ref.ReportID})
		if err := timer.Get(ctx, nil); err != nil {
			rec.fail(fmt.Sprintf("billing report %s: %v", st.Ref.ReportID, err))
			return false
		}
		if err := execUsage(ctx, PoolLocal, "poll billing report "+st.Ref.ReportID, time.Minute,
			activities.UsageActs.PollUsageReport, st.Ref).Get(ctx, &st); err != nil {
			rec.fail(fmt.Sprintf("poll billing report %s: %v", st.Ref.ReportID, err))
			return false
		}
	}
	if st.Status != acronis.StoredSaved {
		rec.fail(fmt.Sprintf("billing report %s for %s failed: %s", st.Ref.ReportID, p, st.Error))
		return false
	}
	ref := st.Ref
	in := activities.UsageBatchInput{Period: p, EffectiveDate: usage.EffectiveDate(plan.Setting, p, now), Storage: plan.Storage,
		StorageClasses: plan.StorageClasses, ObservedAt: now, Report: &ref}
	// A settled period also bills prepaid items' usage above their contract
	// units (prepaid with overage); runs recorded before it settle PAYG only.
	in.Overage = workflow.GetVersion(ctx, versionPrepaidOverage, workflow.DefaultVersion, 1) == 1
	if !r.collectAndWrite(ctx, in, plan.Customers, rec) {
		return false
	}
	if err := execUsage(ctx, PoolLocal, "settle "+p.String()+" from billing report "+ref.ReportID, time.Minute,
		activities.UsageActs.SettleUsageReport, ref).Get(ctx, nil); err != nil {
		rec.fail(fmt.Sprintf("settle billing report %s: %v", ref.ReportID, err))
		return false
	}
	return true
}

// collectAndWrite records the usage of every customer in batches and writes
// the pending rows; false when any batch or row failed (what failed stays
// pending in the ledger, so running it again is safe).
func (r *usageReport) collectAndWrite(ctx workflow.Context, base activities.UsageBatchInput, customers []activities.UsageCustomer, rec *UsageRunRecord) bool {
	ok := true
	// Batches run one after another: each is one batched Acronis read and a
	// few Autotask queries, and sequential batches keep within both vendors'
	// rate limits without coordination.
	for batch := range slices.Chunk(customers, acronis.UsagesBatchSize) {
		in := base
		in.Customers = batch
		var collected activities.UsageBatchResult
		summary := fmt.Sprintf("collect usage of %d customers from company %d for %s", len(batch), batch[0].CompanyID, in.Period)
		if err := execUsage(ctx, PoolLocal, summary, 5*time.Minute, activities.UsageActs.CollectUsage, in).Get(ctx, &collected); err != nil {
			for _, c := range batch {
				rec.fail(fmt.Sprintf("company %d: collect usage: %v", c.CompanyID, err))
			}
			ok = false
			continue
		}
		var rows []activities.PendingUsage
		for _, c := range collected.Customers {
			rec.Recorded += c.Recorded
			rec.Corrected += c.Corrected
			if c.Error != "" {
				rec.fail(fmt.Sprintf("company %d: %s", c.CompanyID, c.Error))
				ok = false
			}
			rows = append(rows, c.Pending...)
		}
		if len(rows) == 0 {
			continue
		}
		var written activities.UsageWriteResult
		summary = fmt.Sprintf("write %d usage rows to Autotask", len(rows))
		if err := execUsage(ctx, PoolLocal, summary, 5*time.Minute, activities.UsageActs.ReportUsage, activities.UsageWriteInput{Rows: rows}).Get(ctx, &written); err != nil {
			rec.fail(fmt.Sprintf("companies %d…%d: write usage: %v", batch[0].CompanyID, batch[len(batch)-1].CompanyID, err))
			ok = false
			continue
		}
		for _, w := range written.Rows {
			switch w.Outcome {
			case activities.UsageWritten:
				rec.Written++
			case activities.UsageInEffect:
				rec.InEffect++
			case activities.UsageFailed:
				rec.fail(fmt.Sprintf("company %d: ledger row %d: %s", w.CompanyID, w.LedgerID, w.Error))
				ok = false
			}
		}
	}
	return ok
}

// recordRun audits a finished run (best effort).
func (r *usageReport) recordRun(ctx workflow.Context, now time.Time, rec *UsageRunRecord) {
	summary := activities.UsageRunSummary{Period: rec.Period, StartedAt: now, Customers: rec.Customers, Recorded: rec.Recorded,
		Corrected: rec.Corrected, Written: rec.Written, InEffect: rec.InEffect, Failed: rec.Failed}
	if err := execUsage(ctx, PoolLocal, "record the usage report", time.Minute, activities.UsageActs.RecordUsageRun, summary).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("recording the usage report failed", "error", err)
	}
}

func (rec *UsageRunRecord) fail(msg string) {
	if len(rec.Failed) < maxFailuresKept {
		rec.Failed = append(rec.Failed, msg)
	}
}

// usageStep is the bounded retry of the usage activities: what still fails
// is left pending in the ledger for the next run.
var usageStep = activityOptions{
	Heartbeat: 20 * time.Second,
	Retry: &temporal.RetryPolicy{
		InitialInterval:    5 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    2 * time.Minute,
		MaximumAttempts:    5,
	},
}

// execUsage runs one usage activity on pool with the usage policy and timeout.
// The usage activities read the store and both APIs in one batch, so they run
// on the workflow's queue.
func execUsage(ctx workflow.Context, pool Pool, summary string, timeout time.Duration, activity any, args ...any) workflow.Future {
	o := usageStep.on(pool, summary)
	o.StartToClose = timeout
	return executeActivity(ctx, o, activity, args...)
}

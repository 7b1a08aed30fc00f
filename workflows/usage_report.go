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
		// Wait for the next scheduled run or an operator's "run now", whichever comes first.
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{
			Summary: "next usage report at " + r.state.NextRunAt.UTC().Format(time.RFC3339)})
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(timer, func(workflow.Future) {})
		sel.AddReceive(r.runNow, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil) })
		sel.Select(ctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
	}

	now := workflow.Now(ctx)
	rec := r.report(ctx, now)
	r.state.LastRun = &rec
	r.state.Runs++
	r.state.NextRunAt = usage.NextRun(r.state.Setting, now)

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
	log := workflow.GetLogger(ctx)
	rec := UsageRunRecord{At: now}
	var plan activities.UsageRunPlan
	if err := execUsage(ctx, "plan the usage report", time.Minute, activities.UsageActs.PlanUsageRun, activities.UsagePlanInput{Now: now}).Get(ctx, &plan); err != nil {
		rec.fail("plan: " + err.Error())
		return rec
	}
	r.state.Setting = plan.Setting
	rec.Period, rec.Due, rec.BillingEnabled, rec.Customers = plan.Period, plan.Due, plan.BillingEnabled, len(plan.Customers)
	if !plan.BillingEnabled || !plan.Due {
		return rec
	}
	// Batches run one after another: each is one batched Acronis read and a
	// few Autotask queries, and sequential batches keep within both vendors'
	// rate limits without coordination.
	for batch := range slices.Chunk(plan.Customers, acronis.UsagesBatchSize) {
		in := activities.UsageBatchInput{Period: plan.Period, EffectiveDate: plan.EffectiveDate, Storage: plan.Storage,
			Customers: batch, ObservedAt: now}
		var collected activities.UsageBatchResult
		summary := fmt.Sprintf("collect usage of %d customers from company %d", len(batch), batch[0].CompanyID)
		if err := execUsage(ctx, summary, 5*time.Minute, activities.UsageActs.CollectUsage, in).Get(ctx, &collected); err != nil {
			for _, c := range batch {
				rec.fail(fmt.Sprintf("company %d: collect usage: %v", c.CompanyID, err))
			}
			continue
		}
		var rows []activities.PendingUsage
		for _, c := range collected.Customers {
			rec.Recorded += c.Recorded
			rec.Corrected += c.Corrected
			if c.Error != "" {
				rec.fail(fmt.Sprintf("company %d: %s", c.CompanyID, c.Error))
			}
			rows = append(rows, c.Pending...)
		}
		if len(rows) == 0 {
			continue
		}
		var written activities.UsageWriteResult
		summary = fmt.Sprintf("write %d usage rows to Autotask", len(rows))
		if err := execUsage(ctx, summary, 5*time.Minute, activities.UsageActs.ReportUsage, activities.UsageWriteInput{Rows: rows}).Get(ctx, &written); err != nil {
			rec.fail(fmt.Sprintf("companies %d…%d: write usage: %v", batch[0].CompanyID, batch[len(batch)-1].CompanyID, err))
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
			}
		}
	}
	summary := activities.UsageRunSummary{Period: rec.Period, StartedAt: now, Customers: rec.Customers, Recorded: rec.Recorded,
		Corrected: rec.Corrected, Written: rec.Written, InEffect: rec.InEffect, Failed: rec.Failed}
	if err := execUsage(ctx, "record the usage report", time.Minute, activities.UsageActs.RecordUsageRun, summary).Get(ctx, nil); err != nil {
		log.Error("recording the usage report failed", "error", err)
	}
	return rec
}

func (rec *UsageRunRecord) fail(msg string) {
	if len(rec.Failed) < maxFailuresKept {
		rec.Failed = append(rec.Failed, msg)
	}
}

// execUsage runs one usage activity with a bounded retry: what still fails is
// left pending in the ledger for the next run.
func execUsage(ctx workflow.Context, summary string, timeout time.Duration, activity any, args ...any) workflow.Future {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		// The worker heartbeats every running activity: a killed worker's step
		// is retried within seconds, not after its whole timeout.
		HeartbeatTimeout: 20 * time.Second,
		Summary:          summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Minute,
			MaximumAttempts:    5,
		},
	})
	return workflow.ExecuteActivity(ctx, activity, args...)
}

package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// runsPerContinueAsNew keeps a polling workflow's history short: each run adds about a dozen events.
const runsPerContinueAsNew = 200

// poller is what a polling singleton (contract sync, alert sync) adds to the
// loop they share: one activity per run, then a durable sleep until the next
// interval or a "sync now", and continue-as-new every runsPerContinueAsNew runs.
type poller struct {
	// what names the poll in the timer's summary ("contract sync").
	what string
	// syncNow cuts a sleep short; syncNowAsked is called for every request
	// drained, so the next run serves all of them.
	syncNow      workflow.ReceiveChannel
	syncNowAsked func()
	// poll runs one poll, records its outcome in the state and returns how
	// long to sleep before the next one.
	poll func(ctx workflow.Context) time.Duration
	// continueAsNew is the error that continues the workflow with its state.
	continueAsNew func(ctx workflow.Context) error
}

// run polls until the workflow is cancelled or continues as new.
func (p poller) run(ctx workflow.Context) error {
	for runs := 0; ; runs++ {
		p.drain()
		wait := p.poll(ctx)
		if runs+1 >= runsPerContinueAsNew || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// The next run starts with a fresh poll, which serves any "sync now" drained here.
			p.drain()
			return p.continueAsNew(ctx)
		}
		// Sleep until the next interval; a "sync now" cuts it short.
		next := workflow.Now(ctx).Add(wait)
		if err := sleepOrSignal(ctx, wait, p.syncNow, "Wait for the next "+p.what+" at "+next.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}
}

func (p poller) drain() {
	for p.syncNow.ReceiveAsync(nil) {
		p.syncNowAsked()
	}
}

// pollFailed counts a failed run in a polling state's failures and last
// error and returns the sleep before the next run: failures × unit, at most
// 15 minutes.
func pollFailed(ctx workflow.Context, what string, failures *int, lastError *string, err error, unit time.Duration) time.Duration {
	*failures++
	*lastError = errorText(err)
	workflow.GetLogger(ctx).Warn(what+" failed", "failures", *failures, "error", *lastError)
	return min(time.Duration(*failures)*unit, 15*time.Minute)
}

// pollDetails is what the Temporal UI shows of a polling workflow after a run.
func pollDetails(ctx workflow.Context, now time.Time, summary string, next time.Time) {
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Last run %s: %s. Next run at %s.",
		now.UTC().Format(time.RFC3339), summary, next.UTC().Format(time.RFC3339)))
}

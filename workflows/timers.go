package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// deadlineTimer keeps at most one pending timer, for an absolute deadline,
// and replaces it only when the deadline moves (samples-go updatabletimer):
// re-arming on every loop would add a cancel and a start to the history each
// time the workflow wakes.
type deadlineTimer struct {
	at     time.Time
	cancel workflow.CancelFunc
	future workflow.Future
}

// set arms the timer for at (zero: no timer), cancelling the pending one when
// at moved. A deadline already past fires after minWait.
func (t *deadlineTimer) set(ctx workflow.Context, at time.Time, minWait time.Duration, summary string) {
	if at.Equal(t.at) && (t.future != nil || at.IsZero()) {
		return
	}
	if t.cancel != nil {
		t.cancel()
	}
	t.future, t.cancel, t.at = nil, nil, time.Time{}
	if at.IsZero() {
		return
	}
	tctx, cancel := workflow.WithCancel(ctx)
	t.future = workflow.NewTimerWithOptions(tctx, max(at.Sub(workflow.Now(ctx)), minWait), workflow.TimerOptions{Summary: summary})
	t.cancel, t.at = cancel, at
}

// addTo lets sel wake on the pending timer, if any; once it fired the timer
// is unset, so the next set arms a new one even for the same deadline.
func (t *deadlineTimer) addTo(sel workflow.Selector) {
	if t.future != nil {
		sel.AddFuture(t.future, func(workflow.Future) { t.future, t.at = nil, time.Time{} })
	}
}

// sleepOrSignal waits for wait, cut short by a message on wake ("sync now",
// "run now"), which it leaves in the channel for the caller to drain; the
// timer is cancelled when the message wins, so at most one timer is pending.
// It returns the context's error when the workflow is cancelled.
func sleepOrSignal(ctx workflow.Context, wait time.Duration, wake workflow.ReceiveChannel, summary string) error {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimerWithOptions(timerCtx, wait, workflow.TimerOptions{Summary: summary})
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.AddReceive(wake, func(workflow.ReceiveChannel, bool) {})
	sel.Select(ctx)
	return ctx.Err()
}

package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// sleepOrSignal waits for the polling interval, cut short by a message on
// wake ("sync now"); the timer is cancelled when the message wins, so at
// most one timer is pending. It returns the context's error when the
// workflow is cancelled.
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

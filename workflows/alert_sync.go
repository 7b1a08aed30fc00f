package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
)

// AlertSyncState is the alert sync's durable state: its cursor and what the
// last runs did. It is the continue-as-new input and the status answer.
type AlertSyncState struct {
	Cursor    activities.AlertCursor      `json:"cursor"`
	Last      *activities.AlertSyncResult `json:"last,omitempty"`
	LastRunAt time.Time                   `json:"lastRunAt,omitzero"`
	NextRunAt time.Time                   `json:"nextRunAt,omitzero"`
	LastError string                      `json:"lastError,omitempty"`
	Failures  int                         `json:"failures"`
	Runs      int64                       `json:"runs"`
}

// AlertSyncWorkflow polls Acronis alerts forever (id "alert-sync"): each run
// reads the alerts changed since the cursor and hands them to their ticket
// workflows, then sleeps until the next interval or a "sync now" signal.
func AlertSyncWorkflow(ctx workflow.Context, state AlertSyncState) error {
	syncNow := workflow.GetSignalChannel(ctx, SignalSyncNow)
	if err := workflow.SetQueryHandler(ctx, QueryAlertStatus, func() (AlertSyncState, error) { return state, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	// The sync pages through both APIs under their own rate limits, so it runs on the workflow's queue.
	actx := withActivityOptions(ctx, activityOptions{
		Pool:         PoolLocal,
		Summary:      "Read changed Acronis alerts and notify their workflows",
		StartToClose: 10 * time.Minute,
		Heartbeat:    20 * time.Second,
		Retry: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 3,
		},
	})
	for runs := 0; ; runs++ {
		// Drain "sync now" requests: this run serves all of them, the
		// completed-ticket check included (it otherwise runs on its own interval).
		for syncNow.ReceiveAsync(nil) {
			state.Cursor.CheckTickets = true
		}
		var res activities.AlertSyncResult
		err := workflow.ExecuteActivity(actx, activities.AlertActs.SyncAlerts, state.Cursor).Get(ctx, &res)
		now := workflow.Now(ctx)
		wait := 30 * time.Second
		if err != nil {
			state.Failures++
			state.LastError = errorText(err)
			wait = min(time.Duration(state.Failures)*30*time.Second, 15*time.Minute)
			workflow.GetLogger(ctx).Warn("alert sync failed", "failures", state.Failures, "error", state.LastError)
		} else {
			state.Cursor, state.Last, state.LastRunAt = res.Cursor, &res, now
			state.Failures, state.LastError = 0, ""
			state.Runs++
			if res.NextRunIn > 0 {
				wait = res.NextRunIn
			}
		}
		state.NextRunAt = now.Add(wait)
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Last run %s: %s. Next run at %s.",
			now.UTC().Format(time.RFC3339), alertSyncSummary(state), state.NextRunAt.UTC().Format(time.RFC3339)))

		if runs+1 >= runsPerContinueAsNew || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// The next run starts with a fresh sync, which serves any "sync now" drained here.
			for syncNow.ReceiveAsync(nil) {
				state.Cursor.CheckTickets = true
			}
			return workflow.NewContinueAsNewError(ctx, AlertSyncWorkflow, state)
		}
		// Sleep until the next interval; a "sync now" cuts it short.
		if err := sleepOrSignal(ctx, wait, syncNow, "Wait for the next alert sync at "+state.NextRunAt.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}
}

func alertSyncSummary(s AlertSyncState) string {
	if s.LastError != "" {
		return fmt.Sprintf("failed %d times, last: %s", s.Failures, s.LastError)
	}
	if s.Last == nil {
		return "not run yet"
	}
	return fmt.Sprintf("%d alerts read, %d handed to their workflows, %d tickets completed in Autotask",
		s.Last.Alerts, s.Last.Notified, s.Last.TicketsComplete)
}

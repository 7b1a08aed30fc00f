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
	return poller{
		what:    "alert sync",
		syncNow: syncNow,
		// The run serves every "sync now", the completed-ticket check included
		// (it otherwise runs on its own interval).
		syncNowAsked: func() { state.Cursor.CheckTickets = true },
		poll: func(ctx workflow.Context) time.Duration {
			var res activities.AlertSyncResult
			err := workflow.ExecuteActivity(actx, activities.AlertActs.SyncAlerts, state.Cursor).Get(ctx, &res)
			now := workflow.Now(ctx)
			wait := 30 * time.Second
			if err != nil {
				wait = pollFailed(ctx, "alert sync", &state.Failures, &state.LastError, err, 30*time.Second)
			} else {
				state.Cursor, state.Last, state.LastRunAt = res.Cursor, &res, now
				state.Failures, state.LastError = 0, ""
				state.Runs++
				if res.NextRunIn > 0 {
					wait = res.NextRunIn
				}
			}
			state.NextRunAt = now.Add(wait)
			pollDetails(ctx, now, alertSyncSummary(state), state.NextRunAt)
			return wait
		},
		continueAsNew: func(ctx workflow.Context) error {
			return workflow.NewContinueAsNewError(ctx, AlertSyncWorkflow, state)
		},
	}.run(ctx)
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

package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
)

// ContractSyncState is the contract sync's durable state: its cursor and what
// the last runs did. It is the continue-as-new input and the status answer.
type ContractSyncState struct {
	Cursor     activities.SyncCursor  `json:"cursor"`
	Last       *activities.SyncResult `json:"last,omitempty"`
	LastRunAt  time.Time              `json:"lastRunAt,omitempty"`
	LastError  string                 `json:"lastError,omitempty"`
	Failures   int                    `json:"failures"`
	Runs       int64                  `json:"runs"`
	NextRunAt  time.Time              `json:"nextRunAt,omitempty"`
	LastCycle  time.Duration          `json:"lastCycle,omitempty"`
	TotalCalls int64                  `json:"totalRequests"`
}

// ContractSyncWorkflow polls Autotask for contract changes forever (id
// "contract-sync"): each run is one activity, then a durable sleep until the
// next interval or a "sync now" signal.
func ContractSyncWorkflow(ctx workflow.Context, state ContractSyncState) error {
	syncNow := workflow.GetSignalChannel(ctx, SignalSyncNow)
	if err := workflow.SetQueryHandler(ctx, QuerySyncStatus, func() (ContractSyncState, error) { return state, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	// The sync reads Autotask under the budget it shares out itself and signals
	// customer workflows, so it runs on the workflow's queue.
	actx := withActivityOptions(ctx, activityOptions{
		Pool:         PoolLocal,
		Summary:      "Read contract changes from Autotask and notify their customers",
		StartToClose: 30 * time.Minute,
		Heartbeat:    2 * time.Minute,
		Retry: &temporal.RetryPolicy{
			InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 2 * time.Minute, MaximumAttempts: 3,
		},
	})
	return poller{
		what:         "contract sync",
		syncNow:      syncNow,
		syncNowAsked: func() { state.Cursor.PollNow = true }, // poll at once
		poll: func(ctx workflow.Context) time.Duration {
			var res activities.SyncResult
			err := workflow.ExecuteActivity(actx, activities.ContractSyncActs.SyncContracts, state.Cursor).Get(ctx, &res)
			now := workflow.Now(ctx)
			wait := time.Minute
			if err != nil {
				wait = pollFailed(ctx, "contract sync", &state.Failures, &state.LastError, err, time.Minute)
			} else {
				state.Cursor, state.Last, state.LastRunAt = res.Cursor, &res, now
				state.Failures, state.LastError = 0, ""
				state.Runs++
				state.TotalCalls += res.Requests
				if res.CycleCompleted {
					state.LastCycle = res.LastCycle
				}
				wait = res.NextRunIn
			}
			state.NextRunAt = now.Add(wait)
			pollDetails(ctx, now, syncSummary(state), state.NextRunAt)
			return wait
		},
		continueAsNew: func(ctx workflow.Context) error {
			return workflow.NewContinueAsNewError(ctx, ContractSyncWorkflow, state)
		},
	}.run(ctx)
}

func syncSummary(s ContractSyncState) string {
	if s.LastError != "" {
		return fmt.Sprintf("failed %d times, last: %s", s.Failures, s.LastError)
	}
	if s.Last == nil {
		return "not run yet"
	}
	l := s.Last
	return fmt.Sprintf("%d contracts and %d unit rows changed, %d companies notified, %d Autotask requests",
		l.ChangedContracts, l.ChangedUnitRows, l.CompaniesNotified, l.Requests)
}

package workflows

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
)

// The tenant sync is one long-running workflow per namespace.
const (
	// TenantSyncWorkflowID names the singleton tenant sync.
	TenantSyncWorkflowID = "tenant-sync"
	// QueryTenantSyncStatus returns a TenantSyncState.
	QueryTenantSyncStatus = "status"
	// tenantSyncEvery is the pause between two listings: mappings are made by
	// admins, who see a new tenant within this delay (or run "sync now").
	tenantSyncEvery = 5 * time.Minute
	// suggestPendingWait is the pause while suggestions remain to recompute.
	suggestPendingWait = 10 * time.Second
)

// TenantSyncState is the tenant sync's durable state; it is the
// continue-as-new input and the status answer.
type TenantSyncState struct {
	// Run numbers complete listings; the store marks tenants an earlier run saw and this one did not.
	Run       int64                        `json:"run"`
	Last      *activities.TenantSyncResult `json:"last,omitempty"`
	LastRunAt time.Time                    `json:"lastRunAt,omitzero"`
	LastError string                       `json:"lastError,omitempty"`
	Failures  int                          `json:"failures"`
}

// TenantSyncWorkflow keeps the read model's copy of the partner's Acronis
// tenants (id "tenant-sync"): each run is one activity on the Acronis pool,
// then a durable sleep until the next interval or a "sync now" signal.
func TenantSyncWorkflow(ctx workflow.Context, state TenantSyncState) error {
	syncNow := workflow.GetSignalChannel(ctx, SignalSyncNow)
	if err := workflow.SetQueryHandler(ctx, QueryTenantSyncStatus, func() (TenantSyncState, error) { return state, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	// The activity lists Acronis, so it runs on the Acronis pool.
	step := activityOptions{
		Pool:         PoolAcronis,
		Summary:      "Copy the Acronis tenants under the partner into the read model",
		StartToClose: 15 * time.Minute,
		Heartbeat:    time.Minute,
		Retry: &temporal.RetryPolicy{
			InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 2 * time.Minute, MaximumAttempts: 3,
		},
	}
	for runs := 0; ; runs++ {
		for syncNow.ReceiveAsync(nil) {
		}
		var res activities.TenantSyncResult
		err := executeActivity(ctx, step, activities.TenantSyncActs.SyncTenants, state.Run+1).Get(ctx, &res)
		now := workflow.Now(ctx)
		wait := tenantSyncEvery
		if err != nil {
			state.Failures++
			state.LastError = errorText(err)
			wait = min(time.Duration(state.Failures)*time.Minute, tenantSyncEvery)
			workflow.GetLogger(ctx).Warn("tenant sync failed", "failures", state.Failures, "error", state.LastError)
		} else {
			state.Run, state.Last, state.LastRunAt = res.Run, &res, now
			state.Failures, state.LastError = 0, ""
			if res.SuggestPending > 0 {
				wait = suggestPendingWait // more suggestions to recompute: come back soon
			}
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Last run %s: %s.", now.UTC().Format(time.RFC3339), tenantSyncSummary(state)))
		if runs+1 >= runsPerContinueAsNew || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, TenantSyncWorkflow, state)
		}
		// Sleep until the next listing; a "sync now" cuts it short.
		if err := sleepOrSignal(ctx, wait, syncNow, "next tenant sync"); err != nil {
			return err
		}
	}
}

func tenantSyncSummary(s TenantSyncState) string {
	if s.LastError != "" {
		return fmt.Sprintf("failed %d times, last: %s", s.Failures, s.LastError)
	}
	if s.Last == nil {
		return "not run yet"
	}
	return fmt.Sprintf("%d tenants listed, %d gone, %d support-access probes", s.Last.Tenants, s.Last.Deleted, s.Last.Probed)
}

// TenantSyncStartOptions starts (or joins) the singleton tenant sync.
func TenantSyncStartOptions(taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       TenantSyncWorkflowID,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "Copies the Acronis tenants under the partner into the read model",
	}
}

// TenantSyncNow runs the tenant sync at once, starting it if it is not running.
func (c Customers) TenantSyncNow(ctx context.Context) error {
	_, err := c.Client.SignalWithStartWorkflow(ctx, TenantSyncWorkflowID, SignalSyncNow, nil,
		TenantSyncStartOptions(c.TaskQueue), TenantSyncWorkflow, TenantSyncState{})
	if err != nil {
		return fmt.Errorf("start tenant sync: %w", err)
	}
	return nil
}

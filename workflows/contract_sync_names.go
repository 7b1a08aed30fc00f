package workflows

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// The contract sync is one long-running workflow per namespace.
const (
	// ContractSyncWorkflowID names the singleton contract sync.
	ContractSyncWorkflowID = "contract-sync"
	// SignalSyncNow makes the contract sync run at once instead of at its next interval.
	SignalSyncNow = "sync-now"
	// QuerySyncStatus returns a ContractSyncStatus.
	QuerySyncStatus = "status"
)

// ContractSyncStartOptions starts (or joins) the singleton contract sync.
func ContractSyncStartOptions(taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       ContractSyncWorkflowID,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "Contract sync: reads Autotask companies, contracts and units and tells each customer workflow what changed",
	}
}

// SyncNow runs the contract sync at once, starting it if it is not running.
func (c Customers) SyncNow(ctx context.Context) error {
	_, err := c.Client.SignalWithStartWorkflow(ctx, ContractSyncWorkflowID, SignalSyncNow, nil,
		ContractSyncStartOptions(c.TaskQueue), ContractSyncWorkflow, ContractSyncState{})
	if err != nil {
		return fmt.Errorf("start contract sync: %w", err)
	}
	return nil
}

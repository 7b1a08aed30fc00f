package workflows

import (
	"context"
	"fmt"

	"github.com/acronis-autotask/acronis-autotask/internal/company"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// CustomerStartOptions starts (or joins) the one workflow of a company: the
// id is the natural key and a running workflow is reused, so concurrent
// starters never create two.
func CustomerStartOptions(companyID int64, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       CustomerWorkflowID(companyID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    searchAttributesFor(companyID),
		StaticSummary:            fmt.Sprintf("Autotask company %d", companyID),
	}
}

// Customers starts and messages customer workflows for code outside them
// (the contract sync activity, the REST API).
type Customers struct {
	Client    client.Client
	TaskQueue string
}

// NotifyContracts delivers a company snapshot, starting the company's
// workflow if it is not running.
func (c Customers) NotifyContracts(ctx context.Context, snap company.Snapshot) error {
	_, err := c.Client.SignalWithStartWorkflow(ctx, CustomerWorkflowID(snap.CompanyID), SignalContracts, snap,
		CustomerStartOptions(snap.CompanyID, c.TaskQueue), CustomerWorkflow, CustomerState{CompanyID: snap.CompanyID, CompanyName: snap.CompanyName})
	if err != nil {
		return fmt.Errorf("signal customer %d: %w", snap.CompanyID, err)
	}
	return nil
}

// Refresh asks a company's workflow to re-read the company from Autotask,
// starting the workflow if needed.
func (c Customers) Refresh(ctx context.Context, companyID int64) error {
	_, err := c.Client.SignalWithStartWorkflow(ctx, CustomerWorkflowID(companyID), SignalRefresh, nil,
		CustomerStartOptions(companyID, c.TaskQueue), CustomerWorkflow, CustomerState{CompanyID: companyID})
	if err != nil {
		return fmt.Errorf("refresh customer %d: %w", companyID, err)
	}
	return nil
}

// Update runs an admin update (map, unmap, hold, release, deprovision-now)
// on a company's workflow, starting it if needed, and returns its answer.
// A validator's rejection and a handler's refusal both come back as errors.
func (c Customers) Update(ctx context.Context, companyID int64, name string, arg any) (ActionResult, error) {
	start := c.Client.NewWithStartWorkflowOperation(CustomerStartOptions(companyID, c.TaskQueue), CustomerWorkflow, CustomerState{CompanyID: companyID})
	h, err := c.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   CustomerWorkflowID(companyID),
			UpdateName:   name,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return ActionResult{}, err
	}
	var out ActionResult
	return out, h.Get(ctx, &out)
}

// Status queries a company's workflow.
func (c Customers) Status(ctx context.Context, companyID int64) (CustomerStatus, error) {
	v, err := c.Client.QueryWorkflow(ctx, CustomerWorkflowID(companyID), "", QueryStatus)
	if err != nil {
		return CustomerStatus{}, err
	}
	var st CustomerStatus
	return st, v.Get(&st)
}

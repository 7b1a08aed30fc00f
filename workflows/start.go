package workflows

import (
	"context"
	"fmt"

	"github.com/acronis-autotask/acronis-autotask/internal/company"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// CustomerStartOptions starts (or joins) the one workflow of a company with
// start as its input: the id is the natural key and a running workflow is
// reused, so concurrent starters never create two.
func CustomerStartOptions(start CustomerState, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       CustomerWorkflowID(start.CompanyID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    searchAttributesFor(start.CompanyID),
		StaticSummary:            CustomerSummary(start.CompanyName, start.CompanyID, start.TenantID),
	}
}

// CustomerSummary is the line the Temporal UI shows for a customer workflow
// in its list and on top of its page, so operators find a customer by name
// ("Litware Inc. · Autotask company 107 · Acronis tenant 7c0…"). The name and
// tenant are left out when the starter does not know them: the summary is
// fixed when the workflow starts.
func CustomerSummary(companyName string, companyID int64, tenantID string) string {
	s := fmt.Sprintf("Autotask company %d", companyID)
	if companyName != "" {
		s = companyName + " · " + s
	}
	if tenantID != "" {
		s += " · Acronis tenant " + tenantID
	}
	return s
}

// Company names a customer for the code that starts its workflow; Name may be
// empty when the caller does not know it.
type Company struct {
	ID   int64
	Name string
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
	start := CustomerState{CompanyID: snap.CompanyID, CompanyName: snap.CompanyName}
	_, err := c.Client.SignalWithStartWorkflow(ctx, CustomerWorkflowID(snap.CompanyID), SignalContracts, snap,
		CustomerStartOptions(start, c.TaskQueue), CustomerWorkflow, start)
	if err != nil {
		return fmt.Errorf("signal customer %d: %w", snap.CompanyID, err)
	}
	return nil
}

// Refresh asks a company's workflow to re-read the company from Autotask,
// starting the workflow if needed.
func (c Customers) Refresh(ctx context.Context, co Company) error {
	start := CustomerState{CompanyID: co.ID, CompanyName: co.Name}
	_, err := c.Client.SignalWithStartWorkflow(ctx, CustomerWorkflowID(co.ID), SignalRefresh, nil,
		CustomerStartOptions(start, c.TaskQueue), CustomerWorkflow, start)
	if err != nil {
		return fmt.Errorf("refresh customer %d: %w", co.ID, err)
	}
	return nil
}

// Update runs an admin update (map, unmap, hold, release, deprovision-now)
// on a company's workflow, starting it if needed, and returns its answer.
// A validator's rejection and a handler's refusal both come back as errors.
func (c Customers) Update(ctx context.Context, co Company, name string, arg any) (ActionResult, error) {
	// The workflow's input stays the bare company: the update itself maps it.
	summary := CustomerState{CompanyID: co.ID, CompanyName: co.Name}
	if m, ok := arg.(MapRequest); ok {
		summary.TenantID = m.TenantID
	}
	opts := CustomerStartOptions(summary, c.TaskQueue)
	start := c.Client.NewWithStartWorkflowOperation(opts, CustomerWorkflow, CustomerState{CompanyID: co.ID, CompanyName: co.Name})
	h, err := c.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   CustomerWorkflowID(co.ID),
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
	return queryCustomer[CustomerStatus](ctx, c.Client, companyID, QueryStatus)
}

// State queries a company's workflow for its whole state, snapshot included.
func (c Customers) State(ctx context.Context, companyID int64) (CustomerState, error) {
	return queryCustomer[CustomerState](ctx, c.Client, companyID, QueryState)
}

func queryCustomer[T any](ctx context.Context, tc client.Client, companyID int64, query string) (T, error) {
	var out T
	v, err := tc.QueryWorkflow(ctx, CustomerWorkflowID(companyID), "", query)
	if err != nil {
		return out, err
	}
	return out, v.Get(&out)
}

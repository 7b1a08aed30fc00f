package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/workflow"
)

// SignalReplan tells a customer workflow that the configuration its plan
// depends on (settings, service mappings) changed: it re-plans from the
// snapshot it holds, without asking Autotask, even when the snapshot did not change.
const SignalReplan = "replan"

// ReplanRequest is the body of SignalReplan.
type ReplanRequest struct {
	// Generation identifies the saved configuration; a workflow that already
	// planned under it ignores the signal.
	Generation string `json:"generation"`
}

// receiveReplans applies delivered replan signals without blocking: a new
// generation makes the next loop re-plan from the stored snapshot.
func (c *customer) receiveReplans(ctx workflow.Context) {
	var r ReplanRequest
	for c.replan.ReceiveAsync(&r) {
		if r.Generation == "" || r.Generation == c.state.ConfigGeneration {
			continue
		}
		// Only workflows that received this signal record the marker; histories
		// from before it never carry a replan signal, so they replay unchanged.
		if workflow.GetVersion(ctx, versionReplanOnConfig, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			continue
		}
		c.state.ConfigGeneration = r.Generation
		// An admin's change may be what a failing step needed: try again at once.
		c.state.NeedsReconcile, c.state.RetryAt = true, time.Time{}
	}
}

// Replan signals a running customer workflow that the configuration changed;
// a company without a running workflow has nothing to re-plan (its next
// snapshot starts one under the new configuration).
func (c Customers) Replan(ctx context.Context, companyID int64, generation string) error {
	err := c.Client.SignalWorkflow(ctx, CustomerWorkflowID(companyID), "", SignalReplan, ReplanRequest{Generation: generation})
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("signal replan to customer %d: %w", companyID, err)
	}
	return nil
}

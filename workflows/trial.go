package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
)

// actionEndTrial is the pending action that switches a trial tenant to production.
const actionEndTrial = "switch-to-production"

// trialEnd is a full month after t (the guide: "switched to production mode
// after a full month trial").
func trialEnd(t time.Time) time.Time { return t.AddDate(0, 1, 0) }

// allPending is every step that will happen at a known time: the
// deprovisioning steps, then the end of a trial.
func (s *CustomerState) allPending() []PendingAction {
	out := s.pendingActions()
	if !s.TrialEndsAt.IsZero() && s.TenantID != "" && !s.Deprovision.Deleted {
		out = append(out, PendingAction{Action: actionEndTrial, At: s.TrialEndsAt})
	}
	return out
}

// endTrial switches a trial tenant to production once its month is over. The
// deadline is workflow state, so the one timer of the loop fires for it and a
// restart or continue-as-new keeps it. Workflows from before this change never
// set TrialEndsAt, so they replay without this step.
func (c *customer) endTrial(ctx workflow.Context) {
	s := &c.state
	if s.TrialEndsAt.IsZero() || s.TenantID == "" || workflow.Now(ctx).Before(s.TrialEndsAt) || s.shadow() {
		return
	}
	in := activities.TenantStateInput{CompanyID: s.CompanyID, TenantID: s.TenantID, Reason: "the trial month is over: production mode"}
	if err := c.exec(ctx, PoolAcronis, "Switch tenant "+s.TenantID+" of "+c.who()+" to production", activities.AcronisActs.SwitchToProduction, in).Get(ctx, nil); err != nil {
		c.fail(ctx, "switch to production", err)
		return
	}
	s.TrialEndsAt = time.Time{}
	c.succeed(ctx)
}

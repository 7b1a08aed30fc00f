package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
)

// ErrTypePlanRequired is the refusal of a mapping whose plan carries warnings
// and was not confirmed: the error's details carry the plan.
const ErrTypePlanRequired = "PlanRequired"

// previewMapping plans a mapping to an existing tenant with the workflow's own
// planner: the snapshot it holds (read once if it has none), the plan activity
// every reconcile uses, and the tenant's items and usage as Acronis has them.
func (c *customer) previewMapping(ctx workflow.Context, tenantID string) (plan.Customer, error) {
	s := &c.state
	if s.Snapshot == nil {
		var snap company.Snapshot
		if err := c.exec(ctx, PoolAutotask, "Read "+c.who()+" from Autotask", activities.AutotaskActs.LoadCompanySnapshot, s.CompanyID).Get(ctx, &snap); err != nil {
			return plan.Customer{}, err
		}
		s.Snapshot, s.CompanyName = &snap, snap.CompanyName
	}
	now := workflow.Now(ctx)
	var p entitlement.Plan
	if err := c.exec(ctx, PoolLocal, "Plan the entitlements of "+c.who(), activities.StoreActs.PlanCustomer, activities.PlanInput{Snapshot: *s.Snapshot, Today: now}).Get(ctx, &p); err != nil {
		return plan.Customer{}, err
	}
	var current []plan.ItemState
	if err := c.exec(ctx, PoolAcronis, "Read the items and usage of tenant "+tenantID, activities.AcronisActs.ReadTenantItems, tenantID).Get(ctx, &current); err != nil {
		return plan.Customer{}, err
	}
	return mappingPlan(c.state, p, tenantID, current, now), nil
}

// mappingPlan says what reconcile will do once the company is mapped to
// tenantID: the quotas it applies (or zeroes, when deprovisioning starts at
// once) and the deprovisioning steps with the times pendingActions gives them.
func mappingPlan(st CustomerState, p entitlement.Plan, tenantID string, current []plan.ItemState, now time.Time) plan.Customer {
	out := plan.Customer{CompanyID: st.CompanyID, CompanyName: st.CompanyName, TenantID: tenantID}
	var snapFP string
	if st.Snapshot != nil {
		snapFP = activities.SnapshotFingerprint(*st.Snapshot)
	}
	out.ID = plan.ID(st.CompanyID, tenantID, snapFP, p.Desired.Quotas, p.Settings, current)
	switch {
	case !p.Desired.Valid():
		out.Warnings = append(out.Warnings, "nothing will be written: "+strings.Join(p.Desired.Problems, "; "))
		return out
	case !p.Settings.BillingEnabled:
		return out // reconcile writes nothing while billing is off
	}
	sim := st
	sim.TenantID, sim.Plan, sim.Deprovision = tenantID, &p, Deprovision{}
	quotas := p.Desired.Quotas
	if !p.Desired.HasActiveServices {
		sim.Deprovision.Since = now
		if p.Settings.ZeroQuotas {
			quotas = zeroQuotas(quotas)
		}
	}
	for _, a := range sim.pendingActions() {
		out.Steps = append(out.Steps, plan.Step{Action: a.Action, At: a.At})
	}
	items, warnings := plan.Describe(quotas, current)
	out.Items = items
	out.Warnings = append(out.Warnings, p.Desired.Warnings...)
	out.Warnings = append(out.Warnings, warnings...)
	if len(out.Steps) > 0 && plan.InUse(current) {
		var steps []string
		for _, s := range out.Steps {
			steps = append(steps, s.Action+" at "+s.At.UTC().Format(time.RFC3339))
		}
		out.Warnings = append(out.Warnings, fmt.Sprintf("%s: the company has no active services, so deprovisioning starts at once (%s)",
			plan.WarnDeprovision, strings.Join(steps, ", ")))
	}
	return out
}

// planRequired refuses an unconfirmed mapping, carrying its plan.
func planRequired(p plan.Customer) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("mapping to tenant %s needs confirmation: %s; send planId %q to go ahead",
		p.TenantID, strings.Join(p.Warnings, "; "), p.ID), ErrTypePlanRequired, nil, p)
}

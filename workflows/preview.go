package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
)

// trialWarnWithin is how close the end of a trial must be for a plan to warn about it.
const trialWarnWithin = 7 * 24 * time.Hour

// PreviewCustomer says what the customer's workflow will do on its next
// reconcile and deprovisioning steps, given the state it reports (status
// query), a plan made under some configuration (saved or not) and the
// tenant's items as Acronis has them now. It follows reconcile's decisions
// step by step, with the same helpers, so a preview cannot drift from what runs.
// newTenant, when not "", is a mapping to an existing tenant not made yet: that
// preview is exactly the one the map update confirms (mappingPlan).
func PreviewCustomer(st CustomerState, p entitlement.Plan, newTenant string, current []plan.ItemState, now time.Time) plan.Customer {
	if newTenant != "" && newTenant != st.TenantID {
		return mappingPlan(st, p, newTenant, current, now)
	}
	out := plan.Customer{CompanyID: st.CompanyID, CompanyName: st.CompanyName, TenantID: st.TenantID}
	var snapFP string
	if st.Snapshot != nil {
		snapFP = activities.SnapshotFingerprint(*st.Snapshot)
	}
	out.ID = plan.ID(st.CompanyID, st.TenantID, snapFP, p.Desired.Quotas, p.Settings, current, st.Deprovision, st.Applied, st.TrialEndsAt)
	switch {
	case st.Snapshot == nil:
		out.Warnings = append(out.Warnings, "no contracts read yet: the next contract sync plans this customer")
		return out
	case !p.Desired.Valid():
		out.Warnings = append(out.Warnings, "nothing will be written: "+strings.Join(p.Desired.Problems, "; "))
		return out
	case !p.Settings.BillingEnabled:
		out.Warnings = append(out.Warnings, "nothing will be written: billing is off")
		return out
	}
	out.Warnings = append(out.Warnings, p.Desired.Warnings...)
	sim := st
	sim.Plan = &p
	if st.TenantID == "" {
		provision := st.ProvisionRequested || (p.Desired.HasActiveServices && p.Settings.AutoCreateCustomers && !st.Unmanaged)
		if !provision {
			return out // stays unmapped: nothing is written
		}
		out.Steps = append(out.Steps, plan.Step{Action: "create-tenant", At: now})
		items, _ := plan.Describe(p.Desired.Quotas, nil)
		out.Items, out.Autotask = items, autotaskWrites(p.Desired.Quotas)
		if p.Settings.TenantMode == "trial" {
			out.Steps = append(out.Steps, plan.Step{Action: actionEndTrial, At: trialEnd(now)})
		}
		return out
	}
	var quotas []entitlement.Quota
	if p.Desired.HasActiveServices {
		if !st.Deprovision.Since.IsZero() {
			if st.Deprovision.Disabled {
				out.Steps = append(out.Steps, plan.Step{Action: "enable-tenant", At: now})
			}
			sim.Deprovision, sim.Applied = Deprovision{}, ""
		}
		// Held quotas are written again once a plan is confirmed.
		if fingerprint(st.TenantID, p.Desired.Quotas) != sim.Applied || len(st.Held) > 0 {
			quotas = p.Desired.Quotas
		}
	} else {
		if sim.Deprovision.Since.IsZero() {
			sim.Deprovision = Deprovision{Since: now, Hold: st.Deprovision.Hold}
		}
		if p.Settings.ZeroQuotas && !sim.Deprovision.QuotasZeroed {
			quotas = zeroQuotas(p.Desired.Quotas)
		}
	}
	for _, a := range sim.allPending() {
		at := a.At
		if at.Before(now) {
			at = now // due: runs on the next loop
		}
		action := a.Action
		if a.Held {
			action += " (held)"
		}
		out.Steps = append(out.Steps, plan.Step{Action: action, At: at})
	}
	items, warnings := plan.Describe(quotas, current)
	out.Items = items
	if p.Desired.HasActiveServices {
		out.Autotask = autotaskWrites(p.Desired.Quotas)
	}
	out.Warnings = append(out.Warnings, warnings...)
	if !st.TrialEndsAt.IsZero() && st.TrialEndsAt.Sub(now) < trialWarnWithin {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%s: tenant %s switches to production at %s", plan.WarnTrialEnding, st.TenantID, st.TrialEndsAt.UTC().Format(time.RFC3339)))
	}
	if !p.Desired.HasActiveServices && plan.InUse(current) && len(sim.pendingActions()) > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%s: the company has no active services", plan.WarnDeprovision))
	}
	return out
}

// autotaskWrites says what the integration will write into the customer's
// Autotask contracts: measured usage of pay-as-you-go items each period, and
// the usage of prepaid items with overage above their units. Quotas follow
// the contracts and write nothing to Autotask.
func autotaskWrites(quotas []entitlement.Quota) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, q := range quotas {
		for _, cs := range q.ContractServices {
			if cs.PAYG {
				add(fmt.Sprintf("usage of %s reported each closed period (from Acronis billing reports) as units of service %d in contract %d",
					q.Item.Key(), cs.ServiceID, cs.ContractID))
			}
		}
		if q.Soft && q.Value != nil {
			add(fmt.Sprintf("usage of %s above %d units billed each closed period as overage: %s", q.Item.Key(), *q.Value, q.Source))
		}
	}
	return out
}

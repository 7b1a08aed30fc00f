package workflows

import (
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
)

// driftEvery is how often two-way sync reads a prepaid customer's quotas
// from Acronis: one Acronis request per customer per interval.
const driftEvery = 15 * time.Minute

// twoWayActive reports whether quota edits made in Acronis should be looked for.
func (c *customer) twoWayActive() bool {
	s := &c.state
	if s.Plan == nil || !s.Plan.Settings.TwoWaySync || !s.Plan.Settings.BillingEnabled || s.TenantID == "" || s.Phase != PhaseActive || s.shadow() {
		return false
	}
	return s.Plan.Desired.Billing == entitlement.BillingPrepaid || s.Plan.Desired.Billing == entitlement.BillingMixed
}

// twoWaySync runs the drift check when due and arms the next one. A quota an
// admin changed in the Acronis console becomes the contract's units in
// Autotask (SPEC F7), so the next plan keeps it instead of overwriting it.
func (c *customer) twoWaySync(ctx workflow.Context) {
	s := &c.state
	now := workflow.Now(ctx)
	if s.NextDriftCheck.IsZero() || now.Before(s.NextDriftCheck) {
		if s.NextDriftCheck.IsZero() {
			s.NextDriftCheck = now.Add(driftEvery)
		}
		return
	}
	s.NextDriftCheck = now.Add(driftEvery)
	var current []activities.TenantQuota
	if err := c.exec(ctx, PoolAcronis, "Read the Acronis quotas of "+c.who()+" for two-way sync", activities.AcronisActs.ReadQuotas, s.TenantID).Get(ctx, &current); err != nil {
		c.fail(ctx, "read quotas for two-way sync", err)
		return
	}
	inAcronis := make(map[string]activities.TenantQuota, len(current))
	for _, q := range current {
		inAcronis[q.Key] = q
	}
	changed := false
	for _, q := range s.Plan.Desired.Quotas {
		set, ok := driftAdjustment(q, inAcronis[q.Item.Key()], s.CompanyID)
		if !ok {
			continue
		}
		if err := c.exec(ctx, PoolAutotask, "Write "+c.who()+"'s Acronis quota to contract "+fmt.Sprint(set.ContractID)+" in Autotask", activities.AutotaskActs.SetContractUnits, set).Get(ctx, nil); err != nil {
			c.fail(ctx, "write quota change to Autotask", err)
			return
		}
		changed = true
	}
	if changed {
		// Re-read the contracts: the plan now carries the console's values.
		s.Snapshot, s.NeedsReconcile = nil, true
		c.audit(ctx, "customer.two_way_sync", "quotas changed in Acronis were written to the Autotask contract")
	}
}

// driftAdjustment decides the contract units that make the plan equal a quota
// changed by hand, or false when there is nothing (or nothing expressible) to write.
func driftAdjustment(q entitlement.Quota, got activities.TenantQuota, companyID int64) (activities.SetUnitsInput, bool) {
	if !q.Enabled || q.Value == nil || !got.Enabled || got.Value == nil {
		return activities.SetUnitsInput{}, false // unlimited or off: no units to write
	}
	// The prepaid contract service with the most units absorbs the difference.
	var target *entitlement.ContractService
	for i, cs := range q.ContractServices {
		if !cs.PAYG && (target == nil || cs.Units > target.Units) {
			target = &q.ContractServices[i]
		}
	}
	if target == nil {
		return activities.SetUnitsInput{}, false
	}
	want, have := *got.Value, float64(*q.Value)
	if q.Item.Bytes {
		want, have = math.Ceil(want/float64(entitlement.GiB)), have/float64(entitlement.GiB)
	}
	diff := int64(want) - int64(have)
	if diff == 0 || target.Units+diff < 0 {
		return activities.SetUnitsInput{}, false
	}
	return activities.SetUnitsInput{
		CompanyID: companyID, ContractID: target.ContractID, ServiceID: target.ServiceID, Units: target.Units + diff,
		Reason: fmt.Sprintf("two-way sync: %s quota changed in Acronis from %d to %d", q.Item.Name, int64(have), int64(want)),
	}, true
}

package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
)

// checkMappable refuses what mapExisting refuses, writing nothing.
func (w *world) checkMappable(_ context.Context, in activities.MapInput) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.selfService[in.TenantID] {
		return temporal.NewNonRetryableApplicationError("tenant Proseware cannot be managed by the integration: self-service", activities.ErrTypeNotManageable, nil)
	}
	return nil
}

// readTenantItems answers with the tenant's quotas and the usage the test set.
func (w *world) readTenantItems(context.Context, string) ([]plan.ItemState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []plan.ItemState
	for k, v := range w.inAcronis {
		hard := 0.0
		out = append(out, plan.ItemState{Key: k, Enabled: true, Quota: &v, Overage: &hard, Usage: w.usage[k]})
	}
	for k, u := range w.usage {
		if _, ok := w.inAcronis[k]; !ok {
			out = append(out, plan.ItemState{Key: k, Usage: u})
		}
	}
	return out, nil
}

func (s *CustomerSuite) TestMappingAUsedTenantWithoutContractsNeedsTheConfirmedPlan() {
	s.world.inAcronis = map[string]float64{"pw_base_workstations": 30}
	s.world.usage = map[string]float64{"pw_base_workstations": 25}
	s.world.snapshot = snapshotWith(s.start, 25, s.start.AddDate(0, 0, -10)) // the contract ended
	var planID string
	s.at(time.Minute, func() {
		s.env.UpdateWorkflow(UpdateMap, "map-1", &updateCallback{s: s, onComplete: asResult(func(res ActionResult, err error) {
			s.Require().Error(err, "a plan with warnings needs confirmation")
			var p plan.Customer
			s.Require().NoError(detailsOf(err, &p))
			s.Contains(p.Warnings[0], plan.WarnBelowUsage)
			s.Require().Len(p.Items, 1)
			s.Equal(plan.ItemWrite{Item: "pw_base_workstations", CurrentQuota: "30", CurrentUsage: 25, NewQuota: "0", Write: true}, p.Items[0])
			s.Equal([]string{"zero-quotas", "disable-tenant", "delete-tenant"}, actions(p.Steps))
			planID = p.ID
		})}, MapRequest{TenantID: "tenant-used", Actor: "admin"})
	})
	s.at(time.Hour, func() {
		s.Empty(s.world.quotas, "nothing written before the plan was confirmed")
		s.Equal("", s.world.mapping, "not mapped before the plan was confirmed")
		s.env.UpdateWorkflow(UpdateMap, "map-2", &updateCallback{s: s, onComplete: asResult(func(res ActionResult, err error) {
			s.Require().NoError(err)
			s.Require().NotNil(res.Plan)
			s.Equal(planID, res.Plan.ID)
		})}, MapRequest{TenantID: "tenant-used", Actor: "admin", PlanID: planID})
	})
	s.run(2 * time.Hour)
	s.Equal("tenant-used", s.world.mapping)
	s.Equal("0", s.world.lastQuota(), "the confirmed plan's quota was written")
	s.Contains(s.world.audits, "customer.map.plan_required")
	s.Contains(s.world.audits, "customer.map.plan_confirmed")
}

func (s *CustomerSuite) TestMappingAnUnusedTenantGoesAheadAndAnswersWithThePlan() {
	s.world.snapshot = snapshotWith(s.start, 25, s.start.AddDate(1, 0, 0))
	s.at(time.Minute, func() {
		s.env.UpdateWorkflow(UpdateMap, "map-1", &updateCallback{s: s, onComplete: asResult(func(res ActionResult, err error) {
			s.Require().NoError(err)
			s.Require().NotNil(res.Plan)
			s.Empty(res.Plan.Warnings)
			s.Equal("25", res.Plan.Items[0].NewQuota)
		})}, MapRequest{TenantID: "tenant-new", Actor: "admin"})
	})
	s.run(time.Hour)
	s.Equal("25", s.world.lastQuota())
}

func (s *CustomerSuite) TestUnmappedCompanyIsNotProvisionedAgain() {
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.at(time.Hour, func() {
		s.env.UpdateWorkflow(UpdateUnmap, "unmap-1", &updateCallback{s: s, onComplete: asResult(func(_ ActionResult, err error) { s.Require().NoError(err) })},
			ActionRequest{Actor: "admin"})
	})
	s.at(2*time.Hour, func() { s.signal(snapshotWith(s.env.Now(), 30, s.start.AddDate(1, 0, 0))) })
	s.run(3 * time.Hour)
	s.Equal(1, s.world.provisioned, "the unmapped company was provisioned (or re-mapped) again")
	s.Equal("25", s.world.lastQuota(), "the unmapped tenant was written after the unmap")
	s.Equal("", s.world.mapping)
}

func actions(steps []plan.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Action)
	}
	return out
}

// asResult adapts an update's completion to its typed result.
func asResult(fn func(ActionResult, error)) func(any, error) {
	return func(v any, err error) {
		var res ActionResult
		switch r := v.(type) {
		case ActionResult:
			res = r
		case *ActionResult:
			res = *r
		}
		fn(res, err)
	}
}

// detailsOf decodes the details of an application error.
func detailsOf(err error, v any) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return fmt.Errorf("not an application error: %w", err)
	}
	return app.Details(v)
}

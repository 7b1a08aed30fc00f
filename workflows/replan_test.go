package workflows

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
)

func (s *CustomerSuite) TestReplanSignalProvisionsUnderNewSettingsWithoutReadingAutotask() {
	s.world.settings.AutoCreateCustomers = false
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.at(time.Hour, func() {
		s.Equal(PhaseUnmapped, s.status().Phase, "automatic provisioning is off")
		s.world.mu.Lock()
		s.world.settings.AutoCreateCustomers = true
		s.world.mu.Unlock()
		s.env.SignalWorkflow(SignalReplan, ReplanRequest{Generation: "g2"})
	})
	s.at(2*time.Hour, func() {
		st := s.status()
		s.Equal(PhaseActive, st.Phase)
		s.Equal("g2", st.ConfigGeneration)
	})
	s.run(3 * time.Hour)
	s.Equal(1, s.world.provisioned)
	s.Equal("25", s.world.lastQuota())
	// LoadCompanySnapshot is registered with Maybe(): assert it never ran.
	s.env.AssertNotCalled(s.T(), "LoadCompanySnapshot", mock.Anything, mock.Anything)
}

func (s *CustomerSuite) TestReplanMovesPendingDeprovisioningAndIgnoresAKnownGeneration() {
	plans := 0
	s.env.OnActivity(activities.StoreActs.PlanCustomer, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.PlanInput) (entitlement.Plan, error) {
			plans++
			return s.world.plan(ctx, in)
		})
	end := s.start.Add(2 * day) // provisioned, then services end: deprovisioning starts
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	var before time.Time
	s.at(5*day, func() {
		before = pendingTime(s.status(), "disable-tenant")
		s.False(before.IsZero(), "disable pending")
		s.world.mu.Lock()
		s.world.settings.DisableAfter = 40 * day
		s.world.mu.Unlock()
		s.env.SignalWorkflow(SignalReplan, ReplanRequest{Generation: "g2"})
	})
	var plansAfter int
	s.at(5*day+time.Hour, func() {
		s.Equal(10*day, pendingTime(s.status(), "disable-tenant").Sub(before), "the disable time moved by 10 days")
		plansAfter = plans
		s.env.SignalWorkflow(SignalReplan, ReplanRequest{Generation: "g2"}) // already planned under g2
	})
	s.at(5*day+2*time.Hour, func() { s.Equal(plansAfter, plans, "a known generation re-planned") })
	s.run(6 * day)
}

func pendingTime(st CustomerStatus, action string) time.Time {
	for _, p := range st.Pending {
		if p.Action == action {
			return p.At
		}
	}
	return time.Time{}
}

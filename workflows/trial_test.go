package workflows

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/acronis-autotask/acronis-autotask/activities"
)

func (s *CustomerSuite) TestTrialTenantSwitchesToProductionAfterAFullMonth() {
	s.world.settings.TenantMode = "trial"
	var switched []time.Time
	s.env.OnActivity(activities.AcronisActs.SwitchToProduction, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.TenantStateInput) error {
			switched = append(switched, s.env.Now().UTC())
			return nil
		})
	provisionedAt := s.start.Add(time.Minute)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.at(10*day, func() {
		st := s.status()
		s.Require().Len(st.Pending, 1, "the end of the trial is a pending action")
		s.Equal(actionEndTrial, st.Pending[0].Action)
		s.Equal(provisionedAt.AddDate(0, 1, 0), st.Pending[0].At.UTC())
		s.Empty(switched, "switched before the month was over")
	})
	s.at(40*day, func() { s.Empty(s.status().Pending, "nothing pending after the switch") })
	s.run(45 * day)
	s.Require().Len(switched, 1, "switched to production once")
	s.WithinDuration(provisionedAt.AddDate(0, 1, 0), switched[0], time.Minute, "at the end of the full month")
}

package workflows

import (
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
)

func (s *CustomerSuite) recorded() []string {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	return append([]string(nil), s.world.shadowWrites...)
}

func (s *CustomerSuite) TestShadowModeWaitsInTheShadowPhaseAndGoingLiveProvisions() {
	s.world.settings.Shadow = true
	placeholder := shadow.PlaceholderTenant(companyID)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.at(time.Hour, func() {
		st := s.status()
		s.Equal(PhaseShadow, st.Phase, "provisioned in shadow mode")
		s.Empty(st.TenantID, "no tenant exists, so none is kept")
		s.Empty(st.LastError)
		s.Equal([]string{"create tenant of Contoso Ltd", "quotas of " + placeholder}, s.recorded())
		s.Empty(s.world.mapping, "no mapping to a tenant that does not exist")
		s.Equal(0, s.world.provisioned, "nothing created in Acronis")
		s.Equal("none", s.world.lastQuota())
	})
	// Days pass in shadow mode: the customer stays where it is; nothing is recorded again.
	s.at(3*day, func() {
		s.Equal(PhaseShadow, s.status().Phase)
		s.Len(s.recorded(), 2)
		// Going live: the settings change re-plans every customer.
		s.world.mu.Lock()
		s.world.settings.Shadow = false
		s.world.mu.Unlock()
		s.env.SignalWorkflow(SignalReplan, ReplanRequest{Generation: "live"})
	})
	s.at(3*day+time.Hour, func() {
		st := s.status()
		s.Equal(PhaseActive, st.Phase, "provisioned for real once live")
		s.Equal(tenantAuto, st.TenantID)
	})
	s.run(4 * day)
	s.Equal(1, s.world.provisioned, "the real tenant, once")
	s.Equal(tenantAuto, s.world.mapping)
	s.Equal("25", s.world.lastQuota(), "quotas set on the real tenant")
	s.Len(s.recorded(), 2, "live mode records nothing")
	s.Contains(s.world.states, string(PhaseShadow), "the store shows the shadow phase")
}

func (s *CustomerSuite) TestVersions_ShadowProvisioningAsksShadowMode() {
	s.world.settings.Shadow = true
	asked := s.askedVersions()
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.run(time.Hour)
	s.Equal(PhaseShadow, s.status().Phase)
	s.Equal([]string{versionRecordCustomerState, versionShadowMode}, asked())
}

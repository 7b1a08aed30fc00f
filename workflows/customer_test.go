package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
)

const (
	companyID  = 101
	svcWS      = 5001
	tenantAuto = "tenant-auto-101"
)

var day = 24 * time.Hour

// world is the fake Acronis, Autotask and store behind the activities: it
// records every call so tests assert what the workflow did, not how.
type world struct {
	mu            sync.Mutex
	settings      entitlement.CustomerSettings
	mapping       string // store mapping
	quotas        []map[string]string
	provisioned   int
	provisionIn   []activities.ProvisionInput
	failProvision int // fail ProvisionTenant this many more times
	enabled       bool
	deleted       bool
	disabledAt    time.Time
	deletedAt     time.Time
	enabledN      int
	failApply     int // fail ApplyQuotas this many more times
	nameTaken     bool
	selfService   map[string]bool
	snapshot      company.Snapshot
	audits        []string
	states        []string // phases recorded in the store
	inAcronis     map[string]float64
	usage         map[string]float64
	setUnits      []activities.SetUnitsInput
	shadowWrites  []string // writes recorded, not made, while settings.Shadow is on (the write gate's answers)
	now           func() time.Time
}

func newWorld() *world {
	return &world{
		enabled: true,
		settings: entitlement.CustomerSettings{
			BillingEnabled: true, AutoCreateCustomers: true, AccountsBasedOn: "company_name", ActivationEmail: "ops@msp.example",
			TenantMode: "production", ZeroQuotas: true,
			DisableEnabled: true, DisableAfter: 30 * day, DeleteEnabled: true, DeleteAfter: 60 * day,
		},
		selfService: map[string]bool{},
	}
}

func catalog() []entitlement.Item {
	return []entitlement.Item{{Name: "pw_base_workstations", Group: entitlement.GroupStandard}}
}

func snapshotWith(at time.Time, units int64, contractEnd time.Time) company.Snapshot {
	return company.Snapshot{
		CompanyID: companyID, CompanyName: "Contoso Ltd", Active: true, ObservedAt: at,
		Contracts: []entitlement.Contract{{ID: 1, Recurring: true, Active: true, Start: at.AddDate(-1, 0, 0), End: contractEnd,
			Services: []entitlement.Units{{ID: svcWS, Units: units}}}},
	}
}

func (w *world) plan(_ context.Context, in activities.PlanInput) (entitlement.Plan, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := entitlement.Decide(entitlement.Input{Today: in.Today, Catalog: catalog(),
		Mappings: []entitlement.Mapping{{ItemName: "pw_base_workstations", ServiceID: svcWS}}, Contracts: in.Snapshot.Contracts})
	return entitlement.Plan{Desired: d, Settings: w.settings, TenantID: w.mapping}, nil
}

func (w *world) provision(_ context.Context, in activities.ProvisionInput) (activities.Provisioned, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.settings.Shadow {
		w.shadowWrites = append(w.shadowWrites, "create tenant of "+in.CompanyName)
		return activities.Provisioned{TenantID: shadow.PlaceholderTenant(in.CompanyID), TenantCreated: true}, nil
	}
	w.provisioned++
	w.provisionIn = append(w.provisionIn, in)
	if w.failProvision > 0 {
		w.failProvision--
		return activities.Provisioned{}, temporal.NewNonRetryableApplicationError("acronis: server error", "Server", nil)
	}
	if w.nameTaken {
		return activities.Provisioned{}, temporal.NewNonRetryableApplicationError(`a tenant named "Contoso Ltd" already exists in Acronis`, activities.ErrTypeNameTaken, nil)
	}
	return activities.Provisioned{TenantID: tenantAuto, TenantCreated: true}, nil
}

func (w *world) recordMapping(_ context.Context, in activities.MapInput) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mapping = in.TenantID
	return nil
}

func (w *world) mapExisting(_ context.Context, in activities.MapInput) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.selfService[in.TenantID] {
		return temporal.NewNonRetryableApplicationError("tenant Proseware cannot be managed by the integration: self-service", activities.ErrTypeNotManageable, nil)
	}
	w.mapping = in.TenantID
	return nil
}

func (w *world) removeMapping(_ context.Context, in activities.UnmapInput) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mapping = ""
	return nil
}

func (w *world) applyQuotas(_ context.Context, in activities.ApplyQuotasInput) (activities.AppliedQuotas, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failApply > 0 {
		w.failApply--
		return activities.AppliedQuotas{}, temporal.NewNonRetryableApplicationError("acronis: server error", "Server", nil)
	}
	if w.settings.Shadow {
		w.shadowWrites = append(w.shadowWrites, "quotas of "+in.TenantID)
		return activities.AppliedQuotas{Shadow: true}, nil
	}
	q := map[string]string{}
	if w.inAcronis == nil {
		w.inAcronis = map[string]float64{}
	}
	for _, x := range in.Quotas {
		if x.Enabled && x.Value != nil {
			w.inAcronis[x.Item.Key()] = float64(*x.Value)
		}
		switch {
		case !x.Enabled:
			q[x.Item.Name] = "0"
		case x.Value == nil:
			q[x.Item.Name] = "unlimited"
		default:
			q[x.Item.Name] = fmt.Sprint(*x.Value)
		}
	}
	w.quotas = append(w.quotas, q)
	return activities.AppliedQuotas{}, nil
}

func (w *world) setEnabled(enabled bool) func(context.Context, activities.TenantStateInput) error {
	return func(context.Context, activities.TenantStateInput) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.enabled = enabled
		if enabled {
			w.enabledN++
		} else {
			w.disabledAt = w.now()
		}
		return nil
	}
}

func (w *world) deleteTenant(context.Context, activities.TenantStateInput) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deleted, w.deletedAt = true, w.now()
	return nil
}

func (w *world) audit(_ context.Context, in activities.AuditInput) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.audits = append(w.audits, in.Kind)
	return nil
}

func (w *world) recordState(_ context.Context, _ int64, state, _ string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.states = append(w.states, state)
	return nil
}

func (w *world) readQuotas(context.Context, string) ([]activities.TenantQuota, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []activities.TenantQuota
	for k, v := range w.inAcronis {
		out = append(out, activities.TenantQuota{Key: k, Enabled: true, Value: &v})
	}
	return out, nil
}

// consoleEdit changes a quota as an admin would in the Acronis console.
func (w *world) consoleEdit(item string, v float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inAcronis[item] = v
}

func (w *world) setContractUnits(_ context.Context, in activities.SetUnitsInput) (activities.SetUnitsResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.setUnits = append(w.setUnits, in)
	w.snapshot.Contracts[0].Services[0].Units = in.Units // Autotask now carries the console's value
	return activities.SetUnitsResult{UnitChange: 1}, nil
}

func (w *world) lastQuota() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.quotas) == 0 {
		return "none"
	}
	return w.quotas[len(w.quotas)-1]["pw_base_workstations"]
}

type CustomerSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	world *world
	start time.Time
}

func TestCustomerWorkflow(t *testing.T) { suite.Run(t, new(CustomerSuite)) }

func (s *CustomerSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	checkPools(s.T(), s.env)
	s.start = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s.env.SetStartTime(s.start)
	w := newWorld()
	w.now = func() time.Time { return s.env.Now().UTC() }
	s.world = w
	s.env.RegisterActivity(&activities.Acronis{})
	s.env.RegisterActivity(&activities.Autotask{})
	s.env.RegisterActivity(&activities.Store{})
	s.env.OnActivity(activities.StoreActs.PlanCustomer, mock.Anything, mock.Anything).Return(w.plan).Maybe()
	s.env.OnActivity(activities.StoreActs.RecordAutomaticMapping, mock.Anything, mock.Anything).Return(w.recordMapping).Maybe()
	s.env.OnActivity(activities.StoreActs.RemoveMapping, mock.Anything, mock.Anything).Return(w.removeMapping).Maybe()
	s.env.OnActivity(activities.StoreActs.RecordCustomerEvent, mock.Anything, mock.Anything).Return(w.audit).Maybe()
	s.env.OnActivity(activities.AcronisActs.ReadQuotas, mock.Anything, mock.Anything).Return(w.readQuotas).Maybe()
	s.env.OnActivity(activities.AcronisActs.ReadTenantItems, mock.Anything, mock.Anything).Return(w.readTenantItems).Maybe()
	s.env.OnActivity(activities.AcronisActs.CheckMappable, mock.Anything, mock.Anything).Return(w.checkMappable).Maybe()
	s.env.OnActivity(activities.AutotaskActs.SetContractUnits, mock.Anything, mock.Anything).Return(w.setContractUnits).Maybe()
	s.env.OnActivity(activities.StoreActs.RecordCustomerState, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(w.recordState).Maybe()
	s.env.OnActivity(activities.AcronisActs.ProvisionTenant, mock.Anything, mock.Anything).Return(w.provision).Maybe()
	s.env.OnActivity(activities.AcronisActs.MapExistingTenant, mock.Anything, mock.Anything).Return(w.mapExisting).Maybe()
	s.env.OnActivity(activities.AcronisActs.ApplyQuotas, mock.Anything, mock.Anything).Return(w.applyQuotas).Maybe()
	s.env.OnActivity(activities.AcronisActs.EnableTenant, mock.Anything, mock.Anything).Return(w.setEnabled(true)).Maybe()
	s.env.OnActivity(activities.AcronisActs.DisableTenant, mock.Anything, mock.Anything).Return(w.setEnabled(false)).Maybe()
	s.env.OnActivity(activities.AcronisActs.DeleteTenant, mock.Anything, mock.Anything).Return(w.deleteTenant).Maybe()
	s.env.OnActivity(activities.AutotaskActs.LoadCompanySnapshot, mock.Anything, mock.Anything).Return(
		func(context.Context, int64) (company.Snapshot, error) { return w.snapshot, nil }).Maybe()
}

func (s *CustomerSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

// at schedules fn at start+d of workflow time.
func (s *CustomerSuite) at(d time.Duration, fn func()) { s.env.RegisterDelayedCallback(fn, d) }

func (s *CustomerSuite) signal(snap company.Snapshot) {
	s.env.SignalWorkflow(SignalContracts, snap)
}

func (s *CustomerSuite) status() CustomerStatus {
	v, err := s.env.QueryWorkflow(QueryStatus)
	s.Require().NoError(err)
	var st CustomerStatus
	s.Require().NoError(v.Get(&st))
	return st
}

// run runs the workflow until the test ends it at start+until.
func (s *CustomerSuite) run(until time.Duration) {
	s.at(until, func() { s.env.CancelWorkflow() })
	s.env.ExecuteWorkflow(CustomerWorkflow, CustomerState{CompanyID: companyID})
}

func (s *CustomerSuite) TestProvisionsAutomaticallyAndAppliesPrepaidQuotas() {
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.at(time.Hour, func() {
		st := s.status()
		s.Equal(PhaseActive, st.Phase)
		s.Equal(tenantAuto, st.TenantID)
		s.Equal("automatic", st.MappedHow)
		s.Len(st.Quotas, 1)
	})
	s.run(2 * time.Hour)
	s.Equal(1, s.world.provisioned, "tenants provisioned")
	s.Contains(s.world.states, "active", "the store follows the workflow's phase")
	s.Equal(tenantAuto, s.world.mapping)
	s.Equal("25", s.world.lastQuota())
}

func (s *CustomerSuite) TestPrimaryContactComesFromTheSnapshotWithoutAnAutotaskRead() {
	s.world.settings.AccountsBasedOn = "primary_contact"
	contact := &company.Contact{FirstName: "Ada", LastName: "Lovelace", Email: "ada@contoso.example"}
	s.at(time.Minute, func() {
		snap := snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))
		snap.PrimaryContact, snap.ContactKnown = contact, true
		s.signal(snap)
	})
	s.run(time.Hour)
	s.Require().Len(s.world.provisionIn, 1)
	s.Equal(contact, s.world.provisionIn[0].Contact)
	// No expectation is registered for AutotaskActs.PrimaryContact: calling it fails the workflow test.
	s.Equal(tenantAuto, s.world.mapping)
}

func (s *CustomerSuite) TestPrimaryContactIsReadOnceWhenTheSnapshotLacksIt() {
	s.world.settings.AccountsBasedOn = "primary_contact"
	s.world.failProvision = 1 // the retry must reuse the contact, not read it again
	reads := 0
	contact := &company.Contact{FirstName: "Ada", LastName: "Lovelace", Email: "ada@contoso.example"}
	s.env.OnActivity(activities.AutotaskActs.PrimaryContact, mock.Anything, mock.Anything).Return(
		func(context.Context, int64) (*company.Contact, error) { reads++; return contact, nil })
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.run(time.Hour)
	s.Equal(1, reads, "primary contact reads")
	s.Require().Len(s.world.provisionIn, 2, "a failed attempt and its retry")
	s.Equal(contact, s.world.provisionIn[1].Contact)
}

func (s *CustomerSuite) TestForeignTenantOfTheSameNameWaitsForAManualMappingWithoutRetrying() {
	s.world.nameTaken = true
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.at(time.Hour, func() {
		st := s.status()
		s.Equal(PhaseUnmapped, st.Phase)
		s.Equal(`a tenant named "Contoso Ltd" already exists in Acronis`, st.LastError)
		s.Zero(st.Failures, "waiting for an admin is not a failure")
		s.False(st.NeedsReconcile)
	})
	s.run(2 * day)
	s.Equal(1, s.world.provisioned, "no retries until something changes")
	s.Contains(s.world.audits, "customer.provisioning.blocked")
}

func (s *CustomerSuite) TestTwoWaySyncWritesConsoleQuotaEditsToTheContract() {
	s.world.settings.TwoWaySync = true
	end := s.start.AddDate(1, 0, 0)
	s.world.snapshot = snapshotWith(s.start, 25, end)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(time.Hour, func() { s.world.consoleEdit("pw_base_workstations", 40) })
	s.run(3 * time.Hour)
	s.Require().Len(s.world.setUnits, 1, "one write to Autotask, then the plan agrees")
	set := s.world.setUnits[0]
	s.Equal(int64(40), set.Units)
	s.Equal(int64(1), set.ContractID)
	s.Equal(int64(svcWS), set.ServiceID)
	s.Equal("40", s.world.lastQuota(), "the console's value is kept, not overwritten")
	s.Contains(s.world.audits, "customer.two_way_sync")
}

func (s *CustomerSuite) TestTwoWaySyncOffLeavesNoDriftChecks() {
	end := s.start.AddDate(1, 0, 0)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(time.Hour, func() { s.world.consoleEdit("pw_base_workstations", 40) })
	s.run(3 * time.Hour)
	s.Empty(s.world.setUnits)
}

func (s *CustomerSuite) TestUnitChangePropagatesAndUnchangedPlanWritesNothing() {
	end := s.start.AddDate(1, 0, 0)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(time.Hour, func() { s.signal(snapshotWith(s.env.Now(), 30, end)) })
	s.at(2*time.Hour, func() { s.signal(snapshotWith(s.env.Now(), 30, end)) })
	s.run(3 * time.Hour)
	s.Len(s.world.quotas, 2, "quota writes: 25, then 30; the repeat writes nothing")
	s.Equal("30", s.world.lastQuota())
	s.Equal(1, s.world.provisioned)
}

func (s *CustomerSuite) TestManualModeWaitsForMappingThenFollowsContracts() {
	s.world.settings.AutoCreateCustomers = false
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 10, s.start.AddDate(1, 0, 0))) })
	s.at(time.Hour, func() {
		s.Equal(PhaseUnmapped, s.status().Phase)
		s.Equal("none", s.world.lastQuota())
		s.env.UpdateWorkflow(UpdateMap, "u1", &updateCallback{s: s, onAccept: func() {}}, MapRequest{TenantID: "tenant-litware", Actor: "ops"})
	})
	s.at(2*time.Hour, func() {
		st := s.status()
		s.Equal(PhaseActive, st.Phase)
		s.Equal("tenant-litware", st.TenantID)
		s.Equal("manual", st.MappedHow)
	})
	s.run(3 * time.Hour)
	s.Equal(0, s.world.provisioned)
	s.Equal("10", s.world.lastQuota())
}

func (s *CustomerSuite) TestMapRefusesSelfServiceAndDoubleMapping() {
	s.world.settings.AutoCreateCustomers = false
	s.world.selfService["tenant-proseware"] = true
	var refused, rejected error
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 10, s.start.AddDate(1, 0, 0))) })
	s.at(time.Hour, func() {
		s.env.UpdateWorkflow(UpdateMap, "u1", &updateCallback{s: s, onComplete: func(_ any, err error) { refused = err }}, MapRequest{TenantID: "tenant-proseware", Actor: "ops"})
	})
	s.at(2*time.Hour, func() {
		s.env.UpdateWorkflow(UpdateMap, "u2", &updateCallback{s: s}, MapRequest{TenantID: "tenant-litware", Actor: "ops"})
	})
	s.at(3*time.Hour, func() {
		s.env.UpdateWorkflow(UpdateMap, "u3", &updateCallback{s: s, onReject: func(err error) { rejected = err }}, MapRequest{TenantID: "tenant-other", Actor: "ops"})
	})
	s.run(4 * time.Hour)
	s.Require().Error(refused)
	s.Contains(refused.Error(), "self-service")
	s.Require().Error(rejected)
	s.Contains(rejected.Error(), "already mapped to tenant tenant-litware")
	s.Equal("tenant-litware", s.world.mapping)
}

func (s *CustomerSuite) TestInvalidContractsChangeNothing() {
	s.at(time.Minute, func() {
		snap := snapshotWith(s.env.Now(), 5, s.start.AddDate(1, 0, 0))
		payg := snap.Contracts[0]
		payg.ID, payg.PAYG = 2, true
		snap.Contracts = append(snap.Contracts, payg)
		s.signal(snap)
	})
	s.at(time.Hour, func() {
		st := s.status()
		s.Equal(PhaseInvalid, st.Phase)
		s.Contains(st.LastError, "both a pay-as-you-go and a prepaid contract")
	})
	s.run(2 * time.Hour)
	s.Equal(0, s.world.provisioned)
	s.Empty(s.world.quotas)
	s.Contains(s.world.audits, "customer.invalid")
}

func (s *CustomerSuite) TestDeprovisionsOnDurableTimers() {
	end := s.start.Add(2 * day) // contract ends in two days; Autotask says nothing then
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(5*day, func() {
		st := s.status()
		s.Equal(PhaseDeprovisioning, st.Phase)
		s.Equal("0", s.world.lastQuota(), "quotas zeroed")
		s.Require().Len(st.Pending, 2)
		s.Equal("disable-tenant", st.Pending[0].Action)
	})
	s.run(100 * day)
	since := end.Truncate(day).Add(day)
	s.True(s.world.deleted)
	s.Equal(since.Add(30*day), s.world.disabledAt, "disabled 30 days after services ended")
	s.Equal(since.Add(60*day), s.world.deletedAt, "deleted 60 days after services ended")
	s.Equal("", s.world.mapping, "mapping removed with the tenant")
}

func (s *CustomerSuite) TestYearLongTimersFireOnTheDay() {
	s.world.settings.DisableAfter, s.world.settings.DeleteAfter = 30*day, 365*day
	end := s.start.Add(2 * day)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(200*day, func() {
		s.False(s.world.deleted, "not deleted before a year")
		s.False(s.world.enabled, "disabled after 30 days")
	})
	s.run(400 * day)
	since := end.Truncate(day).Add(day)
	s.Equal(since.Add(365*day), s.world.deletedAt, "deleted exactly 365 days after services ended")
}

func (s *CustomerSuite) TestReactivationCancelsDeprovisioningAndReenablesTenant() {
	end := s.start.Add(2 * day)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(40*day, func() {
		s.False(s.world.enabled, "disabled after 30 days")
		s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(2, 0, 0))) // renewed
	})
	s.at(41*day, func() {
		st := s.status()
		s.Equal(PhaseActive, st.Phase)
		s.Empty(st.Pending)
	})
	s.run(120 * day)
	s.False(s.world.deleted, "a renewed customer is never deleted")
	s.True(s.world.enabled)
	s.Equal(1, s.world.enabledN)
	s.Equal("25", s.world.lastQuota(), "quotas restored")
}

func (s *CustomerSuite) TestSettingsChangeMovesThePendingDeadline() {
	end := s.start.Add(2 * day)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(10*day, func() {
		s.world.mu.Lock()
		s.world.settings.DisableAfter = 15 * day
		s.world.settings.DeleteEnabled = false
		s.world.mu.Unlock()
		s.env.SignalWorkflow(SignalRefresh, nil)
	})
	s.world.snapshot = snapshotWith(s.start, 25, end)
	s.run(100 * day)
	since := end.Truncate(day).Add(day)
	s.Equal(since.Add(15*day), s.world.disabledAt, "the shorter N moved the armed deadline")
	s.False(s.world.deleted)
}

func (s *CustomerSuite) TestHoldPausesAndReleaseResumes() {
	end := s.start.Add(2 * day)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(10*day, func() {
		s.env.UpdateWorkflow(UpdateHold, "h", &updateCallback{s: s}, ActionRequest{Actor: "ops", Reason: "customer negotiating"})
	})
	s.at(50*day, func() {
		s.True(s.world.enabled, "on hold: not disabled at day 30")
		s.True(s.status().Pending[0].Held)
		s.env.UpdateWorkflow(UpdateRelease, "r", &updateCallback{s: s}, ActionRequest{Actor: "ops"})
	})
	s.run(55 * day)
	s.Equal(s.start.Add(50*day), s.world.disabledAt, "overdue step runs at release")
}

func (s *CustomerSuite) TestDeprovisionNowRunsOnlyTheNextStep() {
	end := s.start.Add(2 * day)
	var answer ActionResult
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.at(5*day, func() {
		s.env.UpdateWorkflow(UpdateDeprovisionNow, "n", &updateCallback{s: s, onComplete: func(v any, _ error) { answer = v.(ActionResult) }}, ActionRequest{Actor: "ops"})
	})
	s.run(6 * day)
	s.Equal("disable-tenant will run now", answer.Message)
	s.Equal(s.start.Add(5*day), s.world.disabledAt)
	s.False(s.world.deleted)
}

func (s *CustomerSuite) TestThreeFailuresShowAsErrorAndRecoveryClearsIt() {
	s.world.failApply = 3
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.at(10*time.Minute, func() { // failures at 1, 3 and 7 minutes; the retry at 15 succeeds
		st := s.status()
		s.Equal(PhaseError, st.Phase)
		s.Equal(3, st.Failures)
		s.Contains(st.LastError, "apply quotas")
	})
	s.run(2 * time.Hour)
	st := s.status()
	s.Equal(PhaseActive, st.Phase, "the retry after backoff succeeded")
	s.Zero(st.Failures)
	s.Empty(st.LastError)
	s.Equal(1, s.world.provisioned, "retries never provision twice")
}

func (s *CustomerSuite) TestContinueAsNewKeepsThePendingDeadline() {
	end := s.start.Add(2 * day)
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, end)) })
	s.world.snapshot = snapshotWith(s.start, 25, end)
	s.at(5*day, func() {
		s.env.SetContinueAsNewSuggested(true)
		s.env.SignalWorkflow(SignalRefresh, nil) // any message wakes the loop, which then continues as new
	})
	s.env.ExecuteWorkflow(CustomerWorkflow, CustomerState{CompanyID: companyID})
	err := s.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(err, &can), "workflow continued as new: %v", err)
	var next CustomerState
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	since := end.Truncate(day).Add(day)
	s.Equal(since, next.Deprovision.Since)
	s.True(next.Deprovision.QuotasZeroed)
	s.Equal(1, next.Runs)

	// The next run picks up exactly where the last one stopped.
	s.SetupTest()
	s.env.SetStartTime(s.start.Add(5 * day))
	s.at(60*day, func() { s.env.CancelWorkflow() })
	s.env.ExecuteWorkflow(CustomerWorkflow, next)
	s.Equal(since.Add(30*day), s.world.disabledAt)
	s.Equal(since.Add(60*day), s.world.deletedAt)
}

// updateCallback adapts the test environment's update callbacks.
type updateCallback struct {
	s          *CustomerSuite
	onAccept   func()
	onReject   func(error)
	onComplete func(any, error)
}

func (u *updateCallback) Accept() {
	if u.onAccept != nil {
		u.onAccept()
	}
}

func (u *updateCallback) Reject(err error) {
	if u.onReject != nil {
		u.onReject(err)
		return
	}
	u.s.Failf("update rejected", "%v", err)
}

func (u *updateCallback) Complete(v any, err error) {
	if u.onComplete != nil {
		u.onComplete(v, err)
		return
	}
	if err != nil {
		u.s.Failf("update failed", "%v", err)
	}
}

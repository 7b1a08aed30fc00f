package workflows

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
)

// askedVersions records the change ids the workflow asks GetVersion for,
// answering with the newest version as an unmocked environment would. A
// GetVersion asked where it was not asked before records a marker the
// released code never wrote, so each test pins where each id is asked.
func (s *CustomerSuite) askedVersions() func() []string {
	var mu sync.Mutex
	asked := map[string]bool{}
	s.env.OnGetVersion(mock.Anything, workflow.DefaultVersion, workflow.Version(1)).Return(
		func(id string, _, _ workflow.Version) workflow.Version {
			mu.Lock()
			defer mu.Unlock()
			asked[id] = true
			return 1
		})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		var ids []string
		for id := range asked {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return ids
	}
}

func (s *CustomerSuite) TestVersions_CompanyNameProvisioningAsksOnlyForTheStateRecord() {
	asked := s.askedVersions()
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.run(time.Hour)
	s.Equal(tenantAuto, s.world.mapping)
	s.Equal([]string{versionRecordCustomerState}, asked())
}

func (s *CustomerSuite) TestVersions_ContactInTheSnapshotAsksContactFromSnapshotOnly() {
	s.world.settings.AccountsBasedOn = "primary_contact"
	asked := s.askedVersions()
	s.at(time.Minute, func() {
		snap := snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))
		snap.PrimaryContact, snap.ContactKnown = &company.Contact{FirstName: "Ada", Email: "ada@contoso.example"}, true
		s.signal(snap)
	})
	s.run(time.Hour)
	s.Equal([]string{versionContactFromSnapshot, versionRecordCustomerState}, asked())
}

func (s *CustomerSuite) TestVersions_ContactReadFromAutotaskAsksKeepOnlyOnTheRetry() {
	s.world.settings.AccountsBasedOn = "primary_contact"
	s.world.failProvision = 1
	s.env.OnActivity(activities.AutotaskActs.PrimaryContact, mock.Anything, mock.Anything).Return(
		func(context.Context, int64) (*company.Contact, error) {
			return &company.Contact{FirstName: "Ada", Email: "ada@contoso.example"}, nil
		})
	asked := s.askedVersions()
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.run(time.Hour)
	s.Equal(2, s.world.provisioned, "a failed attempt and its retry")
	s.Equal([]string{versionKeepPrimaryContact, versionRecordCustomerState}, asked())
}

func (s *CustomerSuite) TestVersions_TwoWaySyncIsAskedOnlyWhenItIsOn() {
	s.world.settings.TwoWaySync = true
	asked := s.askedVersions()
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.run(time.Hour)
	s.Equal([]string{versionRecordCustomerState, versionTwoWaySync}, asked())
}

func TestVersions_AlertAsksClearJoinedOnlyWhenItClears(t *testing.T) {
	w := newTicketWorld()
	w.versions = map[string]bool{}
	_, _ = runAlert(t, w, alertA, alertBase, time.Hour, step{0, SignalAlert, raised(alertA, alertBase)})
	if len(w.versions) != 0 {
		t.Fatalf("a raised alert asked for %v, want no version", w.versions)
	}
	_, _ = runAlert(t, w, alertA, alertBase.Add(2*time.Hour), 0, step{0, SignalAlert, cleared(alertA, alertBase.Add(2*time.Hour))})
	if fmt.Sprint(w.versions) != fmt.Sprintf("map[%s:true]", versionClearJoined) {
		t.Fatalf("a cleared alert asked for %v, want only %s", w.versions, versionClearJoined)
	}
}

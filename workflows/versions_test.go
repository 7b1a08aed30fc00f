package workflows

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

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

// recordedScenarioVersions are the change ids the history of each recorded
// scenario of the newest generation asks GetVersion for (recorded by
// cmd/acronis-autotask, see testdata/histories/README.md): a new recording
// that asks other ids means a GetVersion moved or the scenario changed.
var recordedScenarioVersions = map[string][]string{
	"deprovisioned-customer-101": {versionContactFromSnapshot, versionRecordCustomerState},
	"lifecycle-contract-sync":    nil,
	"lifecycle-customer-101":     {versionContactFromSnapshot, versionRecordCustomerState},
	"lifecycle-customer-104":     {versionRecordCustomerState},
	// Litware is mapped to its tenant through the plan the first try returned;
	// later a contract below usage is held until an applied plan confirms it
	// (the confirm-plan update, then the re-plan that plan sends).
	"lifecycle-customer-107": {versionContactFromSnapshot, versionMapPlan, versionRecordCustomerState, versionReplanOnConfig},
	// Provisioned in shadow mode, then for real once live mode re-plans it.
	"shadow-customer-101": {versionContactFromSnapshot, versionKeepPrimaryContact, versionRecordCustomerState,
		versionReplanOnConfig, versionShadowMode},
	"tickets-alert-sync": nil,
	// The latest run: a new generation created, completed in Autotask, dismissed.
	"tickets-alert-A1E7B0C2-0001-4000-8000-000000000001": nil,
	// The first generation's run: cleared, re-opened, cleared again.
	"tickets-cleared-alert-A1E7B0C2-0001-4000-8000-000000000001": {versionClearJoined},
	// The run that settled the month before: polls its report across a worker restart.
	"usage-report-killed-worker-usage-report": {versionBillingReport, versionPrepaidOverage},
	// The run that settled the month before with a mapped pay-as-you-go customer.
	"usage-report-billing-on-usage-report": {versionBillingReport, versionPrepaidOverage},
}

// notRecorded are the change ids no recorded scenario asks, and why.
var notRecorded = map[string]string{
	versionTwoWaySync: "asked only with two-way sync on (TestVersions_TwoWaySyncIsAskedOnlyWhenItIsOn)",
	versionAdminLock:  "asked by hold, release and deprovision-now, which no recorded scenario runs",
}

// TestVersions_RecordedHistoriesAskWhatTheirScenarioAsks pins the change ids
// each recorded scenario of the newest generation asks, and that every id of
// versions.go is replayed by some recording or says why not.
func TestVersions_RecordedHistoriesAskWhatTheirScenarioAsks(t *testing.T) {
	dc := historyConverter(t)
	newest, byScenario := 0, map[string]string{}
	for _, f := range recordedHistories(t) {
		gen, scenario, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".json"), "-")
		n, err := strconv.Atoi(strings.TrimPrefix(gen, "v"))
		if err != nil {
			t.Fatalf("%s: generation %q is not v<number>", f, gen)
		}
		if n > newest {
			newest, byScenario = n, map[string]string{}
		}
		if n == newest {
			byScenario[scenario] = f
		}
	}
	asked := map[string]bool{}
	for scenario, f := range byScenario {
		want, ok := recordedScenarioVersions[scenario]
		if !ok {
			t.Errorf("%s: scenario %q is not in recordedScenarioVersions", f, scenario)
			continue
		}
		got := versionMarkers(t, dc, f)
		for _, id := range got {
			asked[id] = true
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s asks %v, want %v", filepath.Base(f), got, want)
		}
	}
	for scenario := range recordedScenarioVersions {
		if byScenario[scenario] == "" {
			t.Errorf("scenario %q has no v%d recording", scenario, newest)
		}
	}
	for _, id := range changeIDs(t) {
		why, skipped := notRecorded[id]
		switch {
		case asked[id] && skipped:
			t.Errorf("%s is in notRecorded (%s) but a v%d recording asks it", id, why, newest)
		case !asked[id] && !skipped:
			t.Errorf("no v%d recording asks %s: record a scenario that does, or say why in notRecorded", newest, id)
		}
	}
}

// versionMarkers returns the sorted change ids of a history's version markers.
func versionMarkers(t *testing.T, dc converter.DataConverter, file string) []string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h := &historypb.History{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, h); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	seen := map[string]bool{}
	for _, e := range h.GetEvents() {
		m := e.GetMarkerRecordedEventAttributes()
		if m == nil || m.GetMarkerName() != "Version" {
			continue
		}
		var id string
		if err := dc.FromPayloads(m.GetDetails()["change-id"], &id); err != nil {
			t.Fatalf("%s: event %d: change id: %v", file, e.GetEventId(), err)
		}
		seen[id] = true
	}
	ids := []string{}
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// changeIDs reads the change ids declared in versions.go.
func changeIDs(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "versions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for _, v := range spec.(*ast.ValueSpec).Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					id, _ := strconv.Unquote(lit.Value)
					ids = append(ids, id)
				}
			}
		}
	}
	if len(ids) == 0 {
		t.Fatal("no change ids in versions.go")
	}
	return ids
}

package activities

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

// notifications records the snapshots the sync delivers.
type notifications struct {
	mu      sync.Mutex
	snaps   map[int64][]company.Snapshot
	replans []int64
}

func (n *notifications) NotifyContracts(_ context.Context, s company.Snapshot) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.snaps[s.CompanyID] = append(n.snaps[s.CompanyID], s)
	return nil
}

func (n *notifications) Replan(_ context.Context, id int64, gen string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.replans = append(n.replans, id)
	return nil
}

func (n *notifications) take() map[int64][]company.Snapshot {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.snaps
	n.snaps = map[int64][]company.Snapshot{}
	return out
}

type syncHarness struct {
	t     *testing.T
	sb    *atsandbox.Sandbox
	sync  *ContractSync
	notes *notifications
	env   *testsuite.TestActivityEnvironment
	now   time.Time
	cur   SyncCursor
}

func newSyncHarness(t *testing.T) *syncHarness {
	t.Helper()
	sb, err := atsandbox.New(atsandbox.Options{Dataset: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	c, err := autotask.New(context.Background(), autotask.Config{Username: "sandbox-api@acronis-autotask.dev", Secret: "sandbox-secret",
		IntegrationCode: "SANDBOXINTEGRATIONCODE", BaseURL: srv.URL + "/ATServicesRest",
		// The client paces requests in real time; the sync's own budget (10,000/h) is what the tests measure.
		HourlyLimit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	h := &syncHarness{t: t, sb: sb, notes: &notifications{snaps: map[int64][]company.Snapshot{}}, now: time.Now().UTC()}
	h.sync = &ContractSync{
		Autotask:  func(context.Context) (*autotask.Client, error) { return c, nil },
		Store:     testenv.MustOpenDB(t),
		Customers: h.notes,
		Now:       func() time.Time { return h.now },
	}
	var suite testsuite.WorkflowTestSuite
	h.env = suite.NewTestActivityEnvironment()
	h.env.RegisterActivity(h.sync)
	return h
}

// run executes one sync round as Temporal would and keeps the cursor.
func (h *syncHarness) run(after time.Duration) SyncResult {
	h.t.Helper()
	h.now = h.now.Add(after)
	v, err := h.env.ExecuteActivity(h.sync.SyncContracts, h.cur)
	if err != nil {
		h.t.Fatalf("SyncContracts: %v", err)
	}
	var res SyncResult
	if err := v.Get(&res); err != nil {
		h.t.Fatal(err)
	}
	h.cur = res.Cursor
	return res
}

func TestContractSync_FirstRunNotifiesEveryCompanyWithAContractOnce(t *testing.T) {
	h := newSyncHarness(t)
	res := h.run(0)
	got := h.notes.take()
	for _, id := range []int64{101, 102, 103, 104, 105, 107, 108, 109, 110} {
		if len(got[id]) != 1 {
			t.Errorf("company %d notified %d times, want 1", id, len(got[id]))
		}
	}
	if len(got[106]) != 0 {
		t.Errorf("company 106 has no contract but was notified")
	}
	snap := got[101][0]
	if snap.CompanyName != "Contoso Ltd" || len(snap.Contracts) != 1 || len(snap.Contracts[0].Services) == 0 {
		t.Fatalf("Contoso snapshot = %+v", snap)
	}
	if res.CompaniesNotified != 9 {
		t.Errorf("CompaniesNotified = %d, want 9", res.CompaniesNotified)
	}
	if !snap.ContactKnown || snap.PrimaryContact == nil || snap.PrimaryContact.Email != "anna.berg@contoso.example" {
		t.Errorf("Contoso's primary contact = %+v (known %v), want Anna Berg read with the contracts", snap.PrimaryContact, snap.ContactKnown)
	}
	// One contacts query for all nine companies' snapshots, not one per
	// company, and one for the read model's company poll (all 11 companies).
	if n := h.sb.RequestLog().Count("POST /ATServicesRest/v1.0/Contacts/query"); n != 2 {
		t.Errorf("Contacts/query requests = %d, want 2", n)
	}
	if res.CompaniesSaved != 11 {
		t.Errorf("CompaniesSaved = %d, want every company (11) in the read model", res.CompaniesSaved)
	}
	raw, err := h.sync.Store.(*store.Store).CompanyContracts(context.Background(), 101)
	if err != nil {
		t.Fatalf("contracts recorded for company 101: %v", err)
	}
	var contracts []entitlement.Contract
	if err := json.Unmarshal(raw, &contracts); err != nil || company.ActiveContract(contracts, h.now) != snap.Contracts[0].ID {
		t.Errorf("recorded contracts %s: active contract = %d, want %d (%v)", raw, company.ActiveContract(contracts, h.now), snap.Contracts[0].ID, err)
	}
}

func TestContractSync_QuietHourStaysWithinFivePercentOfTheBudget(t *testing.T) {
	h := newSyncHarness(t)
	res := h.run(0)
	h.notes.take()
	var requests int64
	var rounds, polls int
	contractQueries := h.sb.RequestLog().Count("POST /ATServicesRest/v1.0/Contracts/query")
	for elapsed := time.Duration(0); elapsed < time.Hour; elapsed += res.NextRunIn {
		res = h.run(res.NextRunIn)
		requests += res.Requests
		rounds++
		if res.Polled {
			polls++
		}
	}
	// Polls every 43 s (3 requests each within the 2.5% poll share); scan pages between them.
	if polls < 80 || polls > 86 {
		t.Errorf("%d polls in an hour, want about 84 (one per 43 s)", polls)
	}
	if n := h.sb.RequestLog().Count("POST /ATServicesRest/v1.0/Contracts/query") - contractQueries; n != polls {
		t.Errorf("%d contract queries for %d polls: scan-only runs must not poll", n, polls)
	}
	if rounds <= polls {
		t.Errorf("%d runs for %d polls: the scan's pages should run between polls", rounds, polls)
	}
	if got := h.notes.take(); len(got) != 0 {
		t.Fatalf("quiet hour notified companies %v", keys(got))
	}
	if limit := int64(10000 * 5 / 100); requests > limit {
		t.Fatalf("quiet hour cost %d Autotask requests in %d rounds, want at most %d (5%% of 10,000)", requests, rounds, limit)
	}
	t.Logf("quiet hour: %d rounds, %d Autotask requests (%.1f%% of the hourly limit)", rounds, requests, float64(requests)/100)
}

func TestContractSync_AdjustmentIsFoundByNewUnitRows(t *testing.T) {
	h := newSyncHarness(t)
	h.run(0)
	h.notes.take()
	// An adjustment dated today splits the unit row: a new row id appears, the contract is untouched.
	if err := h.sb.AdjustUnits(atsandbox.DemoContractID(101), atsandbox.ServiceWorkstations, 5, h.now); err != nil {
		t.Fatal(err)
	}
	h.run(time.Minute)
	got := h.notes.take()
	if len(got) != 1 || len(got[101]) != 1 {
		t.Fatalf("notified %v, want only company 101", keys(got))
	}
	if units := servicesUnits(got[101][0], atsandbox.ServiceWorkstations); units != 30 {
		t.Fatalf("Contoso workstations in snapshot = %d, want 30", units)
	}
}

func TestContractSync_SilentUnitChangeIsFoundByTheBudgetedScan(t *testing.T) {
	h := newSyncHarness(t)
	h.run(0)
	h.notes.take()
	// The pessimistic case of SPEC F11: units change in place, no new row, no contract change.
	if err := h.sb.SetUnitsSilently(atsandbox.DemoContractID(110), atsandbox.ServiceWorkstations, 77); err != nil {
		t.Fatal(err)
	}
	var found time.Duration
	for elapsed := time.Duration(0); elapsed < time.Hour; elapsed += time.Minute {
		h.run(time.Minute)
		if got := h.notes.take(); len(got[110]) > 0 {
			if units := servicesUnits(got[110][0], atsandbox.ServiceWorkstations); units != 77 {
				t.Fatalf("snapshot units = %d, want 77", units)
			}
			found = elapsed + time.Minute
			break
		}
	}
	if found == 0 {
		t.Fatal("the scan never found the silent change within an hour")
	}
	t.Logf("silent change found after %s of sync rounds", found)
}

func servicesUnits(s company.Snapshot, serviceID int64) int64 {
	var n int64
	for _, c := range s.Contracts {
		for _, u := range c.Services {
			if u.ID == serviceID {
				n += u.Units
			}
		}
	}
	return n
}

func TestContractSync_CreatesTheAcronisPAYGFieldOnceWhereMissing(t *testing.T) {
	sb, err := atsandbox.New(atsandbox.Options{Dataset: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	c, err := autotask.New(context.Background(), autotask.Config{Username: "sandbox-api@acronis-autotask.dev", Secret: "sandbox-secret",
		IntegrationCode: "SANDBOXINTEGRATIONCODE", BaseURL: srv.URL + "/ATServicesRest", HourlyLimit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	st := testenv.MustOpenDB(t)
	sync := &ContractSync{Autotask: func(context.Context) (*autotask.Client, error) { return c, nil }, Store: st, Audit: st,
		Customers: &notifications{snaps: map[int64][]company.Snapshot{}}}
	count := func() int {
		defs, err := autotask.QueryAll[autotask.UserDefinedFieldDefinition](context.Background(), c, autotask.NewQuery(autotask.Eq("name", PAYGField)))
		if err != nil {
			t.Fatal(err)
		}
		return len(defs)
	}
	if n := count(); n != 0 {
		t.Fatalf("empty sandbox already has %d Acronis PAYG fields", n)
	}
	for i := range 2 {
		created, err := sync.ensurePAYGField(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if created != (i == 0) {
			t.Fatalf("run %d: created = %v", i+1, created)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("Acronis PAYG fields = %d, want exactly 1", n)
	}
	page, err := st.ListAudit(context.Background(), store.AuditFilter{KindPrefix: "autotask.udf"})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("audit entries for the field = %d, %v; want 1", len(page.Entries), err)
	}
}

package workflows

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/activities"
)

// activityPools is the pool each activity must run on, decided by the APIs
// its code calls: the methods of *Acronis call only Acronis, those of
// *Autotask only Autotask; the store, the syncs and the usage batches (which
// read the store and both APIs under their own budgets) run on the
// workflow's queue; the alert activities are decided one by one. It is kept
// apart from the scheduling sites on purpose: a site that names the wrong
// pool disagrees with it.
var activityPools = map[string]Pool{
	// *activities.Acronis
	"ProvisionTenant": PoolAcronis, "ApplyQuotas": PoolAcronis, "EnableTenant": PoolAcronis, "DisableTenant": PoolAcronis,
	"DeleteTenant": PoolAcronis, "MapExistingTenant": PoolAcronis, "ReadQuotas": PoolAcronis, "Catalog": PoolAcronis,
	"CheckMappable": PoolAcronis, "ReadTenantItems": PoolAcronis, "SwitchToProduction": PoolAcronis,
	// *activities.Autotask
	"LoadCompanySnapshot": PoolAutotask, "PrimaryContact": PoolAutotask, "SetContractUnits": PoolAutotask,
	// *activities.Store
	"PlanCustomer": PoolLocal, "RecordAutomaticMapping": PoolLocal, "RemoveMapping": PoolLocal,
	"RecordCustomerEvent": PoolLocal, "RecordCustomerState": PoolLocal, "RecordAudit": PoolLocal,
	// *activities.ContractSync
	"SyncContracts": PoolLocal,
	// *activities.TenantSync
	"SyncTenants": PoolAcronis,
	// *activities.Usage
	"PlanUsageRun": PoolLocal, "CollectUsage": PoolLocal, "ReportUsage": PoolLocal, "RecordUsageRun": PoolLocal,
	// …and the billing reports, recorded in the store before and after each Acronis call.
	"EnsureUsageReport": PoolLocal, "PollUsageReport": PoolLocal, "SettleUsageReport": PoolLocal,
	// *activities.Alerts: the store's ledger, and the sync that reads both APIs, on the workflow's queue…
	"AlertSettings": PoolLocal, "SyncAlerts": PoolLocal, "AlertLatestTicket": PoolLocal, "AlertOpenOrJoin": PoolLocal,
	"AlertCountOccurrence": PoolLocal, "AlertTicketCompleted": PoolLocal, "AlertCleared": PoolLocal,
	// …ticket writes on Autotask's pool, the dismissal on Acronis's.
	"AlertCreateTicket": PoolAutotask, "AlertAddNote": PoolAutotask, "AlertCloseTicket": PoolAutotask,
	"AlertReopenTicket": PoolAutotask, "AlertDismiss": PoolAcronis,
}

// checkPools fails t when env starts an activity on another task queue than
// its pool's. Every workflow test environment installs it, so every scenario
// the tests run checks the pool of every activity it schedules.
func checkPools(t testing.TB, env *testsuite.TestWorkflowEnvironment) {
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		name := info.ActivityType.Name
		pool, ok := activityPools[name]
		if !ok {
			t.Errorf("activity %s has no pool in activityPools", name)
			return
		}
		if want := pool.TaskQueue(testTaskQueue); info.TaskQueue != want {
			t.Errorf("activity %s ran on task queue %q, want %q", name, info.TaskQueue, want)
		}
	})
}

// testTaskQueue is the workflow task queue of the SDK's test environment.
const testTaskQueue = "default-test-taskqueue"

func TestActivityPools_NameEveryActivityOfEveryActivityType(t *testing.T) {
	ctxType := reflect.TypeFor[context.Context]()
	seen := map[string]bool{}
	for _, acts := range []any{activities.AcronisActs, activities.AutotaskActs, activities.StoreActs,
		activities.ContractSyncActs, activities.UsageActs, activities.AlertActs, activities.TenantSyncActs} {
		typ := reflect.TypeOf(acts)
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if m.Type.NumIn() < 2 || m.Type.In(1) != ctxType {
				continue // not an activity: the worker registers only methods taking a context
			}
			seen[m.Name] = true
			if _, ok := activityPools[m.Name]; !ok {
				t.Errorf("%s.%s has no pool in activityPools: say which API it calls", typ, m.Name)
			}
		}
	}
	for name := range activityPools {
		if !seen[name] {
			t.Errorf("activityPools names %s, which is no activity", name)
		}
	}
}

// TestRecordedHistories_ScheduleEachActivityOnItsPool checks the released
// histories that ran with per-vendor pools (v3 on) against activityPools:
// the workflows' explicit choice of pool is the one those releases made.
func TestRecordedHistories_ScheduleEachActivityOnItsPool(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "v*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories (%v)", err)
	}
	checked := 0
	for _, f := range files {
		v, err := strconv.Atoi(strings.TrimPrefix(strings.SplitN(filepath.Base(f), "-", 2)[0], "v"))
		if err != nil || v < 3 {
			continue // before the vendor pools every activity ran on the workflow's queue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			Events []struct {
				Started *struct {
					TaskQueue struct{ Name string } `json:"taskQueue"`
				} `json:"workflowExecutionStartedEventAttributes"`
				Scheduled *struct {
					ActivityType struct{ Name string } `json:"activityType"`
					TaskQueue    struct{ Name string } `json:"taskQueue"`
				} `json:"activityTaskScheduledEventAttributes"`
			} `json:"events"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		base := ""
		for _, e := range h.Events {
			if e.Started != nil {
				base = e.Started.TaskQueue.Name
			}
			if e.Scheduled == nil {
				continue
			}
			name := e.Scheduled.ActivityType.Name
			pool, ok := activityPools[name]
			if !ok {
				t.Errorf("%s: activity %s has no pool in activityPools", filepath.Base(f), name)
				continue
			}
			if got, want := e.Scheduled.TaskQueue.Name, pool.TaskQueue(base); got != want {
				t.Errorf("%s: %s was scheduled on %q, want %q", filepath.Base(f), name, got, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no scheduled activity in the v3+ histories")
	}
}

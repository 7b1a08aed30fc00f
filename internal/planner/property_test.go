package planner_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunWithDB(m)) }

// propertyItems are the items the generated plans set: counted items, a
// pack and a storage (bytes).
var propertyItems = []entitlement.Item{
	{Name: "pw_base_workstations", ApplicationID: acsandbox.CyberProtectionAppID},
	{Name: "pw_base_servers", ApplicationID: acsandbox.CyberProtectionAppID},
	{Name: "pw_base_vms", ApplicationID: acsandbox.CyberProtectionAppID},
	{Name: "pw_pack_adv_security", ApplicationID: acsandbox.CyberProtectionAppID},
	{Name: "pw_base_storage", ApplicationID: acsandbox.CyberProtectionAppID, InfraID: acsandbox.DefaultStorageID, Bytes: true},
}

// TestPlan_WritesExactlyWhatItLists generates tenants (quotas, usage, items
// on and off, admin changes in the Acronis console) and desired quotas, and
// checks that applying them through the activity the workflow runs changes
// exactly the items the plan lists as writes, to the quota it shows, with
// one request when there is a write and none otherwise (sandbox request log).
func TestPlan_WritesExactlyWhatItLists(t *testing.T) {
	sb, c := testenv.AcronisSandbox(t, acsandbox.Options{Dataset: "demo", RequestsPerSecond: -1})
	act := &activities.Acronis{Client: func(context.Context) (activities.AcronisAPI, error) { return c, nil }, Store: testenv.MustOpenDB(t)}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(act)
	read := func() []plan.ItemState {
		t.Helper()
		v, err := env.ExecuteActivity(act.ReadTenantItems, acsandbox.LitwareID)
		if err != nil {
			t.Fatal(err)
		}
		var out []plan.ItemState
		if err := v.Get(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const puts = "PUT /api/2/tenants/{id}/offering_items"
	rng := rand.New(rand.NewPCG(14, 2026))
	snap := &company.Snapshot{CompanyID: 107, CompanyName: "Litware", Active: true}
	var desired []entitlement.Quota
	var withWrites, without int
	for round := range 80 {
		// Every fifth round asks again for what the last one set: nothing to write.
		repeat := round%5 == 4
		// The world moves: usage changes and an admin edits a quota in Acronis.
		for _, it := range propertyItems {
			if err := sb.SetUsage(acsandbox.LitwareID, it.Name, it.InfraID, float64(rng.IntN(30))*scale(it), 0); err != nil {
				t.Fatal(err)
			}
		}
		if !repeat && rng.IntN(3) == 0 {
			it := propertyItems[rng.IntN(len(propertyItems))]
			var v *float64
			if rng.IntN(4) > 0 {
				f := float64(rng.IntN(30)) * scale(it)
				v = &f
			}
			var overage *float64 // nil: soft, as an admin may leave it
			if rng.IntN(2) == 0 {
				o := float64(rng.IntN(3))
				overage = &o
			}
			if err := sb.SetQuota(acsandbox.LitwareID, it.Name, it.InfraID, v, overage); err != nil {
				t.Fatal(err)
			}
		}
		if !repeat {
			desired = make([]entitlement.Quota, 0, len(propertyItems))
		}
		for _, it := range propertyItems {
			if repeat {
				break
			}
			q := entitlement.Quota{Item: it, Enabled: rng.IntN(4) > 0}
			if q.Enabled && rng.IntN(5) > 0 {
				v := int64(rng.IntN(30)) * int64(scale(it))
				q.Value, q.Soft = &v, rng.IntN(4) == 0 // prepaid with overage
			}
			desired = append(desired, q)
		}
		p := entitlement.Plan{Desired: entitlement.Desired{Quotas: desired, HasActiveServices: true},
			Settings: entitlement.CustomerSettings{BillingEnabled: true}}
		st := workflows.CustomerState{CompanyID: 107, TenantID: acsandbox.LitwareID, Snapshot: snap}
		before := read()
		pc := workflows.PreviewCustomer(st, p, "", before, time.Now())

		sent := sb.RequestLog().Count(puts)
		v, err := env.ExecuteActivity(act.ApplyQuotas, activities.ApplyQuotasInput{CompanyID: 107, TenantID: acsandbox.LitwareID, Quotas: desired, Reason: "property",
			KeepUsage: true, Confirmed: pc.BelowUsage()}) // as the workflow writes a confirmed plan
		if err != nil {
			t.Fatalf("round %d: apply: %v", round, err)
		}
		var res activities.AppliedQuotas
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		after := read()
		if len(res.Held) > 0 {
			t.Fatalf("round %d: the confirmed plan's writes %+v were held", round, res.Held)
		}

		var listed, changed []string
		want := map[string]string{}
		for _, it := range pc.Items {
			if it.Write {
				listed = append(listed, it.Item)
				want[it.Item] = it.NewQuota
			}
		}
		for _, ch := range res.Changed {
			changed = append(changed, ch.Item)
		}
		sort.Strings(listed)
		sort.Strings(changed)
		if !slices.Equal(listed, changed) {
			t.Fatalf("round %d: the plan lists writes to %v, the apply changed %v\nbefore %+v\nplan %+v", round, listed, changed, before, pc.Items)
		}
		for _, a := range after {
			got := quotaText(a)
			if w, ok := want[a.Key]; ok {
				if got != w {
					t.Fatalf("round %d: %s is %s after the apply, the plan said %s", round, a.Key, got, w)
				}
				continue
			}
			if b := find(before, a.Key); quotaText(b) != got {
				t.Fatalf("round %d: %s changed from %s to %s, and the plan did not list it", round, a.Key, quotaText(b), got)
			}
		}
		wantPuts := 0
		if len(listed) > 0 {
			wantPuts = 1
			withWrites++
		} else {
			without++
		}
		if n := sb.RequestLog().Count(puts) - sent; n != wantPuts {
			t.Fatalf("round %d: %d offering-item writes sent, want %d", round, n, wantPuts)
		}
	}
	if withWrites < 40 || without < 16 {
		t.Fatalf("the generator made %d plans with writes and %d without; want both kinds", withWrites, without)
	}
}

func scale(it entitlement.Item) float64 {
	if it.Bytes {
		return float64(entitlement.GiB)
	}
	return 1
}

func find(items []plan.ItemState, key string) plan.ItemState {
	for _, it := range items {
		if it.Key == key {
			return it
		}
	}
	return plan.ItemState{Key: key}
}

// quotaText is the quota as plans write it: off, unlimited or a number.
func quotaText(s plan.ItemState) string {
	items, _ := plan.Describe([]entitlement.Quota{{Item: entitlement.Item{Name: s.Key}, Enabled: true}}, []plan.ItemState{s})
	if len(items) == 0 {
		return "off"
	}
	return items[0].CurrentQuota
}

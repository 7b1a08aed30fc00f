package server

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/planner"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// TestPlans_PreviewApplyAndDrift previews admin changes through POST
// /api/v1/plans on real customer workflows, applies them by id, and checks
// that a plan whose inputs moved is refused whole.
func TestPlans_PreviewApplyAndDrift(t *testing.T) {
	h := withBilling(t)
	fillReadModel(t, h)
	// Litware (107) is in use and its contract is active; Wide World (105)
	// has no active services, so mapping it starts deprovisioning.
	wantMessage(t, mapConfirmed(t, h, 107, acsandbox.LitwareID), 200, "mapped")
	wantMessage(t, mapConfirmed(t, h, 105, acsandbox.WoodgroveRetailID), 200, "mapped")
	st105 := eventually(t, h, "105", "has a pending disable", func(s CustomerStatus) bool { return len(s.Pending) > 0 })
	eventually(t, h, "107", "is active", func(s CustomerStatus) bool { return s.State == "active" })
	since := st105.Pending[0].At.Add(-30 * 24 * time.Hour)

	t.Run("BadInputIsRefusedWholeAndStoresNothing", func(t *testing.T) {
		before := countPlans(t, h)
		wantFields(t, h.do("POST", "/api/v1/plans", adminToken, `{}`), "scope")
		wantFields(t, h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"all":true,"companyIds":[1]}}`), "scope")
		wantFields(t, h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"companyIds":[0]}}`), "scope.companyIds[0]")
		wantFields(t, h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"all":true},"settings":{"deprovisioning":{"disable":{"afterDays":-1}}}}`),
			"settings.deprovisioning.disable.afterDays")
		wantFields(t, h.do("POST", "/api/v1/plans", adminToken, `{"customerMappings":[{"companyId":109,"tenantId":"nope"},{"companyId":109,"tenantId":"`+acsandbox.WoodgroveWealthID+`"}]}`),
			"customerMappings[0].tenantId", "customerMappings[1].companyId")
		wantFields(t, h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"all":true},"serviceMappings":[{"offeringItem":"pw_base_workstations","serviceName":"New"}]}`),
			"serviceMappings[0].serviceName")
		wantFields(t, h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"all":true},"extra":1}`), "extra")
		if r := h.do("POST", "/api/v1/plans", readToken, `{"scope":{"all":true}}`); r.code != 403 {
			t.Fatalf("read-only preview = %d, want 403", r.code)
		}
		if after := countPlans(t, h); after != before {
			t.Fatalf("a refused request stored %d plans", after-before)
		}
	})

	t.Run("PreviewUnsavedSettingsThenApply", func(t *testing.T) {
		log := h.ac.RequestLog()
		batch, single := log.Count("GET /api/2/tenants/usages"), log.Count("GET /api/2/tenants/{id}/usages")
		r := h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"all":true},"settings":{"deprovisioning":{"disable":{"afterDays":10}}}}`)
		if r.code != 201 {
			t.Fatalf("preview = %d %s", r.code, r.body)
		}
		// The tenants a plan reads share one usages request.
		if b, s := log.Count("GET /api/2/tenants/usages")-batch, log.Count("GET /api/2/tenants/{id}/usages")-single; b != 1 || s != 0 {
			t.Fatalf("usages read with %d batch and %d single-tenant requests; want 1 and 0", b, s)
		}
		set := decode[plan.Set](t, r)
		c105, c107 := entryOf(t, set, 105), entryOf(t, set, 107)
		if got := stepAt(c105.Customer, "disable-tenant"); !got.Equal(since.Add(10 * 24 * time.Hour)) {
			t.Fatalf("previewed disable at %v, want %v (steps %+v)", got, since.Add(10*24*time.Hour), c105.Steps)
		}
		if !hasWarning(c105.Customer, plan.WarnDeprovision) {
			t.Fatalf("a tenant in use to be deprovisioned without a warning: %+v", c105.Warnings)
		}
		for _, it := range c107.Items {
			if it.Write {
				t.Fatalf("Litware's quotas already follow its contract, yet the plan writes %+v", it)
			}
		}
		// Nothing changed yet: the saved settings and the pending time are as before.
		if st := decode[CustomerStatus](t, h.do("GET", "/api/v1/customers/105", readToken, nil)); !st.Pending[0].At.Equal(since.Add(30 * 24 * time.Hour)) {
			t.Fatalf("the preview moved the pending disable to %v", st.Pending[0].At)
		}
		if got := decode[plan.Set](t, h.do("GET", "/api/v1/plans/"+set.ID, readToken, nil)); got.ID != set.ID || got.Status != plan.StatusPreview {
			t.Fatalf("stored plan = %+v", got)
		}

		if r := h.do("POST", "/api/v1/plans/"+set.ID+"/apply", readToken, nil); r.code != 403 {
			t.Fatalf("read-only apply = %d, want 403", r.code)
		}
		r = h.do("POST", "/api/v1/plans/"+set.ID+"/apply", adminToken, nil)
		if r.code != 200 {
			t.Fatalf("apply = %d %s", r.code, r.body)
		}
		if applied := decode[planner.Applied](t, r); applied.Set.Status != plan.StatusApplied || applied.Set.AppliedBy != "ops" {
			t.Fatalf("applied = %+v", applied)
		}
		if doc := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", readToken, nil)); doc.Settings.Deprovisioning.Disable.AfterDays != 10 || doc.Version != 2 {
			t.Fatalf("settings after apply = version %d, %+v", doc.Version, doc.Settings.Deprovisioning)
		}
		eventually(t, h, "105", "moves its pending disable", func(s CustomerStatus) bool {
			return len(s.Pending) > 0 && s.Pending[0].At.Equal(since.Add(10*24*time.Hour))
		})
		p := wantProblem(t, h.do("POST", "/api/v1/plans/"+set.ID+"/apply", adminToken, nil), 409)
		if !strings.Contains(p.Detail+p.Type, "conflict") {
			t.Fatalf("second apply = %+v", p)
		}
		var audited int
		if err := h.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE kind IN ('plan.create', 'plan.apply')
			AND target = $1 AND actor = 'ops'`, "plan/"+set.ID).Scan(&audited); err != nil || audited != 2 {
			t.Fatalf("preview and apply audited %d times (%v), want 2", audited, err)
		}
	})

	t.Run("APlanThatWritesNothingReadsNoTenant", func(t *testing.T) {
		reads := h.ac.RequestLog().Total()
		set := decode[plan.Set](t, h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"companyIds":[107]},"settings":{"syncIntervalSeconds":90}}`))
		if e := entryOf(t, set, 107); len(e.Items)+len(e.Steps) != 0 {
			t.Fatalf("plan = %+v, want nothing to write", e.Customer)
		}
		if n := h.ac.RequestLog().Total() - reads; n != 0 {
			t.Fatalf("a plan that writes nothing sent %d Acronis requests", n)
		}
	})

	t.Run("DriftIsRefusedAndWritesNothing", func(t *testing.T) {
		// Unmapping servers takes Litware's server quota to 0 while 1 is in
		// use: the plan reads the tenant, so what it read can move.
		r := h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"companyIds":[107]},"settings":{"deprovisioning":{"disable":{"afterDays":20}}},
			"serviceMappings":[{"offeringItem":"pw_base_workstations","serviceId":301},{"offeringItem":"pw_base_vms","serviceId":303}]}`)
		if r.code != 201 {
			t.Fatalf("preview = %d %s", r.code, r.body)
		}
		set := decode[plan.Set](t, r)
		if e := entryOf(t, set, 107); e.BelowUsage()["pw_base_servers"] != "0" {
			t.Fatalf("plan = %+v, want servers to 0 below usage", e.Customer)
		}
		// The tenant's usage moves between preview and apply.
		if err := h.ac.SetUsage(acsandbox.LitwareID, "pw_base_workstations", "", 12, 0); err != nil {
			t.Fatal(err)
		}
		p := wantProblem(t, h.do("POST", "/api/v1/plans/"+set.ID+"/apply", adminToken, nil), 409)
		if len(p.Drifts) != 1 || p.Drifts[0].CompanyID != 107 || p.Drifts[0].Changed[0] != "quotas read" {
			t.Fatalf("drift = %+v (%s)", p.Drifts, p.Detail)
		}
		if doc := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", readToken, nil)); doc.Settings.Deprovisioning.Disable.AfterDays != 10 {
			t.Fatalf("a drifted plan saved its settings: %+v", doc.Settings.Deprovisioning)
		}
		if m := decode[ServiceMappings](t, h.do("GET", "/api/v1/service-mappings", readToken, nil)); len(m.Mappings) != 3 {
			t.Fatalf("a drifted plan saved its service mappings: %+v", m.Mappings)
		}
		if got := decode[plan.Set](t, h.do("GET", "/api/v1/plans/"+set.ID, readToken, nil)); got.Status != plan.StatusPreview {
			t.Fatalf("a drifted plan is %s, want preview", got.Status)
		}
		// The settings move too: the same plan now names the settings version.
		wantOK(t, h.do("PATCH", "/api/v1/settings", adminToken, `{"twoWaySync":false}`, "Content-Type", mergePatchType, "If-Match", `"2"`))
		p = wantProblem(t, h.do("POST", "/api/v1/plans/"+set.ID+"/apply", adminToken, nil), 409)
		if !strings.Contains(p.Detail, "version 2 to 3") {
			t.Fatalf("settings drift not named: %s", p.Detail)
		}
		wantProblem(t, h.do("POST", "/api/v1/plans/plan-doesnotexist/apply", adminToken, nil), 404)
	})

	t.Run("ContractBelowUsageWaitsForAConfirmedPlan", func(t *testing.T) {
		// Litware uses 12 workstations (set above); its contract drops to 5.
		if err := h.at.SetUnitsSilently(atsandbox.DemoContractID(107), atsandbox.ServiceWorkstations, 5); err != nil {
			t.Fatal(err)
		}
		wantOK(t, h.do("POST", "/api/v1/customers/107/sync", adminToken, nil))
		st := eventually(t, h, "107", "holds the quota below usage", func(s CustomerStatus) bool {
			return slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.HasPrefix(w, plan.WarnBelowUsage) })
		})
		if it, _ := h.ac.OfferingItem(acsandbox.LitwareID, "pw_base_workstations", ""); it.Quota == nil || *it.Quota != 12 {
			t.Fatalf("workstations quota = %+v, want 12 kept (status %+v)", it, st.Warnings)
		}
		set := decode[plan.Set](t, h.do("POST", "/api/v1/plans", adminToken, `{"scope":{"companyIds":[107]}}`))
		e := entryOf(t, set, 107)
		if e.BelowUsage()["pw_base_workstations"] != "5" || !hasWarning(e.Customer, plan.WarnBelowUsage) {
			t.Fatalf("plan = %+v", e.Customer)
		}
		wantOK(t, h.do("POST", "/api/v1/plans/"+set.ID+"/apply", adminToken, nil))
		deadline := time.Now().Add(20 * time.Second)
		for {
			it, _ := h.ac.OfferingItem(acsandbox.LitwareID, "pw_base_workstations", "")
			if it.Quota != nil && *it.Quota == 5 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the confirmed quota was never written: %+v", it)
			}
			time.Sleep(100 * time.Millisecond)
		}
		eventually(t, h, "107", "drops the warning", func(s CustomerStatus) bool {
			return !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.HasPrefix(w, plan.WarnBelowUsage) })
		})
	})

	t.Run("CustomerMappingThroughAPlan", func(t *testing.T) {
		wantOK(t, h.do("POST", "/api/v1/customers/109/sync", adminToken, nil))
		eventually(t, h, "109", "has read its contracts", func(s CustomerStatus) bool { return s.LastSyncedAt != nil || s.State != "new" })
		body := `{"customerMappings":[{"companyId":109,"tenantId":"` + acsandbox.WoodgroveWealthID + `"}]}`
		r := h.do("POST", "/api/v1/plans", adminToken, body)
		if r.code != 201 {
			t.Fatalf("preview = %d %s", r.code, r.body)
		}
		set := decode[plan.Set](t, r)
		e := entryOf(t, set, 109)
		if e.TenantID != acsandbox.WoodgroveWealthID || len(e.Items) == 0 {
			t.Fatalf("mapping plan = %+v", e)
		}
		r = h.do("POST", "/api/v1/plans/"+set.ID+"/apply", adminToken, nil)
		if r.code != 200 {
			t.Fatalf("apply = %d %s", r.code, r.body)
		}
		if a := decode[planner.Applied](t, r); len(a.Warnings) > 0 {
			t.Fatalf("apply warned: %v", a.Warnings)
		}
		eventually(t, h, "109", "is mapped", func(s CustomerStatus) bool { return s.TenantID == acsandbox.WoodgroveWealthID })
	})
}

// withBilling runs real customer workflows with billing on, tenants disabled
// 30 days after their services end, and workstations, servers and virtual
// machines mapped to the demo services.
func withBilling(t *testing.T) *apiHarness {
	t.Helper()
	h := withTemporal(t)
	r := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"version": 0, "settings": map[string]any{
		"billingEnabled": true, "deprovisioning": map[string]any{"disable": map[string]any{"enabled": true, "afterDays": 30}}}})
	if r.code != 200 {
		t.Fatalf("PUT settings = %d %s", r.code, r.body)
	}
	r = h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_base_workstations", ServiceID: ptr(atsandbox.ServiceWorkstations)},
		{OfferingItem: "pw_base_servers", ServiceID: ptr(atsandbox.ServiceServers)},
		{OfferingItem: "pw_base_vms", ServiceID: ptr(atsandbox.ServiceVirtualMachines)}}})
	if r.code != 200 {
		t.Fatalf("PUT service mappings = %d %s", r.code, r.body)
	}
	return h
}

func entryOf(t *testing.T, set plan.Set, companyID int64) plan.Entry {
	t.Helper()
	for _, e := range set.Customers {
		if e.CompanyID == companyID {
			return e
		}
	}
	t.Fatalf("company %d is not in the plan (skipped: %+v)", companyID, set.Skipped)
	return plan.Entry{}
}

func stepAt(c plan.Customer, action string) time.Time {
	for _, s := range c.Steps {
		if s.Action == action {
			return s.At
		}
	}
	return time.Time{}
}

func hasWarning(c plan.Customer, kind string) bool {
	for _, w := range c.Warnings {
		if strings.HasPrefix(w, kind) {
			return true
		}
	}
	return false
}

func countPlans(t *testing.T, h *apiHarness) int {
	t.Helper()
	var n int
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM plans`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantOK(t *testing.T, r response) {
	t.Helper()
	if r.code/100 != 2 {
		t.Fatalf("status = %d: %s", r.code, r.body)
	}
}

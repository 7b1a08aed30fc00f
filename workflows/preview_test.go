package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
)

func TestPreviewCustomer_FollowsReconcileDecisions(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	ten := int64(10)
	ws := entitlement.Item{Name: "pw_base_workstations"}
	paygQuota := entitlement.Quota{Item: ws, Enabled: true, ContractServices: []entitlement.ContractService{{ContractID: 2102, ServiceID: 301, PAYG: true}}}
	prepaid := entitlement.Quota{Item: ws, Enabled: true, Value: &ten}
	settings := entitlement.CustomerSettings{BillingEnabled: true, AutoCreateCustomers: true, DisableEnabled: true, DisableAfter: 10 * 24 * time.Hour,
		DeleteEnabled: true, DeleteAfter: 40 * 24 * time.Hour, TenantMode: "trial"}
	snap := &company.Snapshot{CompanyID: 7}
	used := []plan.ItemState{{Key: "pw_base_workstations", Enabled: true, Quota: ptrF(12), Overage: ptrF(0), Usage: 11}}

	t.Run("UnmappedWithServicesIsProvisionedInTrial", func(t *testing.T) {
		p := entitlement.Plan{Desired: entitlement.Desired{Quotas: []entitlement.Quota{paygQuota}, HasActiveServices: true}, Settings: settings}
		got := PreviewCustomer(CustomerState{CompanyID: 7, Snapshot: snap}, p, "", nil, now)
		if strings.Join(actions(got.Steps), ",") != "create-tenant,switch-to-production" || got.Steps[1].At != now.AddDate(0, 1, 0) {
			t.Fatalf("steps = %+v", got.Steps)
		}
		if len(got.Items) != 1 || got.Items[0].NewQuota != "unlimited" || len(got.Autotask) != 1 || !strings.Contains(got.Autotask[0], "contract 2102") {
			t.Fatalf("items %+v, autotask %v", got.Items, got.Autotask)
		}
	})
	t.Run("UnmappedWithoutAutomaticProvisioningWritesNothing", func(t *testing.T) {
		off := settings
		off.AutoCreateCustomers = false
		p := entitlement.Plan{Desired: entitlement.Desired{Quotas: []entitlement.Quota{paygQuota}, HasActiveServices: true}, Settings: off}
		if got := PreviewCustomer(CustomerState{CompanyID: 7, Snapshot: snap}, p, "", nil, now); len(got.Steps)+len(got.Items) != 0 {
			t.Fatalf("plan = %+v", got)
		}
	})
	t.Run("NoServicesLeftStartsDeprovisioningUnderTheNewDays", func(t *testing.T) {
		since := now.Add(-48 * time.Hour)
		st := CustomerState{CompanyID: 7, TenantID: "t", Snapshot: snap, Deprovision: Deprovision{Since: since}}
		p := entitlement.Plan{Desired: entitlement.Desired{Quotas: []entitlement.Quota{prepaid}}, Settings: settings}
		got := PreviewCustomer(st, p, "", used, now)
		if strings.Join(actions(got.Steps), ",") != "disable-tenant,delete-tenant" || !got.Steps[0].At.Equal(since.Add(10*24*time.Hour)) {
			t.Fatalf("steps = %+v", got.Steps)
		}
		if !hasKind(got.Warnings, plan.WarnDeprovision) || len(got.Items) != 0 {
			t.Fatalf("warnings %v, items %+v", got.Warnings, got.Items)
		}
	})
	t.Run("ContractBelowUsageWarnsAndHeldQuotasAreListedAgain", func(t *testing.T) {
		st := CustomerState{CompanyID: 7, TenantID: "t", Snapshot: snap}
		p := entitlement.Plan{Desired: entitlement.Desired{Quotas: []entitlement.Quota{prepaid}, HasActiveServices: true}, Settings: settings}
		got := PreviewCustomer(st, p, "", used, now)
		if !hasKind(got.Warnings, plan.WarnBelowUsage) || got.BelowUsage()["pw_base_workstations"] != "10" {
			t.Fatalf("plan = %+v", got)
		}
		st.Applied = fingerprint("t", p.Desired.Quotas)
		if got := PreviewCustomer(st, p, "", used, now); len(got.Items) != 0 {
			t.Fatalf("applied quotas listed again: %+v", got.Items)
		}
		st.Held = []string{"held"}
		if got := PreviewCustomer(st, p, "", used, now); len(got.Items) != 1 || !got.Items[0].Write {
			t.Fatalf("held quota not listed: %+v", got.Items)
		}
	})
	t.Run("TrialEndingWarns", func(t *testing.T) {
		st := CustomerState{CompanyID: 7, TenantID: "t", Snapshot: snap, TrialEndsAt: now.Add(48 * time.Hour)}
		p := entitlement.Plan{Desired: entitlement.Desired{Quotas: []entitlement.Quota{prepaid}, HasActiveServices: true}, Settings: settings}
		got := PreviewCustomer(st, p, "", used, now)
		if !hasKind(got.Warnings, plan.WarnTrialEnding) || strings.Join(actions(got.Steps), ",") != "switch-to-production" {
			t.Fatalf("plan = %+v", got)
		}
	})
	t.Run("BillingOffWritesNothing", func(t *testing.T) {
		off := settings
		off.BillingEnabled = false
		p := entitlement.Plan{Desired: entitlement.Desired{Quotas: []entitlement.Quota{prepaid}, HasActiveServices: true}, Settings: off}
		got := PreviewCustomer(CustomerState{CompanyID: 7, TenantID: "t", Snapshot: snap}, p, "", used, now)
		if len(got.Items)+len(got.Steps) != 0 || !strings.Contains(strings.Join(got.Warnings, ";"), "billing is off") {
			t.Fatalf("plan = %+v", got)
		}
	})
}

func ptrF(f float64) *float64 { return &f }

func hasKind(ws []string, kind string) bool {
	for _, w := range ws {
		if strings.HasPrefix(w, kind) {
			return true
		}
	}
	return false
}

package activities

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

type acronisHarness struct {
	t   *testing.T
	sb  *acsandbox.Sandbox
	act *Acronis
	st  *store.Store
	env *testsuite.TestActivityEnvironment
}

func newAcronisHarness(t *testing.T) *acronisHarness {
	t.Helper()
	sb, c := testenv.AcronisSandbox(t, acsandbox.Options{Dataset: "demo"})
	st := testenv.MustOpenDB(t)
	h := &acronisHarness{t: t, sb: sb, st: st,
		act: &Acronis{Client: func(context.Context) (AcronisAPI, error) { return c, nil }, Store: st}}
	var s testsuite.WorkflowTestSuite
	h.env = s.NewTestActivityEnvironment()
	h.env.RegisterActivity(h.act)
	return h
}

func (h *acronisHarness) exec(fn any, in any, out any) error {
	h.t.Helper()
	v, err := h.env.ExecuteActivity(fn, in)
	if err != nil || out == nil {
		return err
	}
	return v.Get(out)
}

func provisionInput() ProvisionInput {
	return ProvisionInput{CompanyID: 201, CompanyName: "Graphic Design Institute",
		Settings: entitlement.CustomerSettings{AccountsBasedOn: "primary_contact", TenantMode: "production", TwoFactor: true},
		Contact:  &company.Contact{FirstName: "Kim", LastName: "Abercrombie", Email: "kim@graphicdesign.example"}}
}

func TestProvisionTenant_RetryFindsTheSameTenantUserAndEmail(t *testing.T) {
	h := newAcronisHarness(t)
	var first, second Provisioned
	if err := h.exec(h.act.ProvisionTenant, provisionInput(), &first); err != nil {
		t.Fatal(err)
	}
	in := provisionInput()
	in.MayExist = true // as after a crash: the tenant may exist
	if err := h.exec(h.act.ProvisionTenant, in, &second); err != nil {
		t.Fatal(err)
	}
	if second.TenantID != first.TenantID || second.TenantCreated || second.AdminUserID != first.AdminUserID {
		t.Fatalf("retry = %+v, first = %+v; want the same tenant and user, nothing created", second, first)
	}
	ten, _ := h.sb.Tenant(first.TenantID)
	if ten.Users != 1 || !ten.MFA || ten.PricingMode != "production" || ten.Name != "Graphic Design Institute" {
		t.Fatalf("tenant = %+v; want 1 user, 2FA, production", ten)
	}
	if first.AdminLogin != "kim@graphicdesign.example" || first.ActivationSentAt.IsZero() {
		t.Fatalf("admin = %q sent %v", first.AdminLogin, first.ActivationSentAt)
	}
	page, err := h.st.ListAudit(context.Background(), store.AuditFilter{KindPrefix: "acronis.user.activation_email"})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("activation emails sent = %d (%v), want exactly 1", len(page.Entries), err)
	}
}

func TestProvisionTenant_RetryResumesFromTheHeartbeatedTenantWithoutListingTenants(t *testing.T) {
	h := newAcronisHarness(t)
	var first, second Provisioned
	if err := h.exec(h.act.ProvisionTenant, provisionInput(), &first); err != nil {
		t.Fatal(err)
	}
	lists := h.sb.RequestLog().Count("GET /api/2/tenants")
	// A later attempt of the same activity gets the first attempt's heartbeat.
	h.env.SetHeartbeatDetails(heartbeatTenantPrefix + first.TenantID)
	in := provisionInput()
	in.MayExist = true
	if err := h.exec(h.act.ProvisionTenant, in, &second); err != nil {
		t.Fatal(err)
	}
	if second.TenantID != first.TenantID || second.TenantCreated || second.AdminUserID != first.AdminUserID {
		t.Fatalf("retry = %+v, first = %+v; want the same tenant and user, nothing created", second, first)
	}
	if n := h.sb.RequestLog().Count("GET /api/2/tenants") - lists; n != 0 {
		t.Errorf("the retry listed the partner's tenants %d times; want a read by id", n)
	}
}

func TestProvisionTenant_ForeignTenantOfTheSameNameIsNotDuplicated(t *testing.T) {
	h := newAcronisHarness(t)
	in := provisionInput()
	in.CompanyName = "Litware Inc"
	before := h.sb.CountTenants("customer")
	err := h.exec(h.act.ProvisionTenant, in, nil)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrTypeNameTaken {
		t.Fatalf("err = %v; want %s", err, ErrTypeNameTaken)
	}
	if n := h.sb.CountTenants("customer"); n != before {
		t.Fatalf("customer tenants = %d, want %d (nothing created)", n, before)
	}
}

func TestApplyQuotas_WritesOnlyDifferences(t *testing.T) {
	h := newAcronisHarness(t)
	v := int64(20)
	quotas := []entitlement.Quota{
		{Item: entitlement.Item{Name: "pw_base_workstations", ApplicationID: acsandbox.CyberProtectionAppID}, Enabled: true, Value: &v},
		{Item: entitlement.Item{Name: "pw_base_servers", ApplicationID: acsandbox.CyberProtectionAppID}, Enabled: false},
	}
	in := ApplyQuotasInput{CompanyID: 107, TenantID: acsandbox.LitwareID, Quotas: quotas, Reason: "test"}
	var res AppliedQuotas
	if err := h.exec(h.act.ApplyQuotas, in, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 2 {
		t.Fatalf("changes = %+v; want workstations 12→20 and servers 1→0", res.Changed)
	}
	it, _ := h.sb.OfferingItem(acsandbox.LitwareID, "pw_base_workstations", "")
	if it.Quota == nil || *it.Quota != 20 || it.Overage == nil || *it.Overage != 0 {
		t.Fatalf("workstations = %+v; want a hard quota of 20", it)
	}
	puts := h.sb.RequestLog().Count("PUT /api/2/tenants/{id}/offering_items")
	var again AppliedQuotas
	if err := h.exec(h.act.ApplyQuotas, in, &again); err != nil {
		t.Fatal(err)
	}
	if puts == 0 {
		t.Fatal("the first apply wrote nothing")
	}
	if len(again.Changed) != 0 || h.sb.RequestLog().Count("PUT /api/2/tenants/{id}/offering_items") != puts {
		t.Fatalf("second apply changed %+v; want no write", again.Changed)
	}
}

func TestMapExistingTenant_RefusesWhatCannotBeManaged(t *testing.T) {
	h := newAcronisHarness(t)
	for tenant, want := range map[string]string{acsandbox.ProsewareID: ErrTypeNotManageable, acsandbox.FourthCoffeeID: ErrTypeNotManageable} {
		err := h.exec(h.act.MapExistingTenant, MapInput{CompanyID: 108, TenantID: tenant, Actor: "ops"}, nil)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != want {
			t.Errorf("map %s: %v; want %s", tenant, err, want)
		}
	}
	if err := h.exec(h.act.MapExistingTenant, MapInput{CompanyID: 107, TenantID: acsandbox.LitwareID, Actor: "ops"}, nil); err != nil {
		t.Fatal(err)
	}
	err := h.exec(h.act.MapExistingTenant, MapInput{CompanyID: 999, TenantID: acsandbox.LitwareID, Actor: "ops"}, nil)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrTypeAlreadyMapped {
		t.Fatalf("second company on Litware: %v; want %s", err, ErrTypeAlreadyMapped)
	}
}

func TestDeleteTenant_DisablesFirstAndIsRepeatable(t *testing.T) {
	h := newAcronisHarness(t)
	in := TenantStateInput{CompanyID: 107, TenantID: acsandbox.LitwareID, Reason: "test"}
	for range 2 {
		if err := h.exec(h.act.DeleteTenant, in, nil); err != nil {
			t.Fatal(err)
		}
	}
	if ten, _ := h.sb.Tenant(acsandbox.LitwareID); !ten.Deleted {
		t.Fatalf("Litware = %+v; want deleted", ten)
	}
}

// TestApplyQuotas_PrepaidWithOverageSetsASoftQuota: a soft quota reaches
// Acronis as the units with no overage limit (reference §3.3), which the
// sandbox keeps; turning the option off makes it hard again.
func TestApplyQuotas_PrepaidWithOverageSetsASoftQuota(t *testing.T) {
	h := newAcronisHarness(t)
	v := int64(20)
	q := entitlement.Quota{Item: entitlement.Item{Name: "pw_base_workstations", ApplicationID: acsandbox.CyberProtectionAppID}, Enabled: true, Value: &v, Soft: true}
	in := ApplyQuotasInput{CompanyID: 107, TenantID: acsandbox.LitwareID, Quotas: []entitlement.Quota{q}, Reason: "test"}
	var res AppliedQuotas
	if err := h.exec(h.act.ApplyQuotas, in, &res); err != nil {
		t.Fatal(err)
	}
	it, _ := h.sb.OfferingItem(acsandbox.LitwareID, "pw_base_workstations", "")
	if it.Quota == nil || *it.Quota != 20 || it.Overage != nil {
		t.Fatalf("workstations = %+v; want quota 20 with no overage limit (soft)", it)
	}
	if len(res.Changed) != 1 || res.Changed[0].After != "20 (soft)" {
		t.Fatalf("changes = %+v; want workstations to 20 (soft)", res.Changed)
	}
	in.Quotas[0].Soft = false
	if err := h.exec(h.act.ApplyQuotas, in, &res); err != nil {
		t.Fatal(err)
	}
	if it, _ := h.sb.OfferingItem(acsandbox.LitwareID, "pw_base_workstations", ""); it.Overage == nil || *it.Overage != 0 {
		t.Fatalf("workstations = %+v; want a hard quota again (overage 0)", it)
	}
}

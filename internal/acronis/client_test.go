package acronis_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

func TestNew_FindsPartnerTenantOfAPIClient(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	if got, want := e.client.PartnerTenantID(), acsandbox.PartnerID; got != want {
		t.Fatalf("PartnerTenantID = %q, want %q", got, want)
	}
	p, err := e.client.GetTenant(ctx(t), e.client.PartnerTenantID())
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Sandbox MSP" || p.Kind != acronis.KindPartner {
		t.Fatalf("partner = %q kind %q, want Sandbox MSP kind partner", p.Name, p.Kind)
	}
}

func TestNew_WrongSecretIsUnauthorizedWithoutSecret(t *testing.T) {
	sb, err := acsandbox.New(acsandbox.Options{ClientSecret: "right-secret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, sb)
	_, err = acronis.New(ctx(t), acronis.Config{BaseURL: srv, ClientID: sb.ClientID(), ClientSecret: "wrong-secret-xyz"})
	if !acronis.IsUnauthorized(err) {
		t.Fatalf("New with a wrong secret: err = %v, want unauthorized", err)
	}
	if s := err.Error(); containsAny(s, "wrong-secret-xyz", "right-secret") {
		t.Fatalf("error text %q contains a secret", s)
	}
}

func TestTenants_ListPagesWithCursorOnly(t *testing.T) {
	e := newEnv(t, acsandbox.Options{Dataset: "generated", Companies: 25, Seed: 7}, nil)
	var pages, total int
	seen := map[string]bool{}
	stamp, err := e.client.EachTenant(ctx(t), acronis.TenantQuery{ParentID: e.client.PartnerTenantID(), Limit: 10}, func(ts []acronis.Tenant) error {
		pages++
		for _, tn := range ts {
			if seen[tn.ID] {
				t.Errorf("tenant %s served twice", tn.ID)
			}
			seen[tn.ID] = true
			if tn.ParentID != acsandbox.PartnerID {
				t.Errorf("tenant %s parent %s, want %s", tn.ID, tn.ParentID, acsandbox.PartnerID)
			}
		}
		total += len(ts)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != 25 || pages != 3 {
		t.Fatalf("got %d tenants in %d pages, want 25 in 3", total, pages)
	}
	if !stamp.Equal(e.clock.Now()) {
		t.Fatalf("timestamp = %v, want the sandbox clock %v", stamp, e.clock.Now())
	}
}

func TestTenants_UpdatedSinceReturnsOnlyChanges(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	since := e.clock.Now()
	e.clock.Advance(time.Minute)
	lit, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateTenant(ctx(t), lit.ID, acronis.TenantUpdate{Version: lit.Version, InternalTag: ptr("autotask:107")}); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.ListTenants(ctx(t), acronis.TenantQuery{ParentID: acsandbox.PartnerID, UpdatedSince: since})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.Items[0].ID != acsandbox.LitwareID {
		t.Fatalf("changed tenants = %v, want only Litware", names(p.Items))
	}
	if got := *p.Items[0].InternalTag; got != "autotask:107" {
		t.Fatalf("internal_tag = %q, want autotask:107", got)
	}
}

func TestTenants_GetManyByUUIDs(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	ts, err := e.client.GetTenants(ctx(t), []string{acsandbox.LitwareID, acsandbox.ProsewareID})
	if err != nil {
		t.Fatal(err)
	}
	got := names(ts)
	slices.Sort(got)
	if want := []string{"Litware Inc", "Proseware Inc"}; !slices.Equal(got, want) {
		t.Fatalf("tenants = %v, want %v", got, want)
	}
	kids, err := e.client.TenantChildren(ctx(t), acsandbox.WoodgroveID)
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != 2 {
		t.Fatalf("Woodgrove children = %v, want 2", kids)
	}
}

func TestTenants_Lifecycle(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	c := e.client
	created, err := c.CreateTenant(ctx(t), acronis.TenantCreate{Name: "Contoso Ltd", Kind: acronis.KindCustomer, ParentID: c.PartnerTenantID(),
		InternalTag: ptr("autotask:101"), Contact: &acronis.Contact{Email: "anna.berg@contoso.example", Firstname: "Anna", Lastname: "Berg"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Version != 1 || created.PricingMode != acronis.PricingTrial || !created.Enabled || !created.AncestralAccess {
		t.Fatalf("created = version %d pricing %q enabled %v ancestral %v; want 1, trial, true, true",
			created.Version, created.PricingMode, created.Enabled, created.AncestralAccess)
	}
	if _, err := c.CreateTenant(ctx(t), acronis.TenantCreate{Name: "contoso ltd", Kind: acronis.KindCustomer, ParentID: c.PartnerTenantID()}); !acronis.IsConflict(err) || acronis.ErrorCode(err) != acronis.CodeTenantNameConflict {
		t.Fatalf("duplicate name: err = %v, want conflict 1004", err)
	}
	// Pricing, MFA, services.
	pr, err := c.SetPricingMode(ctx(t), created.ID, acronis.PricingProduction)
	if err != nil || pr.Mode != acronis.PricingProduction {
		t.Fatalf("SetPricingMode = %+v, %v; want production", pr, err)
	}
	mfa, err := c.SetMFA(ctx(t), created.ID, true)
	if err != nil || !mfa.Enabled() {
		t.Fatalf("SetMFA = %+v, %v; want enabled", mfa, err)
	}
	if got, err := c.GetMFAStatus(ctx(t), created.ID); err != nil || got.MFAStatus != "enabled" {
		t.Fatalf("GetMFAStatus = %+v, %v; want enabled", got, err)
	}
	app, err := c.CyberProtection(ctx(t))
	if err != nil || app.ID != acronis.CyberProtectionAppID {
		t.Fatalf("CyberProtection = %+v, %v; want id %s", app, err, acronis.CyberProtectionAppID)
	}
	if err := c.EnableApplication(ctx(t), app.ID, created.ID); err != nil {
		t.Fatal(err)
	}
	apps, err := c.TenantApplications(ctx(t), created.ID)
	if err != nil || !slices.Contains(apps, app.ID) {
		t.Fatalf("TenantApplications = %v, %v; want %s", apps, err, app.ID)
	}
	if err := c.DisableApplication(ctx(t), app.ID, created.ID); err != nil {
		t.Fatal(err)
	}
	// Stale version.
	_, err = c.UpdateTenant(ctx(t), created.ID, acronis.TenantUpdate{Version: created.Version - 1, Name: ptr("x")})
	if !acronis.IsVersionConflict(err) {
		t.Fatalf("stale version: err = %v, want version conflict", err)
	}
	// Delete needs disabling first.
	cur, _ := c.GetTenant(ctx(t), created.ID)
	err = c.DeleteTenant(ctx(t), created.ID, cur.Version)
	if !acronis.IsInvalid(err) || acronis.ErrorCode(err) != acronis.CodeDeleteEnabledTenant {
		t.Fatalf("delete enabled: err = %v, want invalid with code 1006", err)
	}
	dis, err := c.SetTenantEnabled(ctx(t), created.ID, cur.Version, false)
	if err != nil || dis.Enabled || dis.Version != cur.Version+1 {
		t.Fatalf("disable = enabled %v version %d, %v; want false, %d", dis.Enabled, dis.Version, err, cur.Version+1)
	}
	if err := c.DeleteTenant(ctx(t), created.ID, dis.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetTenant(ctx(t), created.ID); !acronis.IsNotFound(err) {
		t.Fatalf("get deleted: err = %v, want not found", err)
	}
	if n := e.sb.CountTenants("customer"); n != 5 {
		t.Fatalf("customers after delete = %d, want the 5 demo customers", n)
	}
}

func TestOfferingItems_CatalogueQuotaAndVersionConflictRetry(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	c := e.client
	cat, err := c.AvailableForChild(ctx(t), c.PartnerTenantID(), acronis.KindCustomer, acronis.AllEditions)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pw_base_workstations", "pw_base_servers", "pw_base_vms", "pw_base_web_hosting_servers", "pw_base_m365_seats",
		"pw_base_m365_mailboxes", "pw_base_hosted_exchange", "pw_base_gsuite_seats", "pw_base_mobiles", "pw_base_websites",
		"pw_pack_adv_security", "pw_pack_adv_management", "pw_base_storage", "local_storage"}
	have := map[string]acronis.OfferingItem{}
	storages := 0
	for _, it := range cat {
		have[it.Name] = it
		if it.Name == "pw_base_storage" {
			storages++
			if it.MeasurementUnit != acronis.UnitBytes || it.Type != acronis.ItemTypeInfra || it.InfraID == "" {
				t.Errorf("storage item = %+v, want bytes, infra, with infra_id", it)
			}
		}
	}
	for _, n := range want {
		if _, ok := have[n]; !ok {
			t.Errorf("catalogue lacks %s", n)
		}
	}
	if storages != 2 {
		t.Errorf("storage items = %d, want one per storage (2)", storages)
	}
	if u := have["pw_base_workstations"].MeasurementUnit; u != acronis.UnitQuantity {
		t.Errorf("workstations unit = %q, want quantity", u)
	}

	// Litware has workstations at a hard quota of 12, version 1. An admin
	// edits it in the console (version 2); the client still holds version 1.
	if err := e.sb.SetQuota(acsandbox.LitwareID, "pw_base_workstations", "", ptr(15.0), ptr(0.0)); err != nil {
		t.Fatal(err)
	}
	e.sb.RequestLog().Reset()
	ws := have["pw_base_workstations"]
	ws.Status = acronis.StatusOn
	ws.Quota = acronis.HardQuota(20)
	ws.Quota.Version = 1
	out, err := c.SetOfferingItems(ctx(t), acsandbox.LitwareID, []acronis.OfferingItem{ws})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Quota == nil || *out[0].Quota.Value != 20 || out[0].Quota.Version != 3 {
		t.Fatalf("answer = %+v, want workstations quota 20 version 3", out)
	}
	log := e.sb.RequestLog()
	if got := log.Count("PUT /api/2/tenants/{id}/offering_items"); got != 2 {
		t.Errorf("PUT offering_items sent %d times, want 2 (conflict, retry)", got)
	}
	if got := log.Count("GET /api/2/tenants/{id}/offering_items"); got != 1 {
		t.Errorf("GET offering_items sent %d times, want 1 re-read", got)
	}
	items, err := c.ListOfferingItems(ctx(t), acsandbox.LitwareID, acronis.AllEditions)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Name == "pw_base_workstations" && (it.Quota == nil || *it.Quota.Value != 20) {
			t.Fatalf("workstations after retry = %+v, want quota 20", it.Quota)
		}
	}
	// A stale version without the retry helper is the 426 conflict.
	ws.Quota.Version = 1
	if _, err := c.PutOfferingItems(ctx(t), acsandbox.LitwareID, []acronis.OfferingItem{ws}); !acronis.IsVersionConflict(err) {
		t.Fatalf("stale PUT: err = %v, want version conflict", err)
	}
}

func TestStoragesAndUsages(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	c := e.client
	st, err := c.TenantStorages(ctx(t), c.PartnerTenantID())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].ID != acsandbox.DefaultStorageID {
		t.Fatalf("storages = %+v, want 2 with the default first", st)
	}
	if err := e.sb.SetUsage(acsandbox.LitwareID, "pw_base_workstations", "", 9, 11); err != nil {
		t.Fatal(err)
	}
	batch, err := c.GetUsages(ctx(t), []string{acsandbox.LitwareID, acsandbox.ProsewareID})
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != 2 || batch[0].Tenant != acsandbox.LitwareID {
		t.Fatalf("batch = %d groups first %q, want 2 with Litware first", len(batch), batch[0].Tenant)
	}
	var ws, storage *acronis.Usage
	for i, u := range batch[0].Usages {
		switch u.Name {
		case "pw_base_workstations":
			ws = &batch[0].Usages[i]
		case "pw_base_storage":
			storage = &batch[0].Usages[i]
		}
	}
	if ws == nil || ws.Value != 9 || ws.AbsoluteValue != 11 || ws.OfferingItem == nil || ws.OfferingItem.Quota == nil {
		t.Fatalf("workstations usage = %+v, want value 9 absolute 11 with its item", ws)
	}
	if storage == nil || storage.MeasurementUnit != "bytes" || storage.InfraID != acsandbox.DefaultStorageID || storage.AbsoluteValue != 180.5*(1<<30) {
		t.Fatalf("storage usage = %+v, want 180.5 GiB on the default storage", storage)
	}
	one, err := c.GetTenantUsages(ctx(t), acsandbox.LitwareID, "storage")
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || one[0].UsageName != "storage" {
		t.Fatalf("usages filtered by storage = %+v, want one", one)
	}
}

func TestUsers_ProvisionAdmin(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	c := e.client
	free, err := c.CheckLogin(ctx(t), "grace.hall")
	if err != nil || !free {
		t.Fatalf("CheckLogin = %v, %v; want free", free, err)
	}
	u, err := c.CreateUser(ctx(t), acronis.UserCreate{TenantID: acsandbox.LitwareID, Login: "grace.hall",
		Contact: acronis.Contact{Email: "grace.hall@litware.example", Firstname: "Grace", Lastname: "Hall"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.Activated || u.TenantID != acsandbox.LitwareID {
		t.Fatalf("user = activated %v tenant %s; want false, %s", u.Activated, u.TenantID, acsandbox.LitwareID)
	}
	if free, err := c.CheckLogin(ctx(t), "Grace.Hall"); err != nil || free {
		t.Fatalf("CheckLogin after create = %v, %v; want taken", free, err)
	}
	pols, err := c.SetAccessPolicies(ctx(t), u.ID, []acronis.AccessPolicy{acronis.NewAccessPolicy(u.ID, acsandbox.LitwareID, acronis.RoleCompanyAdmin)})
	if err != nil || len(pols) != 1 || pols[0].RoleID != acronis.RoleCompanyAdmin {
		t.Fatalf("SetAccessPolicies = %+v, %v; want company_admin", pols, err)
	}
	if got, err := c.GetAccessPolicies(ctx(t), u.ID); err != nil || len(got) != 1 {
		t.Fatalf("GetAccessPolicies = %+v, %v; want 1", got, err)
	}
	if err := c.SendActivationEmail(ctx(t), u.ID); err != nil {
		t.Fatal(err)
	}
	users := e.sb.Users(acsandbox.LitwareID)
	if len(users) != 1 || users[0].ActivationEmails != 1 || !slices.Equal(users[0].Roles, []string{"company_admin"}) {
		t.Fatalf("sandbox users = %+v, want one company_admin with one activation email", users)
	}
	ids, err := c.TenantUsers(ctx(t), acsandbox.LitwareID)
	if err != nil || len(ids) != 1 {
		t.Fatalf("TenantUsers = %v, %v; want 1", ids, err)
	}
	got, err := c.GetUser(ctx(t), u.ID)
	if err != nil || got.Login != "grace.hall" {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	if err := c.DeleteUser(ctx(t), u.ID, got.Version); err != nil {
		t.Fatal(err)
	}
}

func TestCheckManageable_SelfServiceAndSupportAccess(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	for _, tc := range []struct {
		id   string
		want acronis.Manageability
	}{
		{acsandbox.LitwareID, acronis.Manageability{Manageable: true}},
		{acsandbox.ProsewareID, acronis.Manageability{Reason: "self-service"}},
		{acsandbox.FourthCoffeeID, acronis.Manageability{Reason: "support access disabled"}},
	} {
		got, err := e.client.CheckManageable(ctx(t), tc.id)
		if err != nil || got != tc.want {
			t.Errorf("CheckManageable(%s) = %+v, %v; want %+v", tc.id, got, err, tc.want)
		}
	}
	_, err := e.client.CreateUser(ctx(t), acronis.UserCreate{TenantID: acsandbox.ProsewareID, Login: "henry.ito", Contact: acronis.Contact{Email: "h@proseware.example"}})
	if !acronis.IsForbidden(err) {
		t.Fatalf("create user in self-service tenant: err = %v, want forbidden", err)
	}
}

func TestAlerts_PollListGetDismiss(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	c := e.client
	var active []acronis.Alert
	err := c.EachAlert(ctx(t), acronis.AlertQuery{Limit: 2}, func(as []acronis.Alert) error {
		active = append(active, as...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 4 {
		t.Fatalf("active alerts = %d, want Litware's 4", len(active))
	}
	for _, a := range active {
		if a.Tenant.UUID != acsandbox.LitwareID || a.Tenant.ID == "" || a.Dismissed() {
			t.Errorf("alert %s tenant %+v dismissed %v; want Litware, active", a.ID, a.Tenant, a.Dismissed())
		}
	}
	last := active[len(active)-1].UpdatedAt.Time
	e.clock.Advance(time.Second)
	id, err := e.sb.RaiseAlert(acsandbox.AlertSpec{TenantID: acsandbox.ProsewareID, Type: "BackupFailed", Details: map[string]any{"resourceName": "PRO-PC1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DismissAlert(ctx(t), acsandbox.AlertMalwareID); err != nil {
		t.Fatal(err)
	}
	p, err := c.ListAlerts(ctx(t), acronis.AlertQuery{UpdatedAfter: last, ShowDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range p.Items {
		got[a.ID] = a.Dismissed()
	}
	if len(got) != 2 || got[id] || !got[acsandbox.AlertMalwareID] {
		t.Fatalf("changes since last poll = %v, want new %s active and %s dismissed", got, id, acsandbox.AlertMalwareID)
	}
	dis, err := c.ListAlerts(ctx(t), acronis.AlertQuery{ShowDeletedOnly: true})
	if err != nil || len(dis.Items) != 2 {
		t.Fatalf("dismissed only = %d, %v; want 2", len(dis.Items), err)
	}
	a, err := c.GetAlert(ctx(t), id)
	if err != nil || a.Title() != "BackupFailed" || a.Severity != "error" {
		t.Fatalf("GetAlert = %+v, %v; want BackupFailed error", a, err)
	}
	if _, err := c.GetAlert(ctx(t), "00000000-0000-4000-8000-00000000dead"); !acronis.IsNotFound(err) {
		t.Fatalf("GetAlert unknown: err = %v, want not found", err)
	}
	types, err := c.ListAlertTypes(ctx(t))
	if err != nil || len(types) < 5 || types[0].ID == "" {
		t.Fatalf("ListAlertTypes = %+v, %v; want ≥5 with ids", types, err)
	}
}

func TestToken_RenewedBeforeExpiry(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	before := e.client.Stats().TokenRenewals
	e.clock.Advance(2*time.Hour - 10*time.Minute) // within the 15 min renewal margin
	if _, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID); err != nil {
		t.Fatal(err)
	}
	st := e.client.Stats()
	if st.TokenRenewals != before+1 || st.Unauthorized != 0 {
		t.Fatalf("renewals %d→%d, 401s %d; want one renewal before expiry and no 401", before, st.TokenRenewals, st.Unauthorized)
	}
}

func TestToken_RenewedOnceOn401(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	e.sb.ExpireTokens()
	if _, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID); err != nil {
		t.Fatal(err)
	}
	st := e.client.Stats()
	if st.Unauthorized != 1 || st.TokenRenewals != 2 {
		t.Fatalf("401s %d renewals %d, want 1 and 2", st.Unauthorized, st.TokenRenewals)
	}
}

func TestThrottled_RetryAfterHonoured(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	e.sb.Faults().Add(faultRule("/api/2/tenants/", 429, 1, 1))
	start := time.Now()
	if _, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("retried after %v, want ≥ the 1 s Retry-After", waited)
	}
	if st := e.client.Stats(); st.Throttled != 1 || st.Retries != 1 {
		t.Fatalf("throttled %d retries %d, want 1 and 1", st.Throttled, st.Retries)
	}
}

func TestThrottled_GivesUpWithTypedError(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, func(c *acronis.Config) { c.MaxRetries = 1; c.MaxRetryWait = 5 * time.Millisecond })
	e.sb.Faults().Add(faultRule("/api/2/tenants/", 429, 0, 7))
	_, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID)
	if !acronis.IsThrottled(err) || !acronis.IsRetryable(err) || acronis.RetryAfter(err) != 7*time.Second {
		t.Fatalf("err = %v (retry after %v), want throttled with Retry-After 7s", err, acronis.RetryAfter(err))
	}
	var ae *acronis.Error
	if !errors.As(err, &ae) || ae.Status != 429 {
		t.Fatalf("err = %#v, want *acronis.Error with status 429", err)
	}
}

func TestServerErrors_ReadsRetriedWritesNot(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	e.sb.Faults().Add(faultRule("/api/2/tenants/", 500, 2, 0))
	if _, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID); err != nil {
		t.Fatalf("GET after two 500s: %v, want success on the third try", err)
	}
	e.sb.Faults().Reset()
	e.sb.Faults().Add(faultRule("/api/2/tenants", 500, 1, 0))
	_, err := e.client.CreateTenant(ctx(t), acronis.TenantCreate{Name: "X", Kind: "customer", ParentID: acsandbox.PartnerID})
	if !acronis.IsServer(err) {
		t.Fatalf("POST after a 500: err = %v, want a server error without retry", err)
	}
	if n := e.sb.CountTenants("customer"); n != 5 {
		t.Fatalf("customers = %d, want 5 (nothing created)", n)
	}
}

func TestSandboxRateLimit_ClientBacksOff(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	e.sb.SetRateLimit(1, 1)
	for i := 0; i < 2; i++ {
		if _, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if st := e.client.Stats(); st.Throttled < 1 {
		t.Fatalf("throttled = %d, want the sandbox to have answered 429 at least once", st.Throttled)
	}
}

func names(ts []acronis.Tenant) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestTenants_DisableAndRemoveAreRepeatable(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	c := e.client
	if _, err := c.EnableTenant(ctx(t), acsandbox.LitwareID); err != nil {
		t.Fatal(err)
	}
	d, err := c.DisableTenant(ctx(t), acsandbox.LitwareID)
	if err != nil || d.Enabled {
		t.Fatalf("DisableTenant = enabled %v, %v; want disabled", d.Enabled, err)
	}
	again, err := c.DisableTenant(ctx(t), acsandbox.LitwareID)
	if err != nil || again.Version != d.Version {
		t.Fatalf("second DisableTenant = version %d, %v; want unchanged %d", again.Version, err, d.Version)
	}
	if err := c.RemoveTenant(ctx(t), acsandbox.WoodgroveID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveTenant(ctx(t), acsandbox.WoodgroveID); err != nil {
		t.Fatalf("second RemoveTenant: %v, want nil (already gone)", err)
	}
	if _, ok := e.sb.TenantByName("Woodgrove Retail Banking"); ok {
		t.Fatal("Woodgrove's customer survived its parent's deletion")
	}
}

func TestToken_EndpointThrottledIsWaitedOut(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, func(c *acronis.Config) { c.DefaultRetryAfter = 10 * time.Millisecond })
	e.sb.ExpireTokens()
	e.sb.Faults().Add(faultRule("/api/2/idp/token", 503, 1, 0))
	if _, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID); err != nil {
		t.Fatalf("GetTenant with a token endpoint failing once: %v, want success", err)
	}
	if got := e.sb.RequestLog().Count("POST /api/2/idp/token"); got != 3 {
		t.Fatalf("token requests = %d, want 3 (initial, 503, renewal)", got)
	}
}

func TestEvents_TenantChangesPolled(t *testing.T) {
	e := newEnv(t, acsandbox.Options{}, nil)
	c := e.client
	empty, err := c.PollEvents(ctx(t), "sub-1", "consumer-1", 0, 30*time.Second)
	if err != nil || len(empty.Events) != 0 || empty.Offset != 0 {
		t.Fatalf("poll without changes = %+v, %v; want no events at offset 0 (202)", empty, err)
	}
	if _, err := c.DisableTenant(ctx(t), acsandbox.LitwareID); err != nil {
		t.Fatal(err)
	}
	b, err := c.PollEvents(ctx(t), "sub-1", "consumer-1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 || b.Events[0].Type != "cti.a.p.em.event.v1.0~a.p.tenant.disabled.v1.0" || b.Events[0].TenantID != acsandbox.LitwareID || b.Offset != b.Events[0].Sequence {
		t.Fatalf("events = %+v, want one tenant.disabled for Litware with the offset at its sequence", b)
	}
	if next, err := c.PollEvents(ctx(t), "sub-1", "consumer-1", b.Offset, 0); err != nil || len(next.Events) != 0 || next.Offset != b.Offset {
		t.Fatalf("poll after offset = %+v, %v; want nothing new at %d", next, err, b.Offset)
	}
}

func TestToken_ShortLivedTokenReusedUntilHalfLife(t *testing.T) {
	e := newEnv(t, acsandbox.Options{TokenTTL: 10 * time.Minute}, nil)
	for i := 0; i < 3; i++ {
		if _, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.client.Stats().TokenRenewals; got != 1 {
		t.Fatalf("renewals = %d with a 10 min token and a 15 min margin, want 1 (no renewal per call)", got)
	}
	e.clock.Advance(6 * time.Minute)
	if _, err := e.client.GetTenant(ctx(t), acsandbox.LitwareID); err != nil {
		t.Fatal(err)
	}
	if got := e.client.Stats().TokenRenewals; got != 2 {
		t.Fatalf("renewals after 6 of 10 minutes = %d, want 2", got)
	}
}

package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// browser is a minimal cookie-keeping client of the console, in process.
type browser struct {
	h       *harness
	cookies map[string]*http.Cookie
	header  map[string]string
}

func (h *harness) browser() *browser {
	return &browser{h: h, cookies: map[string]*http.Cookie{}, header: map[string]string{}}
}

type page struct {
	code   int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.h.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	for k, v := range b.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	b.h.srv.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return page{rec.Code, rec.Header(), rec.Body.String()}
}

var (
	nonceRe = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
	csrfRe  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	verRe   = regexp.MustCompile(`name="version" value="(\d+)"`)
)

func find(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s not found in\n%s", re, body)
	}
	return m[1]
}

// signIn signs the browser in with token and returns the page it lands on.
func (b *browser) signIn(token string) page {
	b.h.t.Helper()
	form := b.do("GET", "/signin", nil)
	nonce := find(b.h.t, nonceRe, form.body)
	p := b.do("POST", "/signin", url.Values{"nonce": {nonce}, "token": {token}, "next": {"/settings"}})
	return p
}

func TestConsole_SignInSetsAStrictHttpOnlySessionAndSignOutEndsIt(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	if p := b.do("GET", "/settings", nil); p.code != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin?next=") {
		t.Fatalf("GET /settings signed out = %d %q, want 303 to /signin", p.code, p.header.Get("Location"))
	}
	if p := b.signIn("not-a-token"); p.code != http.StatusUnauthorized || b.cookies[sessionCookie] != nil {
		t.Fatalf("sign in with a wrong token = %d (cookie %v), want 401 and no session", p.code, b.cookies[sessionCookie])
	}
	b.header["X-Forwarded-Proto"] = "https"
	p := b.signIn(adminToken)
	if p.code != http.StatusSeeOther || p.header.Get("Location") != "/settings" {
		t.Fatalf("sign in = %d %q, want 303 to /settings", p.code, p.header.Get("Location"))
	}
	ck := b.cookies[sessionCookie]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || !ck.Secure {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, Secure behind https", ck)
	}
	if strings.Contains(ck.Value, adminToken) {
		t.Fatal("the session cookie carries the API token")
	}
	page := b.do("GET", "/settings", nil)
	if page.code != 200 || !strings.Contains(page.body, "ops (admin)") || !strings.Contains(page.body, "Save settings") {
		t.Fatalf("GET /settings = %d, want the form for ops (admin):\n%s", page.code, page.body)
	}
	old := *ck
	csrf := find(t, csrfRe, page.body)
	if p := b.do("POST", "/signout", url.Values{"csrf": {csrf}}); p.code != http.StatusSeeOther {
		t.Fatalf("sign out = %d", p.code)
	}
	b.cookies[sessionCookie] = &old // a copied cookie must not outlive sign-out
	if p := b.do("GET", "/settings", nil); p.code != http.StatusSeeOther {
		t.Fatalf("GET /settings with the signed-out cookie = %d, want 303 to sign-in", p.code)
	}
}

func TestConsole_ReadOnlySeesNoWriteControlsAndGets403(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn(readToken)
	page := b.do("GET", "/settings", nil)
	if page.code != 200 || strings.Contains(page.body, "Save settings") || !strings.Contains(page.body, "dashboard (read-only)") {
		t.Fatalf("read-only settings page = %d, want no save button:\n%s", page.code, page.body)
	}
	csrf := find(t, csrfRe, page.body)
	form := url.Values{"csrf": {csrf}, "version": {"0"}, "syncIntervalSeconds": {"60"}}
	if p := b.do("POST", "/settings", form); p.code != http.StatusForbidden {
		t.Fatalf("read-only POST /settings = %d, want 403", p.code)
	}
	got := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", adminToken, nil))
	if got.Version != 0 {
		t.Fatalf("settings version after a refused post = %d, want 0 (nothing saved)", got.Version)
	}
}

func TestConsole_FormsNeedTheSessionsCSRFToken(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn(adminToken)
	form := url.Values{"version": {"0"}, "syncIntervalSeconds": {"60"}}
	if p := b.do("POST", "/settings", form); p.code != http.StatusForbidden {
		t.Fatalf("POST without csrf = %d, want 403", p.code)
	}
	form.Set("csrf", "forged")
	if p := b.do("POST", "/settings", form); p.code != http.StatusForbidden {
		t.Fatalf("POST with a forged csrf = %d, want 403", p.code)
	}
}

// settingsForm is the settings page's form as a browser would submit it.
func settingsForm(t *testing.T, body string) url.Values {
	t.Helper()
	form := url.Values{"csrf": {find(t, csrfRe, body)}, "version": {find(t, verRe, body)}}
	for _, m := range regexp.MustCompile(`<input name="([^"]+)" id="f-[^"]+" value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	for _, m := range regexp.MustCompile(`<select name="([^"]+)"[^>]*>\s*(?:<option[^>]*>[^<]*</option>)*?<option value="([^"]*)" selected`).FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	for _, m := range regexp.MustCompile(`<input type="checkbox" name="([^"]+)"[^>]*value="([^"]+)" checked`).FindAllStringSubmatch(body, -1) {
		form.Add(m[1], m[2])
	}
	return form
}

func TestConsole_SettingsShowsFieldErrorsThenSavesAsTheTokensActor(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn(adminToken)
	page := b.do("GET", "/settings", nil)
	form := settingsForm(t, page.body)
	form.Set("syncIntervalSeconds", "1")
	bad := b.do("POST", "/settings", form)
	if bad.code != http.StatusBadRequest {
		t.Fatalf("POST a 1 s interval = %d, want 400:\n%s", bad.code, bad.body)
	}
	// The API's message sits next to the field, and the bad value stays in it.
	want := regexp.MustCompile(`id="f-syncIntervalSeconds" value="1"[^>]*aria-invalid="true"[\s\S]{0,300}class="field-error"[^>]*>[^<]*5`)
	if !want.MatchString(bad.body) {
		t.Fatalf("no field error next to syncIntervalSeconds:\n%s", bad.body)
	}
	if v := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", adminToken, nil)).Version; v != 0 {
		t.Fatalf("version after an invalid post = %d, want 0", v)
	}
	form.Set("syncIntervalSeconds", "120")
	if p := b.do("POST", "/settings", form); p.code != http.StatusSeeOther {
		t.Fatalf("POST a valid form = %d, want 303:\n%s", p.code, p.body)
	}
	got := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", adminToken, nil))
	if got.Version != 1 || got.Settings.SyncIntervalSeconds != 120 || got.UpdatedBy != "ops" {
		t.Fatalf("saved = version %d, interval %d, by %q; want 1, 120, ops", got.Version, got.Settings.SyncIntervalSeconds, got.UpdatedBy)
	}
	if p := b.do("GET", "/settings", nil); !strings.Contains(p.body, "Settings saved.") {
		t.Fatal("the page after saving does not say the settings were saved")
	}
}

func TestConsole_SettingsVersionConflictIsExplainedAndNothingSaved(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.signIn(adminToken)
	form := settingsForm(t, b.do("GET", "/settings", nil).body)
	// Someone else saves first, through the API.
	if _, err := h.store.SaveSettings(context.Background(), json.RawMessage(`{"syncIntervalSeconds": 300}`), 0, store.Actor{Name: "dashboard-script"}); err != nil {
		t.Fatal(err)
	}
	form.Set("syncIntervalSeconds", "60")
	p := b.do("POST", "/settings", form)
	if p.code != http.StatusPreconditionFailed || !strings.Contains(p.body, "dashboard-script saved version 1") {
		t.Fatalf("stale POST = %d, want 412 naming who saved version 1:\n%s", p.code, p.body)
	}
	got := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", adminToken, nil))
	if got.Version != 1 || got.Settings.SyncIntervalSeconds != 300 {
		t.Fatalf("after the stale post: version %d interval %d, want 1 and 300 (theirs)", got.Version, got.Settings.SyncIntervalSeconds)
	}
}

func TestConsole_APIRoutesAndStaticFilesStillAnswer(t *testing.T) {
	h := newHarness(t)
	if r := h.do("GET", "/healthz", "", nil); r.code != 200 {
		t.Fatalf("/healthz = %d", r.code)
	}
	b := h.browser()
	p := b.do("GET", "/static/htmx.min.js", nil)
	if p.code != 200 || !strings.Contains(p.body, "htmx") {
		t.Fatalf("/static/htmx.min.js = %d", p.code)
	}
	if p := b.do("GET", "/static/console.css", nil); p.code != 200 {
		t.Fatalf("/static/console.css = %d", p.code)
	}
}

func TestConsole_EveryPageRendersForBothRoles(t *testing.T) {
	h := newAPIHarness(t, benchCustomers{})
	h.srv.deps.Audit, h.srv.deps.Stats, h.srv.deps.Usage, h.srv.deps.Alerts, h.srv.deps.Shadow = h.store, h.store, h.store, h.store, h.store
	for _, tok := range []string{adminToken, readToken} {
		b := h.browser()
		b.signIn(tok)
		for _, path := range []string{"/", "/overview/health", "/settings", "/billing", "/customers", "/customers?mapped=unmapped",
			"/customers/101", "/customers/101/usage", "/customers/101/map", "/customers/101/suggestions", "/tickets", "/audit", "/shadow"} {
			p := b.do("GET", path, nil)
			if p.code != 200 {
				t.Fatalf("GET %s = %d\n%s\nlogs:\n%s", path, p.code, p.body, h.logs.String())
			}
			hasWrite := strings.Contains(p.body, `type="submit" id="`) || strings.Contains(p.body, "Save ")
			if tok == readToken && hasWrite {
				t.Errorf("read-only %s shows a write control", path)
			}
		}
	}
}

func TestConsole_IdsAreChosenFromTheVendorsLists(t *testing.T) {
	h := newAPIHarness(t, nil)
	h.srv.deps.Alerts = h.store
	b := h.browser()
	b.signIn(adminToken)
	p := b.do("GET", "/settings", nil)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<select name="provisioning.defaultStorageId"[^>]*>[\s\S]*?<option value="` + regexp.QuoteMeta(acsandbox.DefaultStorageID) + `"`),
		regexp.MustCompile(`<select name="newServices.allocationCodeId"[^>]*>[\s\S]*?<option value="29682802">Acronis Cloud Services \(29682802\)</option>`),
		regexp.MustCompile(`<select name="tickets.sourceId"[^>]*>[\s\S]*?<option value="8">Monitoring Alert \(8\)</option>`),
	} {
		if p.code != 200 || !want.MatchString(p.body) {
			t.Fatalf("settings page = %d, want a select matching %s:\n%s", p.code, want, p.body)
		}
	}
	// The alert-mapping grid offers Autotask's picklists, sub-issue types under their issue type.
	p = b.do("GET", "/tickets", nil)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<select id="priority-0" name="priority.0">[\s\S]*?<option value="4">Critical \(4\)</option>`),
		regexp.MustCompile(`<select id="subIssueType-0" name="subIssueType.0">[\s\S]*?<option value="101">Backup › Backup failed \(101\)</option>`),
		regexp.MustCompile(`<select name="tickets.autoClose.statusId"[^>]*>[\s\S]*?<option value="5">Complete \(5\)</option>`),
	} {
		if p.code != 200 || !want.MatchString(p.body) {
			t.Fatalf("tickets page = %d, want a select matching %s:\n%s", p.code, want, p.body)
		}
	}
}

func TestConsole_AutotaskDownShowsTextInputsAndUnverifiedIds(t *testing.T) {
	h := newAPIHarness(t, nil)
	h.srv.deps.Alerts = h.store
	h.srv.deps.PicklistTimeout = 300 * time.Millisecond
	b := h.browser()
	b.signIn(adminToken)
	h.at.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/", ErrorRate: 1, Status: http.StatusInternalServerError})
	if r := h.do("PATCH", "/api/v1/settings", adminToken, `{"tickets":{"sourceId":8}}`, "Content-Type", mergePatchType, "If-Match", `"0"`); r.code != http.StatusOK {
		t.Fatalf("PATCH while Autotask is down = %d: %s", r.code, r.body)
	}
	p := b.do("GET", "/tickets", nil)
	if !regexp.MustCompile(`<input name="tickets.sourceId" id="f-tickets.sourceId" value="8"[\s\S]{0,400}data-testid="unverified">unverified: `).MatchString(p.body) ||
		!strings.Contains(p.body, `<input id="priority-0" name="priority.0"`) {
		t.Fatalf("tickets page with Autotask down = %d, want text inputs and the source marked unverified:\n%s", p.code, p.body)
	}
}

func TestConsole_TicketSettingsFormChangesOnlyItsFields(t *testing.T) {
	h := newHarness(t)
	if _, err := h.store.SaveSettings(context.Background(), json.RawMessage(`{"syncIntervalSeconds": 120}`), 0, store.Actor{Name: "seed"}); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	b.signIn(adminToken)
	csrf := find(t, csrfRe, b.do("GET", "/settings", nil).body)
	form := url.Values{"csrf": {csrf}, "version": {"1"}, "tickets.reopening.enabled": {"on"}, "tickets.reopening.withinDays": {"3"}}
	if p := b.do("POST", "/tickets/settings", form); p.code != http.StatusSeeOther {
		t.Fatalf("POST /tickets/settings = %d:\n%s", p.code, p.body)
	}
	got := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", adminToken, nil))
	if r := got.Settings.Tickets.Reopening; !r.Enabled || r.WithinDays != 3 || got.Settings.SyncIntervalSeconds != 120 || got.UpdatedBy != "ops" {
		t.Fatalf("after the ticket form: reopening %+v, interval %d, by %q; want on/3, 120 kept, ops", r, got.Settings.SyncIntervalSeconds, got.UpdatedBy)
	}
}

// planCustomers refuses a mapping to an existing tenant whose plan warns
// until the plan's id comes back, as the customer workflow does.
type planCustomers struct {
	benchCustomers
	plan   plan.Customer
	mapped chan workflows.MapRequest
}

func (c planCustomers) Update(_ context.Context, co workflows.Company, name string, arg any) (workflows.ActionResult, error) {
	req, ok := arg.(workflows.MapRequest)
	if name != workflows.UpdateMap || !ok {
		return workflows.ActionResult{}, nil
	}
	if req.PlanID != c.plan.ID {
		return workflows.ActionResult{}, temporal.NewNonRetryableApplicationError("mapping needs confirmation: "+strings.Join(c.plan.Warnings, "; "),
			workflows.ErrTypePlanRequired, nil, c.plan)
	}
	c.mapped <- req
	return workflows.ActionResult{Message: fmt.Sprintf("company %d is mapped to tenant %s", co.ID, req.TenantID), Plan: &c.plan}, nil
}

func TestConsole_MappingToATenantInUseShowsThePlanAndMapsOnlyOnceConfirmed(t *testing.T) {
	const tenant = "0fcd4a69-8a40-4de8-b711-d9c83dc000f7"
	cw := planCustomers{mapped: make(chan workflows.MapRequest, 1), plan: plan.Customer{
		ID: "plan-0123456789abcdef01234567", CompanyID: 101, TenantID: tenant,
		Items:    []plan.ItemWrite{{Item: "pw_base_workstations", CurrentQuota: "unlimited", CurrentUsage: 42949672960, NewQuota: "5", Write: true}},
		Steps:    []plan.Step{{Action: "disable-tenant", At: time.Date(2031, 1, 2, 3, 4, 0, 0, time.UTC)}},
		Warnings: []string{plan.WarnBelowUsage + ": pw_base_workstations would be 5 while 42949672960 is in use"},
	}}
	h := newAPIHarness(t, cw)
	b := h.browser()
	b.signIn(adminToken)
	csrf := find(t, csrfRe, b.do("GET", "/customers/101/map", nil).body)

	p := b.do("POST", "/customers/101/map", url.Values{"csrf": {csrf}, "tenant": {tenant}})
	for _, want := range []string{`data-testid="plan-warnings"`, "would be 5 while 42949672960 is in use", "pw_base_workstations",
		"unlimited", ">42949672960<", "<strong>5</strong>", "disable-tenant", "2031-01-02 03:04 UTC", `id="map-confirm"`,
		`name="planId" value="` + cw.plan.ID + `"`, `name="tenant" value="` + tenant + `"`, `name="csrf" value="` + csrf + `"`} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("map without a plan = %d, want the plan page showing %q:\n%s", p.code, want, p.body)
		}
	}
	if p.code != http.StatusConflict || len(cw.mapped) != 0 {
		t.Fatalf("map without a plan = %d with %d mappings, want 409 and nothing mapped", p.code, len(cw.mapped))
	}

	p = b.do("POST", "/customers/101/map", url.Values{"csrf": {csrf}, "tenant": {tenant}, "planId": {cw.plan.ID}})
	if p.code != http.StatusSeeOther || p.header.Get("Location") != "/customers/101" {
		t.Fatalf("confirm the plan = %d %q, want 303 to the customer:\n%s", p.code, p.header.Get("Location"), p.body)
	}
	select {
	case req := <-cw.mapped:
		if req.TenantID != tenant || req.PlanID != cw.plan.ID || req.Actor != "ops" {
			t.Fatalf("mapped with %+v, want tenant %s, plan %s, actor ops", req, tenant, cw.plan.ID)
		}
	default:
		t.Fatal("confirming the plan mapped nothing")
	}

	// A read-only user gets the API's 403, never the plan or its confirm button.
	r := h.browser()
	r.signIn(readToken)
	rcsrf := find(t, csrfRe, r.do("GET", "/customers/101/map", nil).body)
	p = r.do("POST", "/customers/101/map", url.Values{"csrf": {rcsrf}, "tenant": {tenant}})
	if p.code != http.StatusForbidden || strings.Contains(p.body, "map-confirm") || strings.Contains(p.body, cw.plan.ID) {
		t.Fatalf("read-only map = %d, want 403 without the plan:\n%s", p.code, p.body)
	}
}

// TestConsole_BillingSetsAnOverageServiceAndShowsItsError: the Billing page
// saves a prepaid item's overage service through the API, shows it selected,
// and puts the API's refusal of the item's own service next to the field.
func TestConsole_BillingSetsAnOverageServiceAndShowsItsError(t *testing.T) {
	cw, _ := syncRecorder(t)
	h := newAPIHarness(t, cw)
	b := h.browser()
	b.signIn(adminToken)
	page := b.do("GET", "/billing", nil)
	i := find(t, regexp.MustCompile(`data-item="pw_base_workstations">\s*<th scope="row"><span id="item-(\d+)"`), page.body)
	csrf := find(t, csrfRe, page.body)
	form := url.Values{"csrf": {csrf}, "service." + i: {fmt.Sprint(atsandbox.ServiceWorkstations)}, "overage." + i: {fmt.Sprint(atsandbox.ServiceManagedFirewall)}}
	if p := b.do("POST", "/billing", form); p.code != http.StatusSeeOther {
		t.Fatalf("POST /billing = %d:\n%s", p.code, p.body)
	}
	got := decode[ServiceMappings](t, h.do("GET", "/api/v1/service-mappings", readToken, nil))
	if len(got.Mappings) != 1 || got.Mappings[0].Overage == nil || *got.Mappings[0].Overage.ServiceID != atsandbox.ServiceManagedFirewall {
		t.Fatalf("saved = %+v; want workstations with overage service %d", got.Mappings, atsandbox.ServiceManagedFirewall)
	}
	selected := fmt.Sprintf(`<option value="%d" selected>`, atsandbox.ServiceManagedFirewall)
	if body := b.do("GET", "/billing", nil).body; !strings.Contains(body, `id="overage-`+i+`"`) || !strings.Contains(body, selected) {
		t.Fatalf("the Billing page does not show the overage service selected (%s)", selected)
	}
	form.Set("overage."+i, fmt.Sprint(atsandbox.ServiceWorkstations))
	p := b.do("POST", "/billing", form)
	if p.code != http.StatusBadRequest || !strings.Contains(p.body, "must differ from the item&#39;s own service") {
		t.Fatalf("own service as overage: %d; want 400 with the field error\n%s", p.code, p.body)
	}
}

func TestConsole_ShadowReportLinkedOnlyInShadowMode(t *testing.T) {
	h := newAPIHarness(t, benchCustomers{})
	h.srv.deps.Shadow = h.store
	ctx := context.Background()
	require.NoError(t, h.store.RecordShadowWrite(ctx, shadow.Write{CompanyID: 101, Vendor: shadow.VendorAcronis, Operation: "POST /api/2/tenants", Target: "tenants"}))
	b := h.browser()
	b.signIn(readToken)
	if p := b.do("GET", "/audit", nil); strings.Contains(p.body, `href="/shadow"`) {
		t.Error("live mode links the Shadow report")
	}
	_, err := h.store.SaveSettings(ctx, json.RawMessage(`{"mode":"shadow"}`), 0, store.Actor{Name: "test"})
	require.NoError(t, err)
	if p := b.do("GET", "/audit", nil); !strings.Contains(p.body, `href="/shadow"`) {
		t.Error("shadow mode does not link the Shadow report")
	}
	p := b.do("GET", "/shadow", nil)
	if p.code != 200 || !strings.Contains(p.body, "POST /api/2/tenants") || !strings.Contains(p.body, "<strong>shadow</strong>") {
		t.Errorf("GET /shadow = %d, want the recorded write in shadow mode:\n%s", p.code, p.body)
	}
}

func TestConsole_BulkAcceptShowsTheCombinedPlanThenMapsTheTickedSuggestions(t *testing.T) {
	cw := &mappingWorkflows{refuse: map[string]string{}}
	h := newAPIHarness(t, cw)
	cw.st = h.store
	fillReadModel(t, h)
	h.srv.deps.BulkMappings = h.store
	mapCompany(t, h, 101, acsandbox.WoodgroveRetailID)
	b := h.browser()
	b.signIn(adminToken)

	// At 90 % the page ticks Litware's and Woodgrove Bank's suggestions.
	list := b.do("GET", "/customers?confidence=90", nil)
	ticked := regexp.MustCompile(`name="pair" value="([^"]+)"[^>]*checked`).FindAllStringSubmatch(list.body, -1)
	var pairs []string
	for _, m := range ticked {
		pairs = append(pairs, m[1])
	}
	want := []string{"107:" + acsandbox.LitwareID, "109:" + acsandbox.WoodgroveID}
	if fmt.Sprint(pairs) != fmt.Sprint(want) {
		t.Fatalf("ticked suggestions = %v, want %v:\n%s", pairs, want, list.body)
	}
	csrf := find(t, csrfRe, list.body)

	// Nothing ticked: the API's 400 names the field, above the list; no plan is stored.
	p := b.do("POST", "/customers/bulk", url.Values{"csrf": {csrf}})
	if p.code != http.StatusBadRequest || !strings.Contains(p.body, `data-testid="problem"`) || !strings.Contains(p.body, "<code>pairs</code>") {
		t.Fatalf("bulk with nothing ticked = %d, want 400 naming pairs:\n%s", p.code, p.body)
	}

	// The two ticked suggestions, plus a company already mapped so: one plan with a warning.
	form := url.Values{"csrf": {csrf}, "pair": append(pairs, "101:"+acsandbox.WoodgroveRetailID)}
	p = b.do("POST", "/customers/bulk", form)
	loc := p.header.Get("Location")
	if p.code != http.StatusSeeOther || !strings.HasPrefix(loc, "/customers/bulk/mp_") {
		t.Fatalf("bulk preview = %d %q, want 303 to the plan:\n%s", p.code, loc, p.body)
	}
	p = b.do("GET", loc, nil)
	for _, w := range []string{"Review the plan before mapping", `data-testid="plan-warnings"`, "already mapped", "Litware Inc", acsandbox.LitwareID,
		"Woodgrove Bank", acsandbox.WoodgroveID, `id="bulk-apply"`} {
		if !strings.Contains(p.body, w) {
			t.Fatalf("plan page = %d, want it to show %q:\n%s", p.code, w, p.body)
		}
	}
	if len(cw.maps) != 0 {
		t.Fatalf("the preview mapped %v", cw.maps)
	}

	// A read-only user sees the plan but cannot apply it, and gets no tick boxes.
	r := h.browser()
	r.signIn(readToken)
	if rp := r.do("GET", loc, nil); rp.code != 200 || strings.Contains(rp.body, "bulk-apply") {
		t.Fatalf("read-only plan page = %d, want it without the apply button", rp.code)
	}
	if rp := r.do("GET", "/customers", nil); strings.Contains(rp.body, `name="pair"`) || strings.Contains(rp.body, "bulk-preview") {
		t.Fatal("a read-only user gets the bulk accept controls")
	}

	p = b.do("POST", loc+"/apply", url.Values{"csrf": {csrf}})
	if p.code != http.StatusSeeOther || p.header.Get("Location") != loc {
		t.Fatalf("apply = %d %q, want 303 back to the plan:\n%s", p.code, p.header.Get("Location"), p.body)
	}
	p = b.do("GET", loc, nil)
	if !strings.Contains(p.body, "3 of 3 companies mapped") || strings.Contains(p.body, `id="bulk-apply"`) || strings.Count(p.body, `data-testid="bulk-result">ok`) != 3 {
		t.Fatalf("applied plan page, want 3 results ok and no apply button:\n%s", p.body)
	}
	for _, pair := range want {
		company, tenant, _ := strings.Cut(pair, ":")
		id, _ := strconv.ParseInt(company, 10, 64)
		ms, err := h.store.ListCustomerMappings(context.Background(), store.CustomerMappingFilter{CompanyIDs: []int64{id}})
		if err != nil || len(ms) != 1 || ms[0].TenantID != tenant || ms[0].MappedBy != "ops" {
			t.Errorf("mapping of %d = %+v (%v), want tenant %s by ops", id, ms, err, tenant)
		}
	}
	if len(cw.maps) != 2 {
		t.Errorf("workflow updates = %v, want the two new mappings only", cw.maps)
	}
}

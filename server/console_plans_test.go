package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/planner"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

var planLocRe = regexp.MustCompile(`^/plans/(plan-[0-9a-f]+)\?back=`)

// wantPlanRedirect checks p is the redirect to a plan page returning to back, and returns the plan's id.
func wantPlanRedirect(t *testing.T, p page, back string) string {
	t.Helper()
	loc := p.header.Get("Location")
	m := planLocRe.FindStringSubmatch(loc)
	if p.code != http.StatusSeeOther || m == nil || !strings.HasSuffix(loc, "back="+url.QueryEscape(back)) {
		t.Fatalf("answer = %d %q, want 303 to a plan page returning to %s:\n%s", p.code, loc, back, p.body)
	}
	return m[1]
}

func wantBody(t *testing.T, what string, p page, code int, wants ...string) {
	t.Helper()
	if p.code != code {
		t.Fatalf("%s = %d, want %d:\n%s", what, p.code, code, p.body)
	}
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Fatalf("%s does not show %q:\n%s", what, w, p.body)
		}
	}
}

// TestConsole_SettingsAndBillingPreviewThenApply drives the settings and
// billing forms against real customer workflows: Save shows the plan when it
// writes or warns, nothing is saved until an admin applies it, a read-only
// user gets no Apply and a 403, and a plan whose inputs moved is refused
// with what changed.
func TestConsole_SettingsAndBillingPreviewThenApply(t *testing.T) {
	h := withBilling(t)
	admin := h.browser()
	admin.signIn(adminToken)
	// No customer is known yet: the plan writes and warns nothing, so Save saves at once.
	form := settingsForm(t, admin.do("GET", "/settings", nil).body)
	form.Set("syncIntervalSeconds", "60")
	form.Set("intent", intentSave)
	if p := admin.do("POST", "/settings", form); p.code != http.StatusSeeOther || p.header.Get("Location") != "/settings" {
		t.Fatalf("save with nothing to plan = %d %q, want 303 to /settings:\n%s", p.code, p.header.Get("Location"), p.body)
	}
	wantBody(t, "settings saved at once", admin.do("GET", "/settings", nil), 200, "wrote nothing and warned of nothing for any of the 0 customers")
	fillReadModel(t, h)
	// Wide World (105) has no active services: once mapped its tenant is deprovisioned.
	wantMessage(t, mapConfirmed(t, h, 107, acsandbox.LitwareID), 200, "mapped")
	wantMessage(t, mapConfirmed(t, h, 105, acsandbox.WoodgroveRetailID), 200, "mapped")
	eventually(t, h, "105", "has a pending disable", func(s CustomerStatus) bool { return len(s.Pending) > 0 })
	eventually(t, h, "107", "is active", func(s CustomerStatus) bool { return s.State == "active" })
	savedVersion := func() SettingsDocument {
		return decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", readToken, nil))
	}

	reader := h.browser()
	reader.signIn(readToken)

	t.Run("InvalidValueIsShownNextToItsField", func(t *testing.T) {
		page := admin.do("GET", "/settings", nil)
		wantBody(t, "settings page", page, 200, `id="preview-settings"`, `data-testid="save-rule"`)
		form := settingsForm(t, page.body)
		form.Set("syncIntervalSeconds", "1")
		form.Set("intent", intentPreview)
		bad := admin.do("POST", "/settings", form)
		want := regexp.MustCompile(`id="f-syncIntervalSeconds" value="1"[^>]*aria-invalid="true"[\s\S]{0,300}class="field-error"[^>]*>[^<]*5`)
		if bad.code != http.StatusBadRequest || !want.MatchString(bad.body) {
			t.Fatalf("preview of a 1 s interval = %d, want 400 with the error next to the field:\n%s", bad.code, bad.body)
		}
	})

	var planID string
	t.Run("SaveShowsThePlanAndSavesNothing", func(t *testing.T) {
		before := savedVersion()
		form := settingsForm(t, admin.do("GET", "/settings", nil).body)
		form.Set("deprovisioning.disable.afterDays", "10")
		form.Set("intent", intentSave)
		planID = wantPlanRedirect(t, admin.do("POST", "/settings", form), "/settings")
		p := admin.do("GET", "/plans/"+planID+"?back=%2Fsettings", nil)
		wantBody(t, "plan page", p, 200, `data-testid="plan-summary"`, `data-testid="plan-has-warnings"`,
			plan.WarnDeprovision, "disable-tenant", "Wide World", `<code>deprovisioning.disable.afterDays</code>`,
			"<td>30</td><td><strong>10</strong></td>", `id="plan-apply"`, `name="back" value="/settings"`)
		if after := savedVersion(); after.Version != before.Version || after.Settings.Deprovisioning.Disable.AfterDays != 30 {
			t.Fatalf("previewing saved the settings: version %d → %d, afterDays %d", before.Version, after.Version, after.Settings.Deprovisioning.Disable.AfterDays)
		}
	})

	t.Run("ReadOnlySeesNoApplyAndIsRefused", func(t *testing.T) {
		p := reader.do("GET", "/plans/"+planID, nil)
		wantBody(t, "read-only plan page", p, 200, "Applying a plan needs an admin token")
		if strings.Contains(p.body, "plan-apply") {
			t.Fatal("a read-only user sees the Apply button")
		}
		csrf := find(t, csrfRe, p.body)
		if p := reader.do("POST", "/plans/"+planID+"/apply", url.Values{"csrf": {csrf}}); p.code != http.StatusForbidden {
			t.Fatalf("read-only apply = %d, want 403", p.code)
		}
		if got := savedVersion().Settings.Deprovisioning.Disable.AfterDays; got != 30 {
			t.Fatalf("a refused apply saved afterDays = %d", got)
		}
	})

	t.Run("ApplySavesTheSettings", func(t *testing.T) {
		before := savedVersion()
		csrf := find(t, csrfRe, admin.do("GET", "/plans/"+planID, nil).body)
		p := admin.do("POST", "/plans/"+planID+"/apply", url.Values{"csrf": {csrf}, "back": {"/settings"}})
		if p.code != http.StatusSeeOther || p.header.Get("Location") != "/settings" {
			t.Fatalf("apply = %d %q, want 303 to /settings:\n%s", p.code, p.header.Get("Location"), p.body)
		}
		after := savedVersion()
		if after.Version != before.Version+1 || after.Settings.Deprovisioning.Disable.AfterDays != 10 || after.UpdatedBy != "ops" {
			t.Fatalf("after apply: version %d (was %d), afterDays %d, by %q; want the next version, 10, ops",
				after.Version, before.Version, after.Settings.Deprovisioning.Disable.AfterDays, after.UpdatedBy)
		}
		wantBody(t, "settings after apply", admin.do("GET", "/settings", nil), 200, "The plan was applied: settings saved")
		wantBody(t, "applied plan", admin.do("GET", "/plans/"+planID, nil), 200, "Applied by ops")
		again := admin.do("POST", "/plans/"+planID+"/apply", url.Values{"csrf": {csrf}, "back": {"/settings"}})
		wantBody(t, "second apply", again, http.StatusConflict, `data-testid="problem"`)
		if strings.Contains(again.body, `id="plan-apply"`) || strings.Contains(again.body, `data-testid="drift"`) {
			t.Fatalf("an applied plan offers Apply again or claims a drift:\n%s", again.body)
		}
	})

	t.Run("DriftIsExplainedAndNothingSaved", func(t *testing.T) {
		form := settingsForm(t, admin.do("GET", "/settings", nil).body)
		form.Set("deprovisioning.disable.afterDays", "20")
		form.Set("intent", intentPreview)
		id := wantPlanRedirect(t, admin.do("POST", "/settings", form), "/settings")
		// The usage of Wide World's tenant (being deprovisioned, so the plan
		// read it) moves between preview and apply.
		if err := h.ac.SetUsage(acsandbox.WoodgroveRetailID, "pw_base_workstations", "", 30, 0); err != nil {
			t.Fatal(err)
		}
		csrf := form.Get("csrf")
		p := admin.do("POST", "/plans/"+id+"/apply", url.Values{"csrf": {csrf}, "back": {"/settings"}})
		wantBody(t, "drifted apply", p, http.StatusConflict, `data-testid="drift"`, "Nothing was saved", "What changed since the preview",
			`data-testid="drift-customer"`, "Wide World", "quotas read", `id="plan-again"`)
		if got := savedVersion().Settings.Deprovisioning.Disable.AfterDays; got != 10 {
			t.Fatalf("a drifted plan saved afterDays = %d", got)
		}
		// Preview again makes a new plan of the same change over what holds now.
		again := admin.do("POST", "/plans/"+id+"/again", url.Values{"csrf": {csrf}, "back": {"/settings"}})
		fresh := wantPlanRedirect(t, again, "/settings")
		if fresh == id {
			t.Fatal("preview again answered the drifted plan")
		}
		wantBody(t, "new plan", admin.do("GET", "/plans/"+fresh, nil), 200, "<td>10</td><td><strong>20</strong></td>")
		// Someone saves the settings: the plan names the versions and sends the admin back to the form.
		wantOK(t, h.do("PATCH", "/api/v1/settings", adminToken, `{"syncIntervalSeconds":120}`, "Content-Type", mergePatchType, "If-Match", etag(savedVersion().Version)))
		p = admin.do("POST", "/plans/"+fresh+"/apply", url.Values{"csrf": {csrf}, "back": {"/settings"}})
		wantBody(t, "apply over moved settings", p, http.StatusConflict, `data-testid="drift"`, "settings moved from version",
			"enter the change again over the saved settings")
		if strings.Contains(p.body, `id="plan-again"`) {
			t.Fatal("preview again is offered over settings someone else changed; it would undo their change")
		}
		if got := savedVersion().Settings.Deprovisioning.Disable.AfterDays; got != 10 {
			t.Fatalf("a drifted plan saved afterDays = %d", got)
		}
	})

	t.Run("BillingPreviewThenApply", func(t *testing.T) {
		page := admin.do("GET", "/billing", nil)
		wantBody(t, "billing page", page, 200, `id="preview-billing"`)
		idx := func(item string) string {
			return find(t, regexp.MustCompile(`data-item="`+item+`">\s*<th scope="row"><span id="item-(\d+)"`), page.body)
		}
		ws, srv := idx("pw_base_workstations"), idx("pw_base_servers")
		csrf := find(t, csrfRe, page.body)
		// Servers lose their mapping: the plan writes their quotas.
		form := url.Values{"csrf": {csrf}, "intent": {intentSave}, "service." + ws: {fmt.Sprint(atsandbox.ServiceWorkstations)}}
		id := wantPlanRedirect(t, admin.do("POST", "/billing", form), "/billing")
		p := admin.do("GET", "/plans/"+id+"?back=%2Fbilling", nil)
		wantBody(t, "billing plan", p, 200, `data-testid="plan-mappings"`, "pw_base_servers", "not mapped", `id="plan-apply"`)
		if got := decode[ServiceMappings](t, h.do("GET", "/api/v1/service-mappings", readToken, nil)); len(got.Mappings) != 3 {
			t.Fatalf("previewing saved the mappings: %d mapped, want 3", len(got.Mappings))
		}
		p = admin.do("POST", "/plans/"+id+"/apply", url.Values{"csrf": {csrf}, "back": {"/billing"}})
		if p.code != http.StatusSeeOther || p.header.Get("Location") != "/billing" {
			t.Fatalf("apply = %d %q:\n%s", p.code, p.header.Get("Location"), p.body)
		}
		if got := decode[ServiceMappings](t, h.do("GET", "/api/v1/service-mappings", readToken, nil)); len(got.Mappings) != 1 || got.Mappings[0].OfferingItem != "pw_base_workstations" {
			t.Fatalf("after apply: %+v, want workstations only", got.Mappings)
		}

		// Creating a service cannot be previewed: Preview says why, Save saves directly and says so.
		wantOK(t, h.do("PATCH", "/api/v1/settings", adminToken, `{"newServices":{"allocationCodeId":29682802,"periodType":"Monthly"}}`,
			"Content-Type", mergePatchType, "If-Match", etag(savedVersion().Version)))
		form = url.Values{"csrf": {csrf}, "intent": {intentPreview}, "service." + ws: {fmt.Sprint(atsandbox.ServiceWorkstations)},
			"service." + srv: {serviceNew}, "newName." + srv: {"Console servers"}}
		wantBody(t, "preview with a new service", admin.do("POST", "/billing", form), http.StatusBadRequest,
			"A preview maps to existing Autotask services only", "a plan maps to existing services only")
		form.Set("intent", intentSave)
		p = admin.do("POST", "/billing", form)
		if p.code != http.StatusSeeOther || p.header.Get("Location") != "/billing" {
			t.Fatalf("save with a new service = %d %q:\n%s", p.code, p.header.Get("Location"), p.body)
		}
		wantBody(t, "billing after a direct save", admin.do("GET", "/billing", nil), 200, "Saved without a preview", "1 Autotask service(s) created")
		if got := decode[ServiceMappings](t, h.do("GET", "/api/v1/service-mappings", readToken, nil)); len(got.Mappings) != 2 {
			t.Fatalf("after the direct save: %+v, want workstations and the new servers service", got.Mappings)
		}
	})
}

// TestConsole_PlanPageListsFiftyCustomersAPageWarningsFirst shows a stored
// plan of 130 customers: those with something to do 50 a page, warnings
// first; those with nothing to do collapsed into one list.
func TestConsole_PlanPageListsFiftyCustomersAPageWarningsFirst(t *testing.T) {
	h := newHarness(t)
	h.srv.deps.Plans = &planner.Service{DB: h.store}
	now := time.Now().UTC()
	set := plan.Set{ID: "plan-0123456789abcdef01234567", Status: plan.StatusPreview, Scope: plan.Scope{All: true},
		CreatedAt: now, ExpiresAt: now.Add(plan.SetTTL), CreatedBy: "ops"}
	for i := range 130 {
		e := plan.Entry{Customer: plan.Customer{ID: fmt.Sprintf("plan-c%d", i), CompanyID: int64(1000 + i), CompanyName: fmt.Sprintf("Company %03d", i)}}
		switch {
		case i < 70 && i%10 == 9: // 7 warned, listed first
			e.Items = []plan.ItemWrite{{Item: "storage", CurrentQuota: "100", CurrentUsage: 80, NewQuota: "0", Write: true}}
			e.Warnings = []string{plan.WarnStorageZero + ": storage would be 0"}
		case i < 70:
			e.Steps = []plan.Step{{Action: "disable-tenant", At: now.Add(24 * time.Hour)}}
		}
		set.Customers = append(set.Customers, e)
	}
	set.Summarize()
	if err := h.store.SavePlanSet(context.Background(), set, store.Actor{Name: "ops"}); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	b.signIn(readToken)
	companies := regexp.MustCompile(`data-testid="plan-customer" data-company="(\d+)"`)
	first := b.do("GET", "/plans/"+set.ID, nil)
	wantBody(t, "page 1", first, 200, "page 1 of 2", `rel="next"`, "60 customers with nothing to do", `data-testid="plan-warning-count">7<`)
	got := companies.FindAllStringSubmatch(first.body, -1)
	if len(got) != planPageSize || got[0][1] != "1009" || got[6][1] != "1069" || got[7][1] != "1000" {
		t.Fatalf("page 1 lists %d customers starting %v, want 50 with the 7 warned (1009 … 1069) first", len(got), got[:min(8, len(got))])
	}
	second := b.do("GET", "/plans/"+set.ID+"?page=2", nil)
	wantBody(t, "page 2", second, 200, "page 2 of 2", `rel="prev"`)
	if n := len(companies.FindAllStringSubmatch(second.body, -1)); n != 20 {
		t.Fatalf("page 2 lists %d customers, want 20", n)
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// consoleScreenshotsEnv names the directory the console test saves its page
// screenshots to; `make screenshots` sets it to docs/screenshots. Without it
// the screenshots go to a temporary directory (they are still taken, so every
// page is rendered by the browser in every run).
const consoleScreenshotsEnv = "CONSOLE_SCREENSHOTS"

// consoleWidth and consoleHeight are the smallest screen the console is made for.
const consoleWidth, consoleHeight = 1280, 800

// consoleUser drives one browser through the console of a running app.
type consoleUser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func (u *consoleUser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		text, _ := testenv.BrowserText(u.ctx)
		u.t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
	}
}

// open loads a console path and waits for its main element.
// eval runs a script in the page and returns its value.
func eval[T any](u *consoleUser, what, script string) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script))
	if err != nil {
		u.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (u *consoleUser) open(path string) {
	u.t.Helper()
	u.run("open "+path, chromedp.Navigate(u.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

func (u *consoleUser) text() string {
	u.t.Helper()
	s, err := testenv.BrowserText(u.ctx)
	if err != nil {
		u.t.Fatal(err)
	}
	return s
}

func (u *consoleUser) mustSee(what string, wants ...string) {
	u.t.Helper()
	got := u.text()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			u.t.Fatalf("%s: the page does not say %q; it says:\n%s", what, w, got)
		}
	}
}

// waitFor reloads path until the page says want.
func (u *consoleUser) waitFor(path, want string, timeout time.Duration) {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		u.open(path)
		if got := u.text(); strings.Contains(got, want) {
			return
		} else if time.Now().After(deadline) {
			u.t.Fatalf("%s never said %q within %s; last:\n%s", path, want, timeout, got)
		}
		time.Sleep(time.Second)
	}
}

// checkPage asserts the page fits a 1280-pixel-wide screen without
// horizontal scrolling and every visible input has a label, then saves a
// screenshot of what a 1280×800 screen shows.
func (u *consoleUser) checkPage(name string) {
	u.t.Helper()
	overflow := eval[int](u, "measure "+name, `document.documentElement.scrollWidth - window.innerWidth`)
	unlabelled := eval[[]string](u, "labels of "+name, `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
			.filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name || e.id)`)
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Fatalf("screenshot %s: %v", name, err)
	}
	if overflow > 0 {
		u.t.Errorf("%s: the page is %d px wider than a %d px screen", name, overflow, consoleWidth)
	}
	if len(unlabelled) > 0 {
		u.t.Errorf("%s: inputs without a label: %v", name, unlabelled)
	}
	if err := os.WriteFile(filepath.Join(u.shots, name+".png"), shot, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

func (u *consoleUser) signIn(token string) {
	u.t.Helper()
	u.open("/signin")
	u.run("sign in",
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="who"]`)))
}

func (u *consoleUser) signOut() {
	u.t.Helper()
	u.run("sign out", chromedp.Click(chromedp.CSS(`form.signout button`)), chromedp.WaitVisible(chromedp.CSS("#token")))
}

// TestConsole_AdminConfiguresMapsAndHoldsInARealBrowser drives Debian's
// chromium through the console of the whole system (server, worker,
// Temporal, PostgreSQL and both sandboxes): sign-in with each role, a
// setting refused with its reason next to the field, a company mapped to
// its existing tenant (the quota then set in the Acronis sandbox), and a
// deprovisioning held and released. It saves a screenshot of every page.
func TestConsole_AdminConfiguresMapsAndHoldsInARealBrowser(t *testing.T) {
	ctx := testenv.StartBrowser(t, chromedp.WindowSize(consoleWidth, consoleHeight))
	shots := os.Getenv(consoleScreenshotsEnv)
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	s := newStack(t, true)
	s.seed(func(doc map[string]any) {
		doc["deprovisioning"] = map[string]any{"zeroQuotas": true,
			"disable": map[string]any{"enabled": true, "afterDays": 30}, "delete": map[string]any{"enabled": false, "afterDays": 60}}
	})
	a := s.start()
	u := &consoleUser{t: t, ctx: ctx, base: a.base, shots: shots}

	// Signed out, every page leads to the sign-in form.
	u.open("/settings")
	u.mustSee("signed out", "Sign in with one of the API tokens")
	u.checkPage("signin")

	// Read-only: the pages show, the write controls do not, and a forced post is refused.
	u.signIn(e2eRead)
	u.mustSee("read-only overview", "dash (read-only)", "Companies with contracts")
	u.open("/settings")
	if saveButtons := eval[int](u, "count save buttons", `document.querySelectorAll('#save-settings').length`); saveButtons != 0 {
		t.Fatalf("a read-only user sees %d save buttons", saveButtons)
	}
	eval[any](u, "force a read-only post", `document.querySelector('form.settings').submit()`)
	u.run("wait for the answer", chromedp.WaitVisible(chromedp.CSS(`[data-testid="problem"]`)))
	u.mustSee("read-only post", "Forbidden", "read-only")
	u.signOut()

	// Admin: a bad setting is refused with the API's reason next to the field.
	u.signIn(e2eAdmin)
	u.mustSee("admin overview", "ops (admin)")
	// Fabrikam's usage is reported while the admin works (its explanation page is shown last).
	a.call("POST", "/api/v1/usage/report-now", e2eAdmin, "", nil)
	u.waitFor("/", "Autotask requests used in the last hour", 30*time.Second)
	u.checkPage("overview")
	u.open("/settings")
	// Ids are chosen from the vendors' lists: the ticket source is a dropdown of Autotask's sources.
	if n := eval[int](u, "count the ticket source choices", `(document.getElementById('f-tickets.sourceId').options || []).length`); n < 2 {
		t.Fatalf("ticket source choices = %d, want a dropdown of Autotask's ticket sources", n)
	}
	eval[any](u, "clear the sync interval", `document.querySelector('#f-syncIntervalSeconds').value = ''`)
	u.run("enter a 1-second sync interval",
		chromedp.SendKeys(chromedp.CSS("#f-syncIntervalSeconds"), "1"),
		chromedp.Click(chromedp.CSS("#save-settings")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="field-error"]`)))
	next := eval[string](u, "read the message after the field",
		`document.querySelector('#f-syncIntervalSeconds').parentElement.querySelector('.field-error').textContent`)
	if !strings.Contains(next, "no less than 5") {
		t.Fatalf("message next to the sync interval = %q, want the API's 'no less than 5'", next)
	}
	u.checkPage("settings")
	code, body := a.call("GET", "/api/v1/settings", e2eRead, "", nil)
	if st, _ := body["settings"].(map[string]any); code != 200 || st["syncIntervalSeconds"] != float64(30) {
		t.Fatalf("after the refused save: %d %v; want the interval unchanged at 30", code, body["settings"])
	}

	// Litware's tenant exists already: the admin maps it, and its quota follows the contract.
	eventually(t, 60*time.Second, "Litware waits for a manual mapping", func() (bool, string) {
		st := status(a, litware)
		return st["state"] == "unmapped", fmt.Sprint(st["_raw"])
	})
	u.open("/customers?q=Litware")
	u.mustSee("customer search", "Litware Inc", "Map…")
	u.checkPage("customers")
	u.open(fmt.Sprintf("/customers/%d/map", litware))
	u.checkPage("map")
	// Litware's tenant is in use beyond its contract: the console shows the
	// plan with its warnings, and maps only once the admin confirms it.
	u.run("map Litware to its tenant",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="tenant"][value=%q]`, acsandbox.LitwareID))),
		chromedp.Click(chromedp.CSS("#map-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="plan-warnings"]`)))
	warnings := eval[[]string](u, "read the plan's warnings", `[...document.querySelectorAll('[data-testid="plan-warning"]')].map(e => e.textContent)`)
	if len(warnings) == 0 {
		t.Fatalf("the plan page shows no warnings:\n%s", u.text())
	}
	u.mustSee("Litware's plan", "Review the plan before mapping", acsandbox.LitwareID, "pw_base_workstations", "Confirm and map")
	if st := status(a, litware); st["state"] != "unmapped" {
		t.Fatalf("before the plan is confirmed Litware is %v, want still unmapped", st["state"])
	}
	u.checkPage("map-plan")
	u.run("confirm Litware's plan",
		chromedp.Click(chromedp.CSS("#map-confirm")),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	units, _ := s.autotask.CurrentUnits(atsandbox.DemoContractID(litware), atsandbox.ServiceWorkstations)
	eventually(t, 60*time.Second, "Litware's workstation quota set in the Acronis sandbox", func() (bool, string) {
		q := quota(s, "Litware Inc", "pw_base_workstations", "")
		return q == fmt.Sprintf("%d/0", units), q
	})
	u.waitFor(fmt.Sprintf("/customers/%d", litware), "active", 30*time.Second)
	u.mustSee("Litware's page", acsandbox.LitwareID, "pw_base_workstations", fmt.Sprint(units))
	u.checkPage("customer")

	// Contoso's contract ends: deprovisioning is pending; the admin holds it, then releases it.
	eventually(t, 60*time.Second, "Contoso provisioned", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "25/0", q
	})
	if err := s.autotask.EndContract(atsandbox.DemoContractID(contoso), time.Now().UTC().AddDate(0, 0, -1)); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("/customers/%d", contoso)
	u.open(page)
	u.run("re-read Contoso", chromedp.Click(chromedp.CSS("#sync-now")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	u.waitFor(page, "Deprovisioning since", 60*time.Second)
	u.run("hold", chromedp.SendKeys(chromedp.CSS("#reason-hold"), "customer is renewing"),
		chromedp.Click(chromedp.CSS("#action-hold")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="held"]`)))
	if d, _ := status(a, contoso)["deprovisioning"].(map[string]any); d["hold"] != true {
		t.Fatalf("after Hold the workflow says deprovisioning = %v, want hold", d)
	}
	u.checkPage("customer-held")
	u.run("release", chromedp.Click(chromedp.CSS("#action-release")), chromedp.WaitVisible(chromedp.CSS("#action-hold")))
	if d, _ := status(a, contoso)["deprovisioning"].(map[string]any); d["hold"] == true {
		t.Fatalf("after Release the workflow says deprovisioning = %v, want no hold", d)
	}

	// The audit log names the token of each change.
	u.open("/audit")
	actors := eval[[]string](u, "read the actors", `[...document.querySelectorAll('[data-testid="actor"]')].map(e => e.textContent)`)
	if !slices.Contains(actors, "ops") {
		t.Fatalf("audit actors = %v, want the admin token's name ops among them", actors)
	}
	u.checkPage("audit")

	for _, p := range []struct{ path, name string }{{"/billing", "billing"}, {"/tickets", "tickets"}} {
		u.open(p.path)
		u.checkPage(p.name)
	}

	// Billing: unmapping servers, previewed and left unsaved.
	u.open("/billing")
	eval[any](u, "unmap servers", `document.querySelector('tr[data-item="pw_base_servers"] select[name^="service."]').value = ''`)
	u.run("preview the mappings", chromedp.Click(chromedp.CSS("#preview-billing")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="plan-summary"]`)))
	u.mustSee("the billing plan", "Plan: what saving the service mappings does", "pw_base_servers", "not mapped")
	u.checkPage("billing-plan")

	// A settings change is previewed for every customer before it is saved:
	// Contoso's pending disable moves, so Save shows the plan, and only Apply saves.
	u.open("/settings")
	eval[any](u, "shorten the disable delay", `document.getElementById('f-deprovisioning.disable.afterDays').value = '10'`)
	u.run("save: the plan is shown", chromedp.Click(chromedp.CSS("#save-settings")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="plan-summary"]`)))
	u.mustSee("the settings plan", "Plan: what saving the settings does", "deprovisioning.disable.afterDays", "Contoso Ltd", "disable-tenant", "Apply the plan")
	if code, body := a.call("GET", "/api/v1/settings", e2eRead, "", nil); code != 200 || afterDays(body) != float64(30) {
		t.Fatalf("after the preview: %d, disable after %v days; want 30, nothing saved yet", code, afterDays(body))
	}
	u.checkPage("settings-plan")
	u.run("apply the plan", chromedp.Click(chromedp.CSS("#plan-apply")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	u.mustSee("after applying", "The plan was applied: settings saved")
	if code, body := a.call("GET", "/api/v1/settings", e2eRead, "", nil); code != 200 || afterDays(body) != float64(10) {
		t.Fatalf("after applying: %d, disable after %v days; want 10", code, afterDays(body))
	}

	// Bulk accept: the ticked suggestions become one plan to review. The
	// tenant sync lists the tenants the customers got since it last ran (every
	// five minutes), and suggests them.
	tc, err := client.Dial(client.Options{HostPort: s.env["TEMPORAL_ADDRESS"], Namespace: s.env["TEMPORAL_NAMESPACE"]})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if err := (workflows.Customers{Client: tc, TaskQueue: s.env["TASK_QUEUE"]}).TenantSyncNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "a suggestion is ticked at 50%", func() (bool, string) {
		u.open("/customers?confidence=50")
		n := eval[int](u, "count the ticked suggestions", `document.querySelectorAll('input[name="pair"]:checked').length`)
		return n > 0, u.text()
	})
	u.run("review the ticked suggestions", chromedp.Click(chromedp.CSS("#bulk-preview")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-plan"]`)))
	u.mustSee("the bulk plan", "Review the plan before mapping")
	u.checkPage("bulk-plan")

	// A usage row's explanation (the run asked for at sign-in; asked again
	// while it finds none, as one already running may predate Fabrikam's tenant).
	var usageID string
	asked := time.Now()
	eventually(t, 4*time.Minute, "a usage row is reported", func() (bool, string) {
		_, body := a.call("GET", "/api/v1/usage?companyId=102", e2eRead, "", nil)
		items, _ := body["items"].([]any)
		if len(items) == 0 {
			if time.Since(asked) > time.Minute {
				a.call("POST", "/api/v1/usage/report-now", e2eAdmin, "", nil)
				asked = time.Now()
			}
			return false, fmt.Sprint(body["_raw"])
		}
		usageID = fmt.Sprint(items[0].(map[string]any)["id"])
		return true, ""
	})
	u.open("/usage/" + usageID)
	u.checkPage("usage")

	// Shadow mode: the report lists what would have been written, linked from every page.
	if code, body := a.call("PATCH", "/api/v1/settings", e2eAdmin, `{"mode":"shadow"}`,
		map[string]string{"Content-Type": "application/merge-patch+json", "If-Match": fmt.Sprintf("%q", fmt.Sprint(settingsVersion(a)))}); code != 200 {
		t.Fatalf("switch to shadow mode = %d %v", code, body["_raw"])
	}
	units, _ = s.autotask.CurrentUnits(atsandbox.DemoContractID(litware), atsandbox.ServiceWorkstations)
	if err := s.autotask.SetUnitsSilently(atsandbox.DemoContractID(litware), atsandbox.ServiceWorkstations, units+5); err != nil {
		t.Fatal(err)
	}
	if code, body := a.call("POST", fmt.Sprintf("/api/v1/customers/%d/sync", litware), e2eAdmin, "", nil); code >= 300 {
		t.Fatalf("sync Litware = %d %v", code, body["_raw"])
	}
	eventually(t, 60*time.Second, "the shadow report lists Litware's new quota", func() (bool, string) {
		ops := strings.Join(shadowOps(a, litware), "; ")
		return strings.Contains(ops, "offering_items"), ops
	})
	u.open("/")
	u.run("follow the Shadow report link", chromedp.Click(chromedp.CSS(`nav a[href="/shadow"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="shadow-mode"]`)))
	u.mustSee("the shadow report", "Mode: shadow", "Litware Inc")
	u.checkPage("shadow")
}

// afterDays is the disable delay of a GET /api/v1/settings answer.
func afterDays(body map[string]any) any {
	st, _ := body["settings"].(map[string]any)
	d, _ := st["deprovisioning"].(map[string]any)
	dis, _ := d["disable"].(map[string]any)
	return dis["afterDays"]
}

// settingsVersion is the saved settings' version.
func settingsVersion(a *app) any {
	_, body := a.call("GET", "/api/v1/settings", e2eRead, "", nil)
	return body["version"]
}

package server

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

// TestConsole_BulkAcceptInARealBrowser drives chromium through the customer
// mapping page's bulk accept: two suggestions ticked at 90 %, the combined
// plan reviewed, then applied; both companies end up mapped.
func TestConsole_BulkAcceptInARealBrowser(t *testing.T) {
	ctx := testenv.StartBrowser(t)
	cw := &mappingWorkflows{refuse: map[string]string{}}
	h := newAPIHarness(t, cw)
	cw.st = h.store
	fillReadModel(t, h)
	h.srv.deps.BulkMappings = h.store
	web := httptest.NewServer(h.srv)
	t.Cleanup(web.Close)

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			text, _ := testenv.BrowserText(ctx)
			t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
		}
	}
	text := func() string {
		t.Helper()
		s, err := testenv.BrowserText(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	do("sign in", chromedp.Navigate(web.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), adminToken), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="who"]`)))
	do("open the customers", chromedp.Navigate(web.URL+"/customers?confidence=90"), chromedp.WaitVisible(chromedp.CSS("#bulk-preview")))
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ticked, err := chromedp.Run(sctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('input[name="pair"]:checked')].map(e => e.value)`))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"107:" + acsandbox.LitwareID, "109:" + acsandbox.WoodgroveID}; strings.Join(ticked, " ") != strings.Join(want, " ") {
		t.Fatalf("ticked = %v, want %v", ticked, want)
	}
	do("review the ticked suggestions", chromedp.Click(chromedp.CSS("#bulk-preview")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-plan"]`)))
	if got := text(); !strings.Contains(got, "Review the plan before mapping") || !strings.Contains(got, "Litware Inc") || !strings.Contains(got, "Woodgrove Bank") {
		t.Fatalf("plan page says:\n%s", got)
	}
	if len(cw.maps) != 0 {
		t.Fatalf("the preview mapped %v", cw.maps)
	}
	do("apply the plan", chromedp.Click(chromedp.CSS("#bulk-apply")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := text(); !strings.Contains(got, "2 of 2 companies mapped") {
		t.Fatalf("after applying the page says:\n%s", got)
	}
	if len(cw.maps) != 2 {
		t.Fatalf("workflow updates = %v, want 2", cw.maps)
	}
}

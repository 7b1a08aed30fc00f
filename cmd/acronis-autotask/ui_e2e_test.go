package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"

	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// codecErrorBanner is what the Temporal UI shows when the browser cannot
// reach the codec endpoint (CORS refused, endpoint down).
const codecErrorBanner = "Codec Server could not connect"

// TestTemporalUI_ShowsDecodedPayloadsAndSummaries opens the dev server's web
// UI in headless chromium, as an operator would, on a customer workflow the
// app started: its encrypted input must show decoded through the app's codec
// endpoint (the browser's CORS preflight must pass), with no codec error
// banner, and the workflow's human summary must show on its page. (The list
// of the UI that Temporal CLI v1.5.1 embeds has no summary column; it must
// list the workflow without a codec error.)
func TestTemporalUI_ShowsDecodedPayloadsAndSummaries(t *testing.T) {
	browser := testenv.StartBrowser(t)
	appAddr := freeAddr(t)
	ui := testenv.StartTemporalWithUI(t, client.Options{}, workflows.SearchAttributes(), "http://"+appAddr+"/codec")
	s := newStackOn(t, ui.FrontendHostPort(), true)
	s.httpAddr = appAddr
	// As `dev` runs it: the UI's origin may call the codec without a token.
	s.codec = codecOptions{origins: []string{ui.URL}, anonymous: true}
	s.seed(nil)
	a := s.start()

	wfID := workflows.CustomerWorkflowID(contoso)
	summary := workflows.CustomerSummary("Contoso Ltd", contoso, "")
	eventually(t, 60*time.Second, "Contoso's workflow provisioned", func() (bool, string) {
		st := status(a, contoso)
		return st["tenantId"] != nil && st["tenantId"] != "", st["_raw"].(string)
	})

	ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	ns := url.PathEscape(testenv.TestNamespace)

	// The workflow's page: the input is the encrypted CustomerState, whose
	// JSON keys only the codec can reveal.
	page := ui.URL + "/namespaces/" + ns + "/workflows/" + url.PathEscape(wfID)
	text := waitForText(t, ctx, page, []string{`"companyName"`, "Contoso Ltd", summary})
	if strings.Contains(text, codecErrorBanner) {
		t.Errorf("workflow page shows the codec error banner:\n%s", text)
	}

	text = waitForText(t, ctx, ui.URL+"/namespaces/"+ns+"/workflows", []string{wfID, "CustomerWorkflow"})
	if strings.Contains(text, codecErrorBanner) {
		t.Errorf("workflow list shows the codec error banner:\n%s", text)
	}
}

// waitForText opens page and waits until its visible text holds every one of
// want (the UI renders after its API calls and the codec answer), failing
// with the text it last saw.
func waitForText(t *testing.T, ctx context.Context, page string, want []string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	var text string
	deadline := time.Now().Add(90 * time.Second)
	for {
		var err error
		text, err = testenv.BrowserText(ctx)
		if err != nil {
			t.Fatalf("read %s: %v", page, err)
		}
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q; page text:\n%s", page, missing, text)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

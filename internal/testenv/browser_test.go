package testenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStartBrowser_RendersScriptedPage checks the browser runs JavaScript (the
// Temporal UI and the console are single-page apps) and BrowserText sees its output.
func TestStartBrowser_RendersScriptedPage(t *testing.T) {
	ctx := StartBrowser(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><body><p id="out">static</p>
<script>document.getElementById("out").textContent = "rendered by " + "script";</script></body>`))
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("out"))); err != nil {
		t.Fatalf("open page: %v", err)
	}
	text, err := BrowserText(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "rendered by script") {
		t.Errorf("page text = %q, want the script's output", text)
	}
}

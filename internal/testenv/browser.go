package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultChromium is where Debian's chromium package installs the browser
// (`apt-get install chromium`; .ci/run installs it when missing).
const DefaultChromium = "/usr/bin/chromium"

// Chromium returns the path of the browser real-browser tests drive:
// $CHROMIUM, else DefaultChromium. It skips the test, saying why, under
// -short or when no browser is installed, so `go test -short ./...` needs none.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("testenv: skipping the real-browser test in -short mode")
	}
	p := os.Getenv("CHROMIUM")
	if p == "" {
		p = DefaultChromium
	}
	resolved, err := exec.LookPath(p)
	if err != nil {
		tb.Skipf("testenv: skipping, chromium not found at %s (apt-get install chromium, or set CHROMIUM): %v", p, err)
	}
	return resolved
}

// StartBrowser starts headless chromium (see Chromium) with a fresh profile
// and returns a chromedp context for its first tab; the browser is closed and
// its profile removed when the test ends. The page's console messages and
// uncaught exceptions are copied to the test log, so a failing UI test shows
// what the page complained about. Wrap the context with a timeout per step:
//
//	ctx := testenv.StartBrowser(t)
//	ctx, cancel := context.WithTimeout(ctx, time.Minute)
//	defer cancel()
//	err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("h1")))
//
// The flags keep chromium quiet and reproducible in a container: no sandbox
// (tests often run as root, where chromium's sandbox refuses to start), no GPU,
// no QUIC, and no background traffic to Google (updates, sync, first-run pages),
// which would otherwise hang on a machine without internet.
func StartBrowser(tb testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	path := Chromium(tb)
	profile := tb.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.WindowSize(1400, 1000),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)

	// The log stops when the test ends: testing panics on Log after completion,
	// and the browser may still send events while it shuts down.
	var mu sync.Mutex
	done := false
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			tb.Logf(format, args...)
		}
	}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(f string, a ...any) {
		logf("chromedp: "+f, a...)
	}))
	tb.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now, so a broken install fails here with a clear
	// message rather than inside the test's first action.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("testenv: start chromium %s: %v", path, err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			logf("browser console.%s: %s", ev.Type, strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			if d.Exception != nil && d.Exception.Description != "" {
				logf("browser exception: %s %s", d.Text, d.Exception.Description)
			} else {
				logf("browser exception: %s (%s:%d)", d.Text, d.URL, d.LineNumber)
			}
		}
	})
	if err != nil {
		tb.Fatalf("testenv: listen to the browser console: %v", err)
	}
	return ctx
}

// BrowserText returns the visible text of the current page (document.body.innerText),
// for assertions and for failure messages that show what the page said.
func BrowserText(ctx context.Context) (string, error) {
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "", fmt.Errorf("read page text: %w", err)
	}
	return text, nil
}

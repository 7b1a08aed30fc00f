package testenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// TestNamespace is the namespace test dev servers create, distinct from
// "default" so a test can never talk to a developer's namespace by accident.
const TestNamespace = "acronis-autotask-test"

// TemporalCLI is the path of the pinned Temporal CLI: $TEMPORAL_CLI, else the
// repository's bin/temporal that `make tools` builds. Tests never download one.
// It fails when no executable file is there.
func TemporalCLI() (string, error) {
	p := os.Getenv("TEMPORAL_CLI")
	if p == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return "", fmt.Errorf("cannot locate the repository")
		}
		p = filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "bin", "temporal"))
	}
	st, err := os.Stat(p)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("temporal CLI not found at %s: run `make tools` (or set TEMPORAL_CLI)", p)
	}
	return p, nil
}

// RequireTemporalCLI returns the Temporal CLI's path, or skips the test saying
// why: in -short mode (`make test-short` promises neither PostgreSQL nor
// Temporal) and when the CLI is not built. Under CI (CI or
// TEST_TEMPORAL_REQUIRED set) a missing CLI fails instead, so CI cannot pass
// by skipping the workflow tests.
func RequireTemporalCLI(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("testenv: skipping, needs a Temporal dev server (not in -short mode)")
	}
	cli, err := TemporalCLI()
	if err != nil {
		if os.Getenv("TEST_TEMPORAL_REQUIRED") != "" || os.Getenv("CI") != "" {
			tb.Fatalf("testenv: the Temporal CLI is required: %v", err)
		}
		tb.Skipf("testenv: skipping, %v", err)
	}
	return cli
}

// StartTemporal starts an in-memory Temporal dev server from the pinned CLI
// with the given search attributes registered (pass workflows.SearchAttributes()),
// and stops it when the test ends. Options such as the data converter apply to
// the returned client. Without the CLI, or in -short mode, the test is
// skipped (see RequireTemporalCLI).
func StartTemporal(tb testing.TB, clientOpts client.Options, keys []temporal.SearchAttributeKey) *testsuite.DevServer {
	tb.Helper()
	return startTemporal(tb, clientOpts, keys, testsuite.DevServerOptions{})
}

// TemporalUI is a dev server with its web UI, for real-browser tests.
type TemporalUI struct {
	*testsuite.DevServer
	// URL is the UI's base, "http://127.0.0.1:<port>"; a workflow's page is
	// URL + "/namespaces/" + TestNamespace + "/workflows/" + workflow id.
	URL string
}

// StartTemporalWithUI is StartTemporal with the web UI on a free port. The UI
// sends payloads to codecEndpoint (the app's /codec, e.g.
// "http://127.0.0.1:8080/codec") to show them decoded, from the browser; the
// app must allow the UI's origin (URL) for CORS.
func StartTemporalWithUI(tb testing.TB, clientOpts client.Options, keys []temporal.SearchAttributeKey, codecEndpoint string) TemporalUI {
	tb.Helper()
	port, err := freePort()
	if err != nil {
		tb.Fatalf("testenv: free port for the Temporal UI: %v", err)
	}
	srv := startTemporal(tb, clientOpts, keys, testsuite.DevServerOptions{
		EnableUI:  true,
		UIPort:    strconv.Itoa(port),
		ExtraArgs: []string{"--ui-ip", "127.0.0.1", "--ui-codec-endpoint", codecEndpoint},
	})
	return TemporalUI{DevServer: srv, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
}

func startTemporal(tb testing.TB, clientOpts client.Options, keys []temporal.SearchAttributeKey, opts testsuite.DevServerOptions) *testsuite.DevServer {
	tb.Helper()
	cli := RequireTemporalCLI(tb)
	sa, err := searchAttributesForDevServer(keys)
	if err != nil {
		tb.Fatal(err)
	}
	clientOpts.Namespace = TestNamespace
	opts.ExistingPath = cli
	opts.ClientOptions = &clientOpts
	opts.LogLevel = "error"
	opts.SearchAttributes = sa
	opts.Stdout, opts.Stderr = io.Discard, io.Discard
	srv, err := testsuite.StartDevServer(context.Background(), opts)
	if err != nil {
		tb.Fatalf("start Temporal dev server: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Stop() })
	return srv
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// searchAttributesForDevServer declares the keys (the value is ignored; only
// the key and its type reach --search-attribute).
func searchAttributesForDevServer(keys []temporal.SearchAttributeKey) (temporal.SearchAttributes, error) {
	var updates []temporal.SearchAttributeUpdate
	for _, k := range keys {
		kw, ok := k.(temporal.SearchAttributeKeyKeyword)
		if !ok {
			return temporal.SearchAttributes{}, fmt.Errorf("search attribute %s is not a keyword; extend searchAttributesForDevServer", k.GetName())
		}
		updates = append(updates, kw.ValueSet(""))
	}
	return temporal.NewSearchAttributes(updates...), nil
}

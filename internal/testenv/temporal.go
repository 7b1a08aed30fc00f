package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
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
	cli := RequireTemporalCLI(tb)
	sa, err := searchAttributesForDevServer(keys)
	if err != nil {
		tb.Fatal(err)
	}
	clientOpts.Namespace = TestNamespace
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath:     cli,
		ClientOptions:    &clientOpts,
		LogLevel:         "error",
		SearchAttributes: sa,
		Stdout:           io.Discard,
		Stderr:           io.Discard,
	})
	if err != nil {
		tb.Fatalf("start Temporal dev server: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Stop() })
	return srv
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

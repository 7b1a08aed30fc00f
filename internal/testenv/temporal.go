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
func TemporalCLI() (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the repository")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", "bin", "temporal")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("temporal CLI not found at %s: run `make tools` (or set TEMPORAL_CLI)", p)
	}
	return filepath.Clean(p), nil
}

// StartTemporal starts an in-memory Temporal dev server from the pinned CLI
// with the given search attributes registered (pass workflows.SearchAttributes()),
// and stops it when the test ends. Options such as the data converter apply to
// the returned client.
func StartTemporal(tb testing.TB, clientOpts client.Options, keys []temporal.SearchAttributeKey) *testsuite.DevServer {
	tb.Helper()
	cli, err := TemporalCLI()
	if err != nil {
		tb.Fatal(err)
	}
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

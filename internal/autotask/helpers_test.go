package autotask_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask/openapicheck"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// fixedNow is the sandbox clock of the tests, so dates are reproducible.
var fixedNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// env is a demo sandbox behind an httptest server and a client discovering it.
type env struct {
	sb     *atsandbox.Sandbox
	srv    *httptest.Server
	client *autotask.Client
}

func newEnv(t *testing.T, opts atsandbox.Options, mutate ...func(*autotask.Config)) *env {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	sb, err := atsandbox.New(opts)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	spec, err := openapicheck.Load()
	if err != nil {
		t.Fatalf("load Autotask's OpenAPI document: %v", err)
	}
	hc := &http.Client{Transport: spec.Transport(srv.Client().Transport, func(err error) { t.Errorf("OpenAPI (SPEC F13): %v", err) })}
	cfg := autotask.Config{
		Username:        atsandbox.DefaultUsername,
		Secret:          atsandbox.DefaultSecret,
		IntegrationCode: atsandbox.DefaultIntegrationCode,
		ZoneLookupURL:   srv.URL + "/atservicesrest/v1.0/zoneInformation",
		HTTPClient:      hc,
		RetryBackoff:    10 * time.Millisecond,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := autotask.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("autotask.New: %v", err)
	}
	return &env{sb: sb, srv: srv, client: c}
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// ids extracts the ids of records for comparisons.
func ids[T any](items []T, id func(T) int64) []int64 {
	out := make([]int64, 0, len(items))
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func companyID(c autotask.Company) int64 { return c.ID }

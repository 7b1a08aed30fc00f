package acronis_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

// clock is a settable clock shared by the sandbox and the client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	sb     *acsandbox.Sandbox
	client *acronis.Client
	clock  *clock
	url    string
}

// newEnv starts a demo sandbox on an httptest server and a client on it;
// mod adjusts the client config.
func newEnv(t *testing.T, opts acsandbox.Options, mod func(*acronis.Config)) *env {
	t.Helper()
	clk := newClock()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	sb, err := acsandbox.New(opts)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	cfg := acronis.Config{
		BaseURL: srv.URL, ClientID: sb.ClientID(), ClientSecret: sb.ClientSecret(), HTTPClient: srv.Client(),
		Now: clk.Now, RetryBackoff: 10 * time.Millisecond, RequestsPerSecond: 1000, Burst: 1000,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := acronis.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return &env{sb: sb, client: c, clock: clk, url: srv.URL}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func ptr[T any](v T) *T { return &v }

func startServer(t *testing.T, sb *acsandbox.Sandbox) string {
	t.Helper()
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func faultRule(prefix string, status, times, retryAfter int) sandbox.Rule {
	return sandbox.Rule{PathPrefix: prefix, ErrorRate: 1, Status: status, Times: times, RetryAfter: retryAfter}
}

package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/fx"

	"github.com/acronis-autotask/acronis-autotask/internal/config"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

const (
	e2eAdmin = "e2e-admin-token-0123456789"
	e2eRead  = "e2e-read-token-0123456789"
)

// stack is everything a real deployment has, in one test: a Temporal dev
// server, PostgreSQL, both API sandboxes, and the binary's own composition.
type stack struct {
	t        *testing.T
	env      map[string]string
	autotask *atsandbox.Sandbox
	acronis  *acsandbox.Sandbox
	day      time.Duration
	// httpAddr is the app's address when it must be known before the app
	// starts (the Temporal UI's codec endpoint); empty picks a free one.
	httpAddr string
	codec    codecOptions
}

// newStack starts the infrastructure; start runs the application on it.
func newStack(t *testing.T, withSandboxes bool) *stack {
	t.Helper()
	temporal := testenv.StartTemporal(t, client.Options{}, workflows.SearchAttributes())
	return newStackOn(t, temporal.FrontendHostPort(), withSandboxes)
}

// newStackOn is newStack on a Temporal dev server the test started itself.
func newStackOn(t *testing.T, temporalHostPort string, withSandboxes bool) *stack {
	t.Helper()
	s := &stack{t: t, day: 24 * time.Hour, env: map[string]string{
		"DATABASE_URL":       testenv.NewTestDatabase(t),
		"TEMPORAL_ADDRESS":   temporalHostPort,
		"TEMPORAL_NAMESPACE": testenv.TestNamespace,
		"TASK_QUEUE":         "e2e-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())),
		"API_TOKENS":         "ops:admin:" + e2eAdmin + ",dash:read:" + e2eRead,
		"SECRETS_KEY":        secrets.GenerateKey(),
		"LOG_LEVEL":          "info",
	}}
	if recording() {
		s.env["SECRETS_KEY"] = replayKey(t)
	}
	if withSandboxes {
		var err error
		if s.autotask, err = atsandbox.New(atsandbox.Options{Dataset: "demo"}); err != nil {
			t.Fatal(err)
		}
		// New tenants get some usage, as in `make dev`, so pay-as-you-go reporting has work.
		// Billing reports are generated at once, so settling a closed month
		// needs no one-minute poll timer in tests.
		if s.acronis, err = acsandbox.New(acsandbox.Options{Dataset: "demo", SimulateUsage: true, ReportDelay: -1}); err != nil {
			t.Fatal(err)
		}
		at := httptest.NewServer(s.autotask.Handler())
		ac := httptest.NewServer(s.acronis.Handler())
		t.Cleanup(at.Close)
		t.Cleanup(ac.Close)
		for k, v := range map[string]string{
			"AUTOTASK_USERNAME": "sandbox-api@acronis-autotask.dev", "AUTOTASK_SECRET": "sandbox-secret",
			"AUTOTASK_INTEGRATION_CODE": "SANDBOXINTEGRATIONCODE", "AUTOTASK_BASE_URL": at.URL + "/ATServicesRest",
			"ACRONIS_BASE_URL": ac.URL, "ACRONIS_CLIENT_ID": s.acronis.ClientID(), "ACRONIS_CLIENT_SECRET": s.acronis.ClientSecret(),
		} {
			s.env[k] = v
		}
	}
	return s
}

// seed stores the demo settings and service mappings, as `make dev` does;
// change adjusts the settings before they are saved.
func (s *stack) seed(change func(doc map[string]any)) {
	s.t.Helper()
	ctx := context.Background()
	kr, _ := secrets.ParseKeyring(s.env["SECRETS_KEY"])
	st, err := store.Open(ctx, s.env["DATABASE_URL"], kr)
	if err != nil {
		s.t.Fatal(err)
	}
	defer st.Close()
	if _, err := seedDemo(ctx, st); err != nil {
		s.t.Fatal(err)
	}
	if change == nil {
		return
	}
	cur, err := st.CurrentSettings(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	var doc map[string]any
	_ = json.Unmarshal(cur.Document, &doc)
	change(doc)
	raw, _ := json.Marshal(doc)
	if _, err := st.SaveSettings(ctx, raw, cur.Version, store.Actor{Name: "test"}); err != nil {
		s.t.Fatal(err)
	}
}

// seedTickets adds what `make dev` adds for tickets: alert mappings, ticket
// settings and Litware (where the demo alerts are) mapped to its tenant.
func (s *stack) seedTickets() {
	s.t.Helper()
	ctx := context.Background()
	kr, _ := secrets.ParseKeyring(s.env["SECRETS_KEY"])
	st, err := store.Open(ctx, s.env["DATABASE_URL"], kr)
	if err != nil {
		s.t.Fatal(err)
	}
	defer st.Close()
	if err := seedDemoTickets(ctx, st); err != nil {
		s.t.Fatal(err)
	}
}

// app is one running instance of the binary's composition (server + worker).
type app struct {
	t    *testing.T
	base string
	logs *syncBuffer
	stop func()
}

// start runs server and worker in-process until the test ends or stop is called.
func (s *stack) start() *app {
	t := s.t
	t.Helper()
	addr := s.httpAddr
	if addr == "" {
		addr = freeAddr(t)
	}
	env := map[string]string{"HTTP_ADDR": addr}
	for k, v := range s.env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	day := fx.Decorate(func(dayLength) dayLength { return dayLength{d: s.day} })
	go func() { done <- runApp(ctx, cfg, logs, roleServer|roleWorker, s.codec, day) }()
	var once sync.Once
	a := &app{t: t, base: "http://" + addr, logs: logs}
	a.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("app stopped with error: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("app did not stop within 30s")
			}
		})
	}
	t.Cleanup(a.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("app exited during start: %v\n%s", err, logs.String())
		default:
		}
		if code, _ := a.call("GET", "/readyz", "", "", nil); code == 200 {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("app not ready after 30s\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (a *app) call(method, path, token, body string, header map[string]string) (int, map[string]any) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{}
	}
	out["_contentType"] = res.Header.Get("Content-Type")
	out["_raw"] = string(raw)
	return res.StatusCode, out
}

// eventually polls cond until it holds or the timeout passes; cond says what it saw.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s; last saw: %s", what, timeout, saw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects logs written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

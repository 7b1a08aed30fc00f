package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunWithDB(m)) }

// app is the real binary's composition (server + worker) running in-process
// against a real Temporal dev server and a real PostgreSQL database.
type app struct {
	t    *testing.T
	base string
	logs *syncBuffer
}

const (
	e2eAdmin = "e2e-admin-token-0123456789"
	e2eRead  = "e2e-read-token-0123456789"
)

func startApp(t *testing.T) *app {
	t.Helper()
	dbURL := testenv.NewTestDatabase(t)
	temporal := testenv.StartTemporal(t, client.Options{}, workflows.SearchAttributes())
	addr := freeAddr(t)
	env := map[string]string{
		"DATABASE_URL":       dbURL,
		"TEMPORAL_ADDRESS":   temporal.FrontendHostPort(),
		"TEMPORAL_NAMESPACE": testenv.TestNamespace,
		"TASK_QUEUE":         "e2e-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")),
		"HTTP_ADDR":          addr,
		"API_TOKENS":         "ops:admin:" + e2eAdmin + ",dash:read:" + e2eRead,
		"SECRETS_KEY":        secrets.GenerateKey(),
		"LOG_LEVEL":          "debug",
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runServices(ctx, func(k string) string { return env[k] }, logs, roleServer|roleWorker)
	}()
	t.Cleanup(func() {
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
	a := &app{t: t, base: "http://" + addr, logs: logs}
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

func TestE2E_SettingsThroughTheRealStack(t *testing.T) {
	a := startApp(t)

	// Auth: no token → 401, read-only token cannot write.
	if code, _ := a.call("GET", "/api/v1/settings", "", "", nil); code != 401 {
		t.Fatalf("no token: %d, want 401", code)
	}
	if code, _ := a.call("PUT", "/api/v1/settings", e2eRead, `{"version":0,"settings":{}}`, nil); code != 403 {
		t.Fatalf("read-only PUT: %d, want 403", code)
	}

	// PUT then GET.
	code, body := a.call("PUT", "/api/v1/settings", e2eAdmin,
		`{"settings":{"billingEnabled":true,"deprovisioning":{"zeroQuotas":true,"disable":{"enabled":true,"afterDays":14}}}}`,
		map[string]string{"If-Match": `"0"`})
	if code != 200 || body["version"] != float64(1) {
		t.Fatalf("PUT: %d %v", code, body["_raw"])
	}
	code, body = a.call("GET", "/api/v1/settings", e2eRead, "", nil)
	st, _ := body["settings"].(map[string]any)
	if code != 200 || st["billingEnabled"] != true || body["updatedBy"] != "ops" {
		t.Fatalf("GET: %d %v", code, body["_raw"])
	}
	stored := body["_raw"]

	// A bad PUT: 400 problem+json naming each bad field; nothing changes.
	code, body = a.call("PUT", "/api/v1/settings", e2eAdmin,
		`{"version":1,"settings":{"twoWaySync":true,"usageReporting":{"billingDay":0,"storage":["class9"]},"syncIntervalSeconds":1}}`, nil)
	if code != 400 || body["_contentType"] != "application/problem+json" {
		t.Fatalf("bad PUT: %d %v %v", code, body["_contentType"], body["_raw"])
	}
	var fields []string
	for _, e := range body["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	want := "newServices.allocationCodeId,syncIntervalSeconds,usageReporting.billingDay,usageReporting.storage.0"
	if strings.Join(fields, ",") != want {
		t.Fatalf("bad fields = %v, want %s", fields, want)
	}
	if _, body = a.call("GET", "/api/v1/settings", e2eRead, "", nil); body["_raw"] != stored {
		t.Fatalf("settings changed after a rejected PUT:\n%v\n%v", stored, body["_raw"])
	}

	// Readiness covers both dependencies.
	code, body = a.call("GET", "/readyz", "", "", nil)
	checks, _ := body["checks"].(map[string]any)
	if code != 200 || checks["postgres"] != "ok" || checks["temporal"] != "ok" {
		t.Fatalf("readyz: %d %v", code, body["_raw"])
	}
	if strings.Contains(a.logs.String(), e2eAdmin) {
		t.Fatal("a token reached the log")
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

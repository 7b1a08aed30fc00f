package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// requestRecorder sits in front of the Autotask sandbox and keeps the time
// and status of every request that reaches it: the fleet's request log.
type requestRecorder struct {
	next http.Handler
	mu   sync.Mutex
	log  []recorded
}

type recorded struct {
	at     time.Time
	path   string
	status int
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (r *requestRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	at := time.Now()
	r.next.ServeHTTP(sw, req)
	r.mu.Lock()
	r.log = append(r.log, recorded{at: at, path: req.URL.Path, status: sw.status})
	r.mu.Unlock()
}

// between counts the requests that arrived in [from, to), and the 429s among them.
func (r *requestRecorder) between(from, to time.Time) (n, throttled int, first time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.log {
		if e.at.Before(from) || !e.at.Before(to) {
			continue
		}
		if n == 0 {
			first = e.at
		}
		n++
		if e.status == http.StatusTooManyRequests {
			throttled++
		}
	}
	return n, throttled, first
}

// buildBinary builds this command as it ships, for tests that run it as processes.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "acronis-autotask")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process runs one command of the binary with the stack's environment until the test ends.
func (s *stack) process(bin, role string, extra map[string]string) *syncBuffer {
	s.t.Helper()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TEMPORAL_CONFIG_FILE=" + filepath.Join(s.t.TempDir(), "none.toml")}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, role)
	logs := &syncBuffer{}
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 20 * time.Second
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", role, err)
	}
	s.t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	return logs
}

// TestFleet_TwoWorkersAndAServerShareOneAutotaskBudget runs the binary as
// it is deployed at scale, two `worker` processes and a `server`, with a
// budget of 600 requests an hour (a burst of 60, then one every 6.7 s), and
// more demand than that: 120 alerts to ticket and a console searching
// customers. The sandbox's request log shows the three together within the
// one budget, tickets served first. Then another integration uses most of
// Autotask's hour and the fleet slows down to what is left.
func TestFleet_TwoWorkersAndAServerShareOneAutotaskBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	s := newStack(t, true)
	rec := &requestRecorder{next: s.autotask.Handler()}
	front := httptest.NewServer(rec)
	t.Cleanup(front.Close)
	s.env["AUTOTASK_BASE_URL"] = front.URL + "/ATServicesRest"
	s.env["AUTOTASK_HOURLY_BUDGET"] = "600"
	s.env["AUTOTASK_THRESHOLD_EVERY"] = "5s"
	s.seed(func(doc map[string]any) {
		doc["ticketCreationEnabled"] = true
		doc["syncIntervalSeconds"] = 5
		doc["tickets"] = map[string]any{"sourceId": 8, "noteTypeId": 3, "notePublishId": 2}
	})
	s.seedAlerts()
	const alerts = 120
	for i := range alerts {
		if _, err := s.acronis.RaiseAlert(acsandbox.AlertSpec{TenantID: acsandbox.LitwareID, Type: "BackupFailed",
			Details: map[string]any{"resourceId": fmt.Sprintf("4c1f8d2e-7a3b-4e5c-9d10-%012d", 100+i), "resourceName": fmt.Sprintf("LIT-WS%03d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	ticketsBefore := s.autotask.TicketCount()
	bin := buildBinary(t)

	started := time.Now()
	addr := freeAddr(t)
	serverLogs := s.process(bin, "server", map[string]string{"HTTP_ADDR": addr})
	metricsAddr := freeAddr(t)
	s.process(bin, "worker", map[string]string{"METRICS_ADDR": metricsAddr})
	s.process(bin, "worker", nil)
	srv := &app{t: t, base: "http://" + addr, logs: serverLogs}
	eventually(t, 60*time.Second, "the server is ready", func() (bool, string) {
		code, _ := srv.call("GET", "/readyz", "", "", nil)
		return code == 200, fmt.Sprint(code)
	})
	if code, body := srv.call("POST", "/api/v1/alerts/sync", e2eAdmin, "", nil); code != 202 {
		t.Fatalf("POST /alerts/sync = %d %v", code, body["_raw"])
	}
	// A console searches customers: every search is a new Autotask query.
	browse, stopBrowsing := context.WithCancel(context.Background())
	var browsing sync.WaitGroup
	browsing.Go(func() {
		for i := 0; browse.Err() == nil; i++ {
			srv.call("GET", fmt.Sprintf("/api/v1/customers?q=x%d", i), e2eRead, "", nil)
			time.Sleep(200 * time.Millisecond)
		}
	})

	const window = 80 * time.Second
	time.Sleep(window)
	n, throttled, first := rec.between(started, time.Now())
	elapsed := time.Since(first).Seconds()
	capacity, perSecond := autotask.BucketFor(600)
	// Tokens taken in a batch and dropped unused are never sent, so the
	// bucket bounds what arrived; one refill of slack for timing.
	bound := int(capacity+perSecond*elapsed) + 1
	tickets := s.autotask.TicketCount() - ticketsBefore
	t.Logf("phase 1: %d Autotask requests in %.0f s (bound %d), %d tickets of %d alerts, %d answered 429", n, elapsed, bound, tickets, alerts, throttled)
	if n > bound {
		t.Errorf("the fleet sent %d Autotask requests in %.0f s; a 600/h budget allows %d", n, elapsed, bound)
	}
	if n < int(capacity) {
		t.Errorf("the fleet sent only %d requests: the test made too little demand to prove anything", n)
	}
	if tickets >= alerts {
		t.Errorf("all %d alerts got tickets: the budget never bound", alerts)
	}
	if tickets < int(capacity)/2 {
		t.Errorf("only %d tickets while the console browsed: ticket work must go first", tickets)
	}
	if throttled > 0 {
		t.Errorf("%d requests answered 429 (thread or hourly limit): the fleet must stay inside both", throttled)
	}

	// The SDK's worker metrics are on the worker's /metrics.
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("worker /metrics: %v", err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, m := range []string{"temporal_worker_task_slots_available", "temporal_request_total", "temporal_sticky_cache_size"} {
		if !strings.Contains(string(raw), m) {
			t.Errorf("worker /metrics lacks the SDK metric %s", m)
		}
	}

	// Another integration now uses most of Autotask's hour: 25 requests are left.
	s.autotask.AddOtherIntegrationRequests(10000 - 25 - s.autotask.RequestsThisHour())
	phase2 := time.Now()
	kr, _ := secrets.ParseKeyring(s.env["SECRETS_KEY"])
	st, err := store.Open(context.Background(), s.env["DATABASE_URL"], kr)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var others int
	var allowance float64
	eventually(t, 30*time.Second, "a process reads ThresholdInformation and the allowance shrinks", func() (bool, string) {
		_ = st.Pool().QueryRow(context.Background(), `SELECT others, allowance FROM autotask_budget`).Scan(&others, &allowance)
		return allowance < 100, fmt.Sprintf("others %d, allowance %.0f", others, allowance)
	})
	time.Sleep(30 * time.Second)
	stopBrowsing()
	browsing.Wait()
	n2, throttled2, _ := rec.between(phase2, time.Now())
	t.Logf("phase 2: others %d, allowance %.0f/h; %d requests in %.0f s, %d answered 429", others, allowance, n2, time.Since(phase2).Seconds(), throttled2)
	if others < 9000 {
		t.Errorf("others = %d, want the other integration's ~9,900", others)
	}
	if n2 > 25 || throttled2 > 0 {
		t.Errorf("with 25 requests left in Autotask's hour the fleet sent %d (%d answered 429); want at most 25 and none refused", n2, throttled2)
	}
}

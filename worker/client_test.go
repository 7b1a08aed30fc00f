package worker_test

import (
	"context"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/worker"
)

// TestClientOptions_APIKeyReachesTheFrontendOverTLS connects, as Temporal
// Cloud is reached, to a TLS frontend whose certificate only the configured
// CA trusts, and checks that the API key arrives as a bearer token.
func TestClientOptions_APIKeyReachesTheFrontendOverTLS(t *testing.T) {
	var mu sync.Mutex
	var auth, contentType string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth, contentType = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", "16") // UNAUTHENTICATED: the dial stops here
		w.Header().Set("Grpc-Message", "test frontend")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	env := map[string]string{
		"DATABASE_URL":                     "postgres://postgres@127.0.0.1:5432/x",
		"API_TOKENS":                       "ops:admin:0123456789abcdef0123",
		"SECRETS_KEY":                      secrets.GenerateKey(),
		"TEMPORAL_CONFIG_FILE":             t.TempDir() + "/absent.toml",
		"TEMPORAL_ADDRESS":                 strings.TrimPrefix(srv.URL, "https://"),
		"TEMPORAL_NAMESPACE":               "msp.acct",
		"TEMPORAL_API_KEY":                 "cloud-key-0123",
		"TEMPORAL_TLS_SERVER_CA_CERT_DATA": string(ca),
		"TEMPORAL_TLS_SERVER_NAME":         "example.com",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, worker.ClientOptions(cfg, slog.New(slog.DiscardHandler), nil))
	if err == nil {
		c.Close()
		t.Fatal("dial succeeded against a frontend that refuses; want UNAUTHENTICATED")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(contentType, "application/grpc") {
		t.Fatalf("the frontend saw no gRPC call over TLS (content type %q): %v", contentType, err)
	}
	if auth != "Bearer cloud-key-0123" {
		t.Errorf("Authorization = %q, want the API key as a bearer token", auth)
	}
}

func TestMetricsHandler_ExportsSDKMetricsToPrometheus(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := worker.NewMetricsHandler(reg)
	wf := h.WithTags(map[string]string{"namespace": "default", "task_queue": "q", "worker_type": "WorkflowWorker"})
	wf.Gauge("temporal_worker_task_slots_available").Update(7)
	wf.Timer("temporal_workflow_task_schedule_to_start_latency").Record(300 * time.Millisecond)
	wf.Timer("temporal_workflow_task_schedule_to_start_latency").Record(2 * time.Second)
	// The same name with other tags (the SDK adds operation to requests).
	h.WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"namespace": "default", "operation": "PollWorkflowTaskQueue"}).Counter("temporal_request").Inc(3)
	h.Gauge("temporal_sticky_cache_size").Update(42)

	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				got[f.GetName()] += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[f.GetName()] += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				got[f.GetName()+"_count"] += float64(m.GetHistogram().GetSampleCount())
				got[f.GetName()+"_sum"] += m.GetHistogram().GetSampleSum()
				for _, b := range m.GetHistogram().GetBucket() {
					if b.GetUpperBound() == 0.5 {
						got[f.GetName()+"_le_0.5"] = float64(b.GetCumulativeCount())
					}
				}
			}
		}
	}
	want := map[string]float64{
		"temporal_worker_task_slots_available":                            7,
		"temporal_workflow_task_schedule_to_start_latency_seconds_count":  2,
		"temporal_workflow_task_schedule_to_start_latency_seconds_sum":    2.3,
		"temporal_workflow_task_schedule_to_start_latency_seconds_le_0.5": 1,
		"temporal_request_total":                                          5,
		"temporal_sticky_cache_size":                                      42,
	}
	for k, v := range want {
		if d := got[k] - v; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestFaults_OneShotErrorThenPassThrough(t *testing.T) {
	applied := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { applied++; io.WriteString(w, "ok") })
	f, l := NewFaults(1), NewRequestLog()
	f.Add(Rule{PathPrefix: "/v1.0/tickets", ErrorRate: 1, Status: 429, RetryAfter: 7, Times: 1})
	srv := httptest.NewServer(Controls(h, f, l))
	defer srv.Close()

	res, _ := http.Post(srv.URL+"/V1.0/Tickets", "application/json", strings.NewReader("{}"))
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "7" {
		t.Fatalf("first call: status %d Retry-After %q; want 429 and 7", res.StatusCode, res.Header.Get("Retry-After"))
	}
	res, _ = http.Post(srv.URL+"/V1.0/Tickets", "application/json", strings.NewReader("{}"))
	if res.StatusCode != 200 {
		t.Fatalf("second call: status %d, want 200 (rule fires once)", res.StatusCode)
	}
	if applied != 1 {
		t.Fatalf("handler ran %d times, want 1", applied)
	}
	if f.Fired() != 1 {
		t.Fatalf("Fired() = %d, want 1", f.Fired())
	}
	if got := l.Count("POST /V1.0/Tickets"); got != 2 {
		t.Fatalf("request log counted %d, want 2", got)
	}
}

func TestFaults_DropAppliesWriteButLosesAnswer(t *testing.T) {
	applied := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { applied++; io.WriteString(w, "ok") })
	f := NewFaults(1)
	f.Add(Rule{Method: "POST", DropRate: 1})
	srv := httptest.NewServer(Controls(h, f, NewRequestLog()))
	defer srv.Close()
	res, _ := http.Post(srv.URL+"/x", "text/plain", nil)
	if res.StatusCode != http.StatusBadGateway || applied != 1 {
		t.Fatalf("status %d applied %d; want 502 and 1", res.StatusCode, applied)
	}
}

func TestFaults_TimeoutCutsTheConnectionWithOrWithoutTheWrite(t *testing.T) {
	var applied atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { applied.Add(1); io.WriteString(w, "ok") })
	f := NewFaults(3)
	f.Add(Rule{Method: "POST", TimeoutRate: 1})
	srv := httptest.NewServer(Controls(h, f, NewRequestLog()))
	defer srv.Close()
	const calls = 40
	for range calls {
		res, err := http.Post(srv.URL+"/x", "text/plain", nil)
		if err == nil {
			res.Body.Close()
			t.Fatalf("got an answer (%d); want the connection cut without one", res.StatusCode)
		}
	}
	// About half the cut requests were applied first: a client cannot tell which.
	if n := applied.Load(); n == 0 || n == calls {
		t.Fatalf("applied %d of %d cut requests; want some applied and some not", n, calls)
	}
	if f.Fired() != calls {
		t.Fatalf("Fired() = %d, want %d", f.Fired(), calls)
	}
}

func TestEndpoint_FoldsIDs(t *testing.T) {
	for path, want := range map[string]string{
		"/V1.0/Companies/123":                                 "GET /V1.0/Companies/{id}",
		"/V1.0/Contracts/5/Services/6":                        "GET /V1.0/Contracts/{id}/Services/{id}",
		"/api/2/tenants/3fa85f64-5717-4562-b3fc-2c963f66afa6": "GET /api/2/tenants/{id}",
	} {
		r := httptest.NewRequest("GET", path, nil)
		if got := Endpoint(r); got != want {
			t.Errorf("Endpoint(%s) = %s, want %s", path, got, want)
		}
	}
}

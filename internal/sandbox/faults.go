// Package sandbox holds what both API sandboxes share: fault injection and a
// request log, so reliability tests and benchmarks drive either sandbox the
// same way. The sandboxes themselves live in the autotask and acronis
// sub-packages.
package sandbox

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rule injects one kind of failure into requests that match it. Zero fields do
// nothing, so a rule states only the failure it wants.
type Rule struct {
	// Method matches the HTTP method; empty matches any.
	Method string `json:"method,omitempty"`
	// PathPrefix matches the start of the URL path, case-insensitively; empty matches any.
	PathPrefix string `json:"pathPrefix,omitempty"`
	// Latency is added before the request is handled.
	Latency time.Duration `json:"latency,omitempty"`
	// ErrorRate in [0,1] answers with Status (default 500) instead of handling.
	ErrorRate float64 `json:"errorRate,omitempty"`
	// Status is the status code for ErrorRate failures; 429 and 503 carry Retry-After.
	Status int `json:"status,omitempty"`
	// RetryAfter is the Retry-After seconds sent with 429/503 (default 1).
	RetryAfter int `json:"retryAfter,omitempty"`
	// DropRate in [0,1] handles the request (the write is applied) but replaces the
	// answer with a 502, as when a response is lost on the way back.
	DropRate float64 `json:"dropRate,omitempty"`
	// TimeoutRate in [0,1] cuts the connection without an answer, as when the
	// client's deadline passes or the network drops: half of these after the
	// request was handled (the write is applied), half before.
	TimeoutRate float64 `json:"timeoutRate,omitempty"`
	// Times limits how many requests the rule fires on; 0 means unlimited.
	Times int `json:"times,omitempty"`
}

func (r Rule) matches(req *http.Request) bool {
	if r.Method != "" && !strings.EqualFold(r.Method, req.Method) {
		return false
	}
	return r.PathPrefix == "" || strings.HasPrefix(strings.ToLower(req.URL.Path), strings.ToLower(r.PathPrefix))
}

// Faults is a concurrency-safe set of rules applied by Middleware.
type Faults struct {
	mu    sync.Mutex
	rules []*ruleState
	rand  func() float64
}

type ruleState struct {
	Rule
	fired int
}

// NewFaults returns an empty rule set; seed makes failure draws repeatable.
func NewFaults(seed uint64) *Faults {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var mu sync.Mutex
	return &Faults{rand: func() float64 { mu.Lock(); defer mu.Unlock(); return r.Float64() }}
}

// Add appends a rule; rules are evaluated in order and every matching rule applies.
func (f *Faults) Add(r Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &ruleState{Rule: r})
}

// Reset removes every rule.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Fired is how many times any rule has fired, so a test can prove its faults happened.
func (f *Faults) Fired() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.rules {
		n += r.fired
	}
	return n
}

// Rules lists the active rules.
func (f *Faults) Rules() []Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Rule, 0, len(f.rules))
	for _, r := range f.rules {
		out = append(out, r.Rule)
	}
	return out
}

type decision struct {
	latency    time.Duration
	fail       int
	retryAfter int
	drop       bool
	// cut closes the connection without an answer; applied says after handling.
	cut, applied bool
}

func (f *Faults) decide(req *http.Request) decision {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d decision
	for _, r := range f.rules {
		if !r.matches(req) || (r.Times > 0 && r.fired >= r.Times) {
			continue
		}
		fired := false
		if r.Latency > 0 {
			d.latency += r.Latency
			fired = true
		}
		if d.fail == 0 && r.ErrorRate > 0 && f.rand() < r.ErrorRate {
			d.fail = r.Status
			if d.fail == 0 {
				d.fail = http.StatusInternalServerError
			}
			d.retryAfter = r.RetryAfter
			fired = true
		}
		if !d.drop && r.DropRate > 0 && f.rand() < r.DropRate {
			d.drop = true
			fired = true
		}
		if !d.cut && r.TimeoutRate > 0 && f.rand() < r.TimeoutRate {
			d.cut, d.applied = true, f.rand() < 0.5
			fired = true
		}
		if fired {
			r.fired++
		}
	}
	return d
}

// Middleware applies the rules before and after next. Failures use the generic
// bodies a proxy in front of the real API would produce; each sandbox's own
// error bodies stay in the sandbox.
func (f *Faults) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		d := f.decide(req)
		if d.latency > 0 {
			select {
			case <-time.After(d.latency):
			case <-req.Context().Done():
				return
			}
		}
		if d.fail != 0 {
			if d.fail == http.StatusTooManyRequests || d.fail == http.StatusServiceUnavailable {
				ra := d.retryAfter
				if ra <= 0 {
					ra = 1
				}
				w.Header().Set("Retry-After", strconv.Itoa(ra))
			}
			http.Error(w, http.StatusText(d.fail), d.fail)
			return
		}
		if d.cut {
			if d.applied {
				next.ServeHTTP(discardWriter{h: http.Header{}}, req)
			}
			// The server closes the connection without writing an answer.
			panic(http.ErrAbortHandler)
		}
		if d.drop {
			next.ServeHTTP(discardWriter{h: http.Header{}}, req)
			http.Error(w, "upstream response lost", http.StatusBadGateway)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// discardWriter lets a handler apply its write while its answer is thrown away.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

package sandbox

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// RequestLog counts requests per endpoint so tests and benchmarks can assert
// how many calls the product made (its request budget), not just its results.
type RequestLog struct {
	mu     sync.Mutex
	counts map[string]int
	total  atomic.Int64
}

// NewRequestLog returns an empty log.
func NewRequestLog() *RequestLog { return &RequestLog{counts: map[string]int{}} }

// Numeric ids and UUIDs are folded so /Companies/12 and /Companies/13 count as one endpoint.
var idSegment = regexp.MustCompile(`^(-?[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$`)

// Endpoint is the key a request is counted under: method and path with ids folded to {id}.
func Endpoint(r *http.Request) string {
	segs := strings.Split(r.URL.Path, "/")
	for i, s := range segs {
		// The version in /api/2/... is part of the endpoint, not an id.
		if i > 0 && strings.EqualFold(segs[i-1], "api") {
			continue
		}
		if idSegment.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	return r.Method + " " + strings.Join(segs, "/")
}

// Middleware counts every request that reaches it.
func (l *RequestLog) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.total.Add(1)
		key := Endpoint(r)
		l.mu.Lock()
		l.counts[key]++
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Total is the number of requests seen.
func (l *RequestLog) Total() int64 { return l.total.Load() }

// Count is the number of requests seen for one endpoint key (see Endpoint).
func (l *RequestLog) Count(endpoint string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[endpoint]
}

// EndpointCount is one row of Snapshot.
type EndpointCount struct {
	Endpoint string `json:"endpoint"`
	Count    int    `json:"count"`
}

// Snapshot lists the counts, busiest first.
func (l *RequestLog) Snapshot() []EndpointCount {
	l.mu.Lock()
	out := make([]EndpointCount, 0, len(l.counts))
	for k, v := range l.counts {
		out = append(out, EndpointCount{k, v})
	}
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Endpoint < out[j].Endpoint
	})
	return out
}

// Reset clears all counts.
func (l *RequestLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts = map[string]int{}
	l.total.Store(0)
}

package autotask

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// budget keeps the client under Autotask's two limits: requests per rolling
// hour (a token bucket whose burst plus one hour of refill equals the limit, so
// no 60-minute window can exceed it) and concurrent requests per endpoint.
type budget struct {
	hourly   *rate.Limiter
	perEP    int
	mu       sync.Mutex
	sems     map[string]chan struct{}
	pausedTo map[string]time.Time // endpoint → no requests before (after a 429)
}

func newBudget(hourlyLimit, perEndpoint int) *budget {
	// A tenth of the hour may be spent at once (an alert storm's tickets),
	// the rest is earned evenly; either way no rolling hour exceeds the limit.
	burst := max(hourlyLimit/10, 1)
	refill := float64(hourlyLimit-burst) / 3600
	return &budget{
		hourly:   rate.NewLimiter(rate.Limit(refill), burst),
		perEP:    perEndpoint,
		sems:     map[string]chan struct{}{},
		pausedTo: map[string]time.Time{},
	}
}

// acquire waits for an hourly token and a slot on endpoint; release frees the slot.
func (b *budget) acquire(ctx context.Context, endpoint string) (release func(), err error) {
	if err := b.waitPause(ctx, endpoint); err != nil {
		return nil, &budgetError{err}
	}
	b.mu.Lock()
	sem, ok := b.sems[endpoint]
	if !ok {
		sem = make(chan struct{}, b.perEP)
		b.sems[endpoint] = sem
	}
	b.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("autotask: waiting for a %s slot: %w", endpoint, ctx.Err())
	}
	if err := b.waitToken(ctx); err != nil {
		<-sem
		return nil, &budgetError{err}
	}
	return func() { <-sem }, nil
}

// waitToken waits for an hourly token. When the wait would outlast ctx it
// fails at once with a Throttled error whose RetryAfter says when a token is
// due, so a Temporal activity can reschedule instead of blocking.
func (b *budget) waitToken(ctx context.Context) error {
	r := b.hourly.Reserve()
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && time.Now().Add(d).After(deadline) {
		r.Cancel()
		return &Error{Kind: KindThrottled, RetryAfter: d, Messages: []string{"client-side hourly request budget exhausted for now"}}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return fmt.Errorf("autotask: waiting for the hourly request budget: %w", ctx.Err())
	}
}

// waitPause waits out a pause of endpoint or of all endpoints (key ""); a
// pause outlasting ctx fails at once with a Throttled error.
func (b *budget) waitPause(ctx context.Context, endpoint string) error {
	b.mu.Lock()
	until := b.pausedTo[endpoint]
	if all := b.pausedTo[""]; all.After(until) {
		until = all
	}
	b.mu.Unlock()
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && until.After(deadline) {
		return &Error{Kind: KindThrottled, RetryAfter: d, Messages: []string{"Autotask asked to wait before the next request"}}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("autotask: waiting out a throttle on %s: %w", endpoint, ctx.Err())
	}
}

// pause holds every request to endpoint ("" for all) back for d (after a 429 / Retry-After).
func (b *budget) pause(endpoint string, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := time.Now().Add(d); until.After(b.pausedTo[endpoint]) {
		b.pausedTo[endpoint] = until
	}
}

// endpointOf is the limiter key of a path below the version: its first
// segment ("Companies", "Tickets"), since Autotask limits threads per object endpoint.
func endpointOf(path string) string {
	p := strings.Trim(path, "/")
	if i := strings.Index(strings.ToLower(p), "v1.0/"); i >= 0 {
		p = p[i+len("v1.0/"):]
	}
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return strings.ToLower(p)
}

// Stats are the client's counters, for metrics.
type Stats struct {
	// Requests is every HTTP request sent, retries included.
	Requests int64
	// Retries is the subset of Requests that repeated an earlier attempt.
	Retries int64
	// Throttled counts 429 / thread-limit answers.
	Throttled int64
	// Failures counts calls that returned an error to the caller.
	Failures int64
}

type counters struct {
	requests, retries, throttled, failures atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Throttled: c.throttled.Load(), Failures: c.failures.Load()}
}

// clampTo drops local tokens above what the server says is left of the hour.
func (b *budget) clampTo(remaining int) {
	now := time.Now()
	excess := int(b.hourly.TokensAt(now)) - remaining
	if excess > 0 {
		b.hourly.ReserveN(now, min(excess, b.hourly.Burst()))
	}
}

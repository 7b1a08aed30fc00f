package autotask

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Priority orders the callers of one Autotask database when its hourly budget
// runs short: each priority leaves a share of the bucket's burst to the ones
// above it, so ticket work still gets through while billing and scans wait.
// The zero value is the highest priority.
type Priority int

const (
	// PriorityTickets is alert-ticket work (and the budget's own
	// ThresholdInformation reads): it may take the bucket down to empty.
	PriorityTickets Priority = iota
	// PriorityBilling is provisioning and usage adjustments: it leaves a
	// quarter of the burst for tickets.
	PriorityBilling
	// PriorityScan is periodic syncs and reads for the REST API or a console:
	// it leaves half of the burst for the priorities above.
	PriorityScan
)

// String names the priority for logs and metrics.
func (p Priority) String() string {
	switch p {
	case PriorityTickets:
		return "tickets"
	case PriorityBilling:
		return "billing"
	default:
		return "scan"
	}
}

// ReserveShare is the part of the bucket's burst a caller of priority p may
// not take.
func (p Priority) ReserveShare() float64 {
	switch p {
	case PriorityTickets:
		return 0
	case PriorityBilling:
		return 0.25
	default:
		return 0.5
	}
}

// Grant is a Limiter's answer to Take.
type Grant struct {
	// Tokens is how many requests the caller may send (0 to n).
	Tokens int
	// Wait is, when Tokens is 0, how long until enough tokens have refilled.
	Wait time.Duration
	// CheckThreshold tells this caller (one in the fleet per interval) to read
	// ThresholdInformation and Observe it.
	CheckThreshold bool
}

// BudgetStatus is a Limiter's state, for metrics and schedulers.
type BudgetStatus struct {
	// Tokens is what the bucket holds now.
	Tokens float64
	// Allowance is the requests per hour this integration may make: the
	// configured budget, lowered to Autotask's threshold less what other
	// integrations used, as last observed.
	Allowance float64
	// Others is what other integrations used of Autotask's current timeframe
	// at the last observation.
	Others int
}

// Limiter is the request budget of one Autotask database, shared by every
// client that calls it: a token bucket whose burst plus one hour of refill is
// the hourly allowance (so no rolling hour exceeds it), and the thread limit
// of each endpoint. NewMemoryLimiter serves one process; a limiter kept in
// PostgreSQL (store.AutotaskLimiter) serves a fleet.
type Limiter interface {
	// Take grants up to n tokens to a caller of priority p without taking the
	// bucket below p's reserve; when it grants none, Wait says when to ask again.
	Take(ctx context.Context, n int, p Priority) (Grant, error)
	// Lease holds one of the endpoint's threads until release is called; ok is
	// false, without waiting, when all are held.
	Lease(ctx context.Context, endpoint string) (release func(), ok bool, err error)
	// Observe follows Autotask's own count: own is the requests this limiter
	// granted during t's timeframe, so the rest were other integrations'.
	Observe(ctx context.Context, t ThresholdInfo) error
	// Status reports the bucket.
	Status(ctx context.Context) (BudgetStatus, error)
}

// BucketFor is the burst and refill (tokens per second) of an hourly
// allowance: a tenth of it may be spent at once (an alert storm's tickets),
// the rest is earned evenly; either way no rolling hour exceeds it.
func BucketFor(allowance float64) (capacity, perSecond float64) {
	if allowance < 1 {
		return 0, 0
	}
	capacity = max(1, math.Floor(allowance/10))
	return capacity, (allowance - capacity) / 3600
}

// Reserve is how many tokens of a bucket of capacity a caller of priority p
// must leave; it always lets a lone token through, so no priority starves.
func Reserve(capacity float64, p Priority) float64 {
	return max(0, min(p.ReserveShare()*capacity, capacity-1))
}

// Allowance is the hourly allowance after an observation: the configured
// budget, or less when that is more than Autotask's threshold leaves after
// what others used (the count less own, this integration's requests in the
// timeframe).
func Allowance(configured int, t ThresholdInfo, own int) (allowance float64, others int) {
	others = max(0, t.CurrentTimeframeRequestCount-own)
	limit := configured
	if t.ExternalRequestThreshold > 0 {
		limit = min(limit, t.ExternalRequestThreshold-others)
	}
	return float64(max(0, limit)), others
}

// TimeframeOf is the window ThresholdInformation counts over (60 minutes
// when Autotask does not say).
func TimeframeOf(t ThresholdInfo) time.Duration {
	if t.RequestThresholdTimeframe > 0 {
		return time.Duration(t.RequestThresholdTimeframe) * time.Minute
	}
	return time.Hour
}

// noRefillWait is the wait reported by a bucket that refills nothing (other
// integrations used the whole hour): ask again after the next observation.
const noRefillWait = 5 * time.Minute

// localTokenLife bounds how long tokens taken in a batch stay usable: an
// unused one is dropped rather than spent late, so a rolling hour exceeds the
// allowance by at most this much refill.
const localTokenLife = 5 * time.Second

// budget is a client's way through its Limiter: it pauses endpoints after a
// 429, caps in-flight requests per endpoint in-process (so a process does not
// poll the limiter for leases it cannot get), and spends tokens taken in
// small batches.
type budget struct {
	limiter Limiter
	batch   int
	perEP   int
	// onDue reads ThresholdInformation; it runs in its own goroutine.
	onDue func()

	mu       sync.Mutex
	sems     map[string]chan struct{}
	pausedTo map[string]time.Time // endpoint ("" all) → no requests before (after a 429)
	held     map[Priority]heldTokens
}

type heldTokens struct {
	n     int
	until time.Time
}

func newBudget(l Limiter, batch, perEndpoint int) *budget {
	return &budget{
		limiter:  l,
		batch:    max(1, batch),
		perEP:    perEndpoint,
		sems:     map[string]chan struct{}{},
		pausedTo: map[string]time.Time{},
		held:     map[Priority]heldTokens{},
	}
}

// acquire waits for an hourly token and a thread of endpoint; release frees the thread.
func (b *budget) acquire(ctx context.Context, endpoint string, p Priority) (release func(), err error) {
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
	if err := b.waitToken(ctx, p); err != nil {
		<-sem
		return nil, &budgetError{err}
	}
	leave, err := b.waitLease(ctx, endpoint)
	if err != nil {
		<-sem
		return nil, &budgetError{err}
	}
	return func() { leave(); <-sem }, nil
}

// waitToken spends a held token or takes a batch from the limiter. When the
// wait would outlast ctx it fails at once with a Throttled error whose
// RetryAfter says when a token is due, so a Temporal activity can reschedule
// instead of blocking.
func (b *budget) waitToken(ctx context.Context, p Priority) error {
	for {
		now := time.Now()
		b.mu.Lock()
		if h := b.held[p]; h.n > 0 && now.Before(h.until) {
			h.n--
			b.held[p] = h
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		g, err := b.limiter.Take(ctx, b.batch, p)
		if err != nil {
			return fmt.Errorf("autotask: request budget: %w", err)
		}
		if g.CheckThreshold && b.onDue != nil {
			go b.onDue()
		}
		if g.Tokens > 0 {
			if g.Tokens > 1 {
				b.mu.Lock()
				h := b.held[p]
				if now.After(h.until) {
					h.n = 0
				}
				b.held[p] = heldTokens{n: h.n + g.Tokens - 1, until: now.Add(localTokenLife)}
				b.mu.Unlock()
			}
			return nil
		}
		d := g.Wait
		if deadline, ok := ctx.Deadline(); ok && now.Add(d).After(deadline) {
			return &Error{Kind: KindThrottled, RetryAfter: d, Messages: []string{"the integration's hourly request budget is spent for now"}}
		}
		// Wake up early now and then: another process's observation may have
		// changed the bucket.
		if err := sleep(ctx, min(d, 5*time.Second)); err != nil {
			return fmt.Errorf("autotask: waiting for the hourly request budget: %w", err)
		}
	}
}

// waitLease polls the limiter for one of endpoint's threads.
func (b *budget) waitLease(ctx context.Context, endpoint string) (func(), error) {
	for {
		release, ok, err := b.limiter.Lease(ctx, endpoint)
		if err != nil {
			return nil, fmt.Errorf("autotask: thread lease on %s: %w", endpoint, err)
		}
		if ok {
			return release, nil
		}
		if err := sleep(ctx, 20*time.Millisecond+rand.N(60*time.Millisecond)); err != nil {
			return nil, fmt.Errorf("autotask: waiting for a %s thread: %w", endpoint, err)
		}
	}
}

// observe drops the tokens this process holds and hands Autotask's count to the limiter.
func (b *budget) observe(ctx context.Context, t ThresholdInfo) error {
	b.mu.Lock()
	clear(b.held)
	b.mu.Unlock()
	return b.limiter.Observe(ctx, t)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
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
	if err := sleep(ctx, d); err != nil {
		return fmt.Errorf("autotask: waiting out a throttle on %s: %w", endpoint, err)
	}
	return nil
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
	// CacheHits counts console reads answered from the cache.
	CacheHits int64
}

type counters struct {
	requests, retries, throttled, failures, cacheHits atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Throttled: c.throttled.Load(),
		Failures: c.failures.Load(), CacheHits: c.cacheHits.Load()}
}

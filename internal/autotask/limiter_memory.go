package autotask

import (
	"context"
	"sync"
	"time"
)

// MemoryLimiter is a Limiter for one process: enough for a single binary
// that runs both the server and the worker, and for tests. A fleet shares a
// limiter kept in PostgreSQL instead.
type MemoryLimiter struct {
	configured int
	threads    int
	checkEvery time.Duration
	now        func() time.Time

	mu        sync.Mutex
	capacity  float64
	perSecond float64
	tokens    float64
	at        time.Time
	allowance float64
	others    int
	checked   time.Time
	leases    map[string]int
	granted   map[int64]int // unix minute → tokens granted, for Observe
}

// NewMemoryLimiter keeps hourly requests per rolling hour and threads
// requests in flight per endpoint; ThresholdInformation is due every checkEvery
// (0: never).
func NewMemoryLimiter(hourly, threads int, checkEvery time.Duration) *MemoryLimiter {
	l := &MemoryLimiter{configured: hourly, threads: threads, checkEvery: checkEvery, now: time.Now,
		leases: map[string]int{}, granted: map[int64]int{}}
	l.allowance = float64(hourly)
	l.capacity, l.perSecond = BucketFor(l.allowance)
	l.tokens, l.at, l.checked = l.capacity, l.now(), l.now()
	return l
}

// refill brings the bucket up to now; l.mu is held.
func (l *MemoryLimiter) refill(now time.Time) {
	if el := now.Sub(l.at).Seconds(); el > 0 {
		l.tokens = min(l.capacity, l.tokens+el*l.perSecond)
	}
	l.at = now
}

// Take implements Limiter.
func (l *MemoryLimiter) Take(_ context.Context, n int, p Priority) (Grant, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.refill(now)
	var g Grant
	if l.checkEvery > 0 && now.Sub(l.checked) >= l.checkEvery {
		l.checked, g.CheckThreshold = now, true
	}
	reserve := Reserve(l.capacity, p)
	if free := int(l.tokens - reserve); free >= 1 {
		g.Tokens = min(n, free)
		l.tokens -= float64(g.Tokens)
		l.granted[now.Unix()/60] += g.Tokens
		return g, nil
	}
	if l.perSecond <= 0 {
		g.Wait = noRefillWait
	} else {
		g.Wait = time.Duration((reserve + 1 - l.tokens) / l.perSecond * float64(time.Second))
	}
	return g, nil
}

// Lease implements Limiter.
func (l *MemoryLimiter) Lease(_ context.Context, endpoint string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leases[endpoint] >= l.threads {
		return nil, false, nil
	}
	l.leases[endpoint]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.leases[endpoint]--
			l.mu.Unlock()
		})
	}, true, nil
}

// Observe implements Limiter.
func (l *MemoryLimiter) Observe(_ context.Context, t ThresholdInfo) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.refill(now)
	since := now.Add(-TimeframeOf(t)).Unix() / 60
	own := 0
	for m, n := range l.granted {
		if m < since {
			delete(l.granted, m)
			continue
		}
		own += n
	}
	l.allowance, l.others = Allowance(l.configured, t, own)
	l.capacity, l.perSecond = BucketFor(l.allowance)
	l.tokens = max(0, min(l.tokens, l.capacity, float64(t.Remaining())))
	l.checked = now
	return nil
}

// Status implements Limiter.
func (l *MemoryLimiter) Status(context.Context) (BudgetStatus, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill(l.now())
	return BudgetStatus{Tokens: l.tokens, Allowance: l.allowance, Others: l.others}, nil
}

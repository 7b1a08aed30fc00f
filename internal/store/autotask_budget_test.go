package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func budgetConfig(hourly int) store.BudgetConfig {
	return store.BudgetConfig{Username: "API@example.com", IntegrationCode: "CODE", Hourly: hourly, Threads: 3, CheckEvery: time.Hour}
}

// takeAll takes tokens one batch at a time until the bucket refuses.
func takeAll(t *testing.T, l autotask.Limiter, p autotask.Priority) int {
	t.Helper()
	total := 0
	for range 1000 {
		g, err := l.Take(testContext(t), 4, p)
		if err != nil {
			t.Fatal(err)
		}
		if g.Tokens == 0 {
			if g.Wait <= 0 {
				t.Errorf("refusal without a wait: %+v", g)
			}
			return total
		}
		total += g.Tokens
	}
	t.Fatal("the bucket never ran dry")
	return 0
}

func TestAutotaskLimiter_ProcessesShareOneBucket(t *testing.T) {
	st := testenv.MustOpenDB(t)
	// Three processes (three limiters on one database) of a 600/h budget: a burst of 60 together.
	var ls []*store.AutotaskLimiter
	for range 3 {
		l, err := st.AutotaskLimiter(testContext(t), budgetConfig(600))
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	for _, l := range ls {
		for range 4 {
			wg.Go(func() {
				for {
					g, err := l.Take(testContext(t), 3, autotask.PriorityTickets)
					if err != nil {
						t.Error(err)
						return
					}
					if g.Tokens == 0 {
						return
					}
					total.Add(int64(g.Tokens))
				}
			})
		}
	}
	wg.Wait()
	// 60 plus what refilled during the test (0.15 per second).
	if got := total.Load(); got < 60 || got > 62 {
		t.Errorf("tokens granted to 12 takers of 3 processes = %d, want 60 (the one burst)", got)
	}
	// A new limiter (a restart, or a credential change) takes from the same row.
	l, err := st.AutotaskLimiter(testContext(t), store.BudgetConfig{Username: "api@EXAMPLE.com ", IntegrationCode: "NEW", Hourly: 600})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := l.Take(testContext(t), 4, autotask.PriorityTickets); err != nil || g.Tokens != 0 {
		t.Errorf("a new limiter of the same user: %+v, %v; want no tokens", g, err)
	}
}

func TestAutotaskLimiter_PrioritiesKeepAReserveForTickets(t *testing.T) {
	st := testenv.MustOpenDB(t)
	l, err := st.AutotaskLimiter(testContext(t), budgetConfig(400)) // burst 40
	if err != nil {
		t.Fatal(err)
	}
	scans := takeAll(t, l, autotask.PriorityScan)
	billing := takeAll(t, l, autotask.PriorityBilling)
	tickets := takeAll(t, l, autotask.PriorityTickets)
	if scans != 20 || billing != 10 || tickets != 10 {
		t.Errorf("scans %d, billing %d, tickets %d from a burst of 40; want 20, 10, 10", scans, billing, tickets)
	}
}

func TestAutotaskLimiter_ObserveShrinksTheAllowanceByOthersUse(t *testing.T) {
	st := testenv.MustOpenDB(t)
	l, err := st.AutotaskLimiter(testContext(t), budgetConfig(1000)) // burst 100
	if err != nil {
		t.Fatal(err)
	}
	own := takeAll(t, l, autotask.PriorityTickets)
	// Autotask counts 900 in the hour: the fleet's 100 and 800 of another integration.
	if err := l.Observe(testContext(t), autotask.ThresholdInfo{ExternalRequestThreshold: 1000, RequestThresholdTimeframe: 60, CurrentTimeframeRequestCount: own + 800}); err != nil {
		t.Fatal(err)
	}
	s, err := l.Status(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.Others != 800 || s.Allowance != 200 {
		t.Errorf("after the observation: others %d, allowance %.0f; want 800 and 200", s.Others, s.Allowance)
	}
	if s.Tokens > 1 {
		t.Errorf("tokens = %.1f, want the spent bucket to stay spent", s.Tokens)
	}
	// A 200/h allowance refills (200-20)/3600 per second: a token in 20 s.
	g, err := l.Take(testContext(t), 1, autotask.PriorityTickets)
	if err != nil {
		t.Fatal(err)
	}
	if g.Tokens != 0 || g.Wait < 15*time.Second || g.Wait > 21*time.Second {
		t.Errorf("Take after the observation = %+v, want a wait of about 20 s", g)
	}
	// The bucket never holds more than Autotask says is left.
	l2, err := st.AutotaskLimiter(testContext(t), store.BudgetConfig{Username: "other@example.com", IntegrationCode: "X", Hourly: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Observe(testContext(t), autotask.ThresholdInfo{ExternalRequestThreshold: 1000, CurrentTimeframeRequestCount: 995}); err != nil {
		t.Fatal(err)
	}
	if got := takeAll(t, l2, autotask.PriorityTickets); got != 1 {
		t.Errorf("tokens granted with 5 left (a 5/h allowance) = %d, want its burst of 1", got)
	}
	if err := l2.Observe(testContext(t), autotask.ThresholdInfo{ExternalRequestThreshold: 1000, CurrentTimeframeRequestCount: 1000}); err != nil {
		t.Fatal(err)
	}
	g, err = l2.Take(testContext(t), 1, autotask.PriorityTickets)
	if err != nil || g.Tokens != 0 || g.Wait < time.Minute {
		t.Errorf("Take with nothing left = %+v, %v; want none and a wait until the next observation", g, err)
	}
}

func TestAutotaskLimiter_OneProcessPerIntervalReadsThresholdInformation(t *testing.T) {
	st := testenv.MustOpenDB(t)
	cfg := budgetConfig(1000)
	cfg.CheckEvery = time.Hour
	var claims atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		l, err := st.AutotaskLimiter(testContext(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			wg.Go(func() {
				for range 5 {
					g, err := l.Take(testContext(t), 1, autotask.PriorityTickets)
					if err != nil {
						t.Error(err)
						return
					}
					if g.CheckThreshold {
						claims.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	if got := claims.Load(); got != 1 {
		t.Errorf("ThresholdInformation reads claimed by 45 takes = %d, want 1", got)
	}
}

func TestAutotaskLimiter_LeasesHoldTheThreadLimitForTheFleet(t *testing.T) {
	st := testenv.MustOpenDB(t)
	cfg := budgetConfig(1000)
	cfg.LeaseTTL = time.Second
	a, err := st.AutotaskLimiter(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.AutotaskLimiter(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var releases []func()
	for i, l := range []*store.AutotaskLimiter{a, b, a, b, a} {
		rel, ok, err := l.Lease(testContext(t), "tickets")
		if err != nil {
			t.Fatal(err)
		}
		if ok != (i < 3) {
			t.Errorf("lease %d: ok = %v, want %v (3 threads per endpoint for the fleet)", i+1, ok, i < 3)
		}
		if ok {
			releases = append(releases, rel)
		}
	}
	if _, ok, _ := a.Lease(testContext(t), "companies"); !ok {
		t.Error("another endpoint has threads of its own")
	}
	releases[0]()
	if _, ok, _ := b.Lease(testContext(t), "tickets"); !ok {
		t.Error("a released thread is free again")
	}
	// Leases of a process that died expire.
	time.Sleep(1100 * time.Millisecond)
	if _, ok, _ := b.Lease(testContext(t), "tickets"); !ok {
		t.Error("an expired lease is free again")
	}
}

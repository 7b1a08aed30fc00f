package autotask_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

func TestRetry_HonoursRetryAfterOn429(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	e.sb.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/companies", ErrorRate: 1, Status: 429, RetryAfter: 1, Times: 1})
	start := time.Now()
	c, err := autotask.Get[autotask.Company](ctx(t), e.client, 101)
	elapsed := time.Since(start)
	if err != nil || c.ID != 101 {
		t.Fatalf("Get after one 429 = %v, %v; want company 101", c, err)
	}
	if elapsed < time.Second {
		t.Errorf("retried after %s, want at least the 1 s Retry-After", elapsed)
	}
	st := e.client.Stats()
	if st.Throttled != 1 || st.Retries != 1 || st.Requests != 3 { // zone lookup + 2 attempts
		t.Errorf("stats = %+v, want Throttled 1, Retries 1, Requests 3", st)
	}
}

func TestRetry_GivesUpAfterMaxRetriesWithRetryAfter(t *testing.T) {
	e := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.MaxRetries = -1 })
	e.sb.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/companies", ErrorRate: 1, Status: 429, RetryAfter: 7})
	_, err := autotask.Get[autotask.Company](ctx(t), e.client, 101)
	if !autotask.IsThrottled(err) {
		t.Fatalf("error = %v, want Throttled", err)
	}
	if d, ok := autotask.RetryAfter(err); !ok || d != 7*time.Second {
		t.Errorf("RetryAfter = %s, %v; want 7s", d, ok)
	}
	if !errors.Is(err, autotask.ErrThrottled) || !autotask.IsRetryable(err) {
		t.Errorf("errors.Is(ErrThrottled) / IsRetryable false for %v", err)
	}
}

func TestRetry_ReadsRetry5xxButWritesDoNot(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	e.sb.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/companies", ErrorRate: 1, Status: 502, Times: 2})
	if _, err := autotask.Get[autotask.Company](ctx(t), e.client, 101); err != nil {
		t.Fatalf("Get after two 502s: %v", err)
	}
	if got := e.client.Stats().Retries; got != 2 {
		t.Errorf("retries = %d, want 2", got)
	}
	// A lost answer on a write: applied in the sandbox, not retried by the client.
	e.sb.Faults().Add(sandbox.Rule{Method: "POST", PathPrefix: "/atservicesrest/v1.0/tickets", DropRate: 1, Times: 1})
	_, err := e.client.CreateTicket(ctx(t), autotask.Ticket{CompanyID: 101, Title: "t", Status: 1, Priority: 2, ExternalID: "drop-1"})
	if !autotask.IsServer(err) {
		t.Fatalf("CreateTicket with a lost answer: error = %v, want Server", err)
	}
	if n := len(e.sb.TicketsByExternalID("drop-1")); n != 1 {
		t.Errorf("tickets created = %d, want 1 (applied once, not retried)", n)
	}
}

func TestBudget_NeverExceedsTheHourlyLimit(t *testing.T) {
	// 40 per hour → the client may burst 4 and then earns one request per 100 s.
	e := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.HourlyLimit = 40 })
	var ok, refused int
	for range 6 {
		c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := autotask.Get[autotask.Company](c, e.client, 101)
		cancel()
		switch {
		case err == nil:
			ok++
		case autotask.IsThrottled(err):
			refused++
			if d, has := autotask.RetryAfter(err); !has || d < time.Minute {
				t.Errorf("local budget refusal RetryAfter = %s, %v; want about 100 s", d, has)
			}
		default:
			t.Errorf("refusal error = %v, want Throttled", err)
		}
	}
	if ok != 4 || refused != 2 {
		t.Errorf("allowed %d, refused %d; want 4 and 2 (burst of 4 within 40/h)", ok, refused)
	}
	if got := e.sb.RequestLog().Total(); got != 5 { // zone lookup + 4
		t.Errorf("requests reaching Autotask = %d, want 5", got)
	}
}

func TestBudget_SandboxHourlyLimitAnswers429WithRetryAfter(t *testing.T) {
	e := newEnv(t, atsandbox.Options{HourlyLimit: 3})
	for i := range 3 {
		if _, err := autotask.Get[autotask.Company](ctx(t), e.client, 101); err != nil {
			t.Fatalf("request %d within the limit: %v", i+1, err)
		}
	}
	_, err := autotask.Get[autotask.Company](ctx(t), e.client, 101)
	if !autotask.IsThrottled(err) {
		t.Fatalf("request past the hourly limit: error = %v, want Throttled", err)
	}
	if d, ok := autotask.RetryAfter(err); !ok || d < 59*time.Minute {
		t.Errorf("RetryAfter = %s, %v; want about an hour (the oldest request leaves the window)", d, ok)
	}
	if got := e.client.Stats().Retries; got != 0 {
		t.Errorf("retries = %d, want 0 (an hour-long Retry-After is the caller's to schedule)", got)
	}
	// Every endpoint is now held back locally: no request reaches Autotask.
	sent := e.sb.RequestLog().Total()
	_, err = autotask.QueryAll[autotask.Contract](ctx(t), e.client, autotask.All())
	if !autotask.IsThrottled(err) {
		t.Errorf("query on another endpoint during the pause: error = %v, want Throttled", err)
	}
	if got := e.sb.RequestLog().Total(); got != sent {
		t.Errorf("requests sent during the pause = %d, want 0", got-sent)
	}
}

func TestBudget_ConcurrencyStaysWithinTheThreadLimit(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	e.sb.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/companies", Latency: 30 * time.Millisecond})
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Go(func() {
			_, err := autotask.Get[autotask.Company](ctx(t), e.client, 101)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Get: %v", err)
		}
	}
	if got := e.client.Stats().Throttled; got != 0 {
		t.Errorf("thread-limit 429s = %d, want 0 (client caps at %d per endpoint)", got, atsandbox.ThreadLimit)
	}
}

func TestBudget_SandboxRefusesAFourthThread(t *testing.T) {
	e := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.MaxConcurrentPerEndpoint = 8; c.MaxRetries = -1 })
	e.sb.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/companies", Latency: 100 * time.Millisecond})
	var wg sync.WaitGroup
	var mu sync.Mutex
	throttled := 0
	for range 8 {
		wg.Go(func() {
			_, err := autotask.Get[autotask.Company](ctx(t), e.client, 101)
			if autotask.IsThrottled(err) {
				mu.Lock()
				throttled++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if throttled == 0 {
		t.Errorf("8 concurrent requests to one endpoint: none throttled, want the sandbox to refuse those beyond %d", atsandbox.ThreadLimit)
	}
}

func TestBudget_ThresholdInformationShrinksTheLocalAllowance(t *testing.T) {
	// Another integration has used 1,990 of the database's 2,000 requests.
	e := newEnv(t, atsandbox.Options{HourlyLimit: 2000}, func(c *autotask.Config) { c.HourlyLimit = 2000 })
	other := e.srv.Client()
	for range 1990 {
		req, _ := http.NewRequest("GET", e.srv.URL+"/atservicesrest/v1.0/ThresholdInformation", nil)
		req.Header.Set("ApiIntegrationCode", atsandbox.DefaultIntegrationCode)
		req.Header.Set("UserName", atsandbox.DefaultUsername)
		req.Header.Set("Secret", atsandbox.DefaultSecret)
		resp, err := other.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	th, err := e.client.Threshold(ctx(t))
	if err != nil {
		t.Fatalf("Threshold: %v", err)
	}
	if th.Remaining() != 9 {
		t.Fatalf("Remaining() = %d, want 9", th.Remaining())
	}
	// The others used 1,990 (all but the client's own request): the client's
	// hourly allowance shrinks to the 10 left, a burst of 1 then one per 400 s.
	st, err := e.client.Budget(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Others != 1990 || st.Allowance != 10 {
		t.Errorf("after the threshold read: others %d, allowance %.0f; want 1990 and 10", st.Others, st.Allowance)
	}
	ok := 0
	for range 20 {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if _, err := autotask.Get[autotask.Company](c, e.client, 101); err == nil {
			ok++
		}
		cancel()
	}
	if ok != 1 {
		t.Errorf("requests allowed after the threshold read = %d, want 1 (the burst of a 10/h allowance)", ok)
	}
}

func TestBudget_TicketsGoFirstWhenTheBudgetIsShort(t *testing.T) {
	// 200/h: a burst of 20. Scans leave half of it, billing a quarter.
	e := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.HourlyLimit = 200 })
	count := func(p autotask.Priority) int {
		n := 0
		for range 25 {
			c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := autotask.Get[autotask.Company](c, e.client.WithPriority(p), 101)
			cancel()
			if err == nil {
				n++
			} else if !autotask.IsThrottled(err) {
				t.Fatalf("priority %s: %v", p, err)
			}
		}
		return n
	}
	scans, billing, tickets := count(autotask.PriorityScan), count(autotask.PriorityBilling), count(autotask.PriorityTickets)
	if scans != 10 || billing != 5 || tickets != 5 {
		t.Errorf("requests allowed from a burst of 20: scans %d, billing %d, tickets %d; want 10, 5, 5", scans, billing, tickets)
	}
}

func TestBudget_OneLimiterForEveryClientOfTheDatabase(t *testing.T) {
	// Two clients (as after a credential change) share one limiter of 40/h: together a burst of 4.
	lim := autotask.NewMemoryLimiter(40, 3, 0)
	a := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.Limiter = lim })
	b := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.Limiter = lim })
	ok := 0
	for i := range 8 {
		cl := a.client
		if i%2 == 1 {
			cl = b.client
		}
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if _, err := autotask.Get[autotask.Company](c, cl, 101); err == nil {
			ok++
		}
		cancel()
	}
	if ok != 4 {
		t.Errorf("requests allowed to two clients of one limiter = %d, want 4", ok)
	}
}

func TestConsole_CachesReadsAndSpendsAtTheLowestPriority(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	console := e.client.Console()
	before := e.sb.RequestLog().Total()
	for range 5 {
		co, err := autotask.Get[autotask.Company](ctx(t), console, 101)
		if err != nil || co.ID != 101 {
			t.Fatalf("console Get = %+v, %v", co, err)
		}
	}
	if got := e.sb.RequestLog().Total() - before; got != 1 {
		t.Errorf("requests for 5 console reads of one company = %d, want 1", got)
	}
	if got := e.client.Stats().CacheHits; got != 4 {
		t.Errorf("cache hits = %d, want 4", got)
	}
	// Once the budget is spent a console read fails at once as throttled
	// (the REST API's 503) instead of waiting for the refill.
	lim := autotask.NewMemoryLimiter(20, 3, 0) // burst 2, then one per 200 s
	short := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.Limiter = lim })
	var err error
	for i := range 3 {
		start := time.Now()
		_, err = autotask.Get[autotask.Company](ctx(t), short.client.Console(), int64(101+i))
		if i < 1 && err != nil {
			t.Fatalf("console read %d within the budget: %v", i+1, err)
		}
		if took := time.Since(start); took > autotask.ConsoleMaxWait+time.Second {
			t.Errorf("console read %d took %s, want at most about %s", i+1, took, autotask.ConsoleMaxWait)
		}
	}
	if !autotask.IsThrottled(err) {
		t.Errorf("console read past the budget: %v, want Throttled", err)
	}
	// Writes and the worker's reads are never cached.
	if _, err := autotask.Get[autotask.Company](ctx(t), e.client, 101); err != nil {
		t.Fatal(err)
	}
	if got := e.sb.RequestLog().Total() - before; got != 2 {
		t.Errorf("requests after an uncached read = %d, want 2", got)
	}
}

func TestAllowance_FallsWithEachRequest(t *testing.T) {
	e := newEnv(t, atsandbox.Options{}, func(c *autotask.Config) { c.HourlyLimit = 200 }) // burst 20
	before := e.client.Allowance()
	for range 3 {
		if _, err := autotask.Get[autotask.Company](ctx(t), e.client, 101); err != nil {
			t.Fatal(err)
		}
	}
	after := e.client.Allowance()
	if before < 19.9 || after > before-2.9 || after < before-3.1 {
		t.Errorf("Allowance before %.2f after %.2f, want about 20 then 17", before, after)
	}
}

func TestConsole_FreshReadsPastTheCacheAndRefillsIt(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	console := e.client.Console()
	before := e.sb.RequestLog().Total()
	for _, cl := range []*autotask.Client{console, console.Fresh(), console} {
		if _, err := autotask.Get[autotask.Company](ctx(t), cl, 101); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.sb.RequestLog().Total() - before; got != 2 {
		t.Errorf("requests for a read, a fresh read and a read = %d, want 2 (the last from the refilled cache)", got)
	}
}

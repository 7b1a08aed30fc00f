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
	ok := 0
	for range 20 {
		c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		if _, err := autotask.Get[autotask.Company](c, e.client, 101); err == nil {
			ok++
		}
		cancel()
	}
	if ok != 9 {
		t.Errorf("requests allowed after the threshold read = %d, want 9 (what the database has left)", ok)
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

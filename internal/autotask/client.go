// Package autotask is a client for the Autotask PSA REST API v1.0: zone
// discovery, the query language, paging, typed entities, typed errors and a
// request budget that keeps the integration under Autotask's limits.
package autotask

//go:generate sh -c "python3 modelgen.py testdata/autotask-openapi.json && gofmt -w models_gen.go ../sandbox/autotask/models_gen.go"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Client calls one Autotask database. It is safe for concurrent use.
// WithPriority and Console return views of the same client: they share its
// zone, budget, cache and counters and differ only in how they spend.
type Client struct {
	*conn
	priority Priority
	// console marks the view for REST API and console reads: cached, lowest
	// priority, and never waiting long for the budget.
	console bool
	// fresh skips the cached answer (the new one is still cached), for a
	// person who asked to refresh.
	fresh bool
	// gate, when set, receives every write instead of Autotask (shadow mode).
	gate WriteGate
}

// WriteGate takes a write (method, path, body) in place of Autotask; an
// error fails the write.
type WriteGate func(ctx context.Context, method, path string, body any) error

// WithWriteGate is a view of the client whose writes go to g instead of
// Autotask (reads still go to Autotask); created records get placeholder
// ids below zero, which Autotask never uses.
func (c *Client) WithWriteGate(g WriteGate) *Client {
	return &Client{conn: c.conn, priority: c.priority, console: c.console, gate: g}
}

// Gated reports whether writes go to a WriteGate instead of Autotask: the ids
// they answer with are placeholders that must not be kept as Autotask's.
func (c *Client) Gated() bool { return c.gate != nil }

// ConsoleMaxWait is the longest a Console read waits for the budget before it
// fails as throttled (the REST API answers 503 with Retry-After): a person
// waiting on a page is better told to come back than held for minutes.
const ConsoleMaxWait = 2 * time.Second

// conn is what every view of a client shares.
type conn struct {
	cfg    Config
	base   atomic.Pointer[url.URL]  // the zone's REST base including "v1.0/"
	zone   atomic.Pointer[ZoneInfo] // last discovered zone
	budget *budget
	cache  *readCache
	stats  counters
}

// New builds a client: it discovers the zone from the user name unless
// cfg.BaseURL is set.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	batch := cfg.TokenBatch
	if cfg.Limiter == nil {
		// A client of its own keeps to its own budget, one token at a time.
		cfg.Limiter = NewMemoryLimiter(cfg.HourlyLimit, cfg.MaxConcurrentPerEndpoint, cfg.ThresholdEvery)
		batch = 1
	}
	c := &Client{conn: &conn{cfg: cfg, budget: newBudget(cfg.Limiter, batch, cfg.MaxConcurrentPerEndpoint),
		cache: newReadCache(cfg.ConsoleCacheTTL, cfg.ConsoleCacheEntries)}}
	c.budget.onDue = c.refreshThreshold
	if cfg.BaseURL != "" {
		base, err := versionBase(cfg.BaseURL)
		if err != nil {
			return nil, err
		}
		c.base.Store(base)
		c.zone.Store(&ZoneInfo{URL: cfg.BaseURL})
		return c, nil
	}
	if _, err := c.discover(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// discover looks the zone up and switches to it; changed reports a move.
func (c *Client) discover(ctx context.Context) (changed bool, err error) {
	z, err := c.LookupZone(ctx, c.cfg.Username)
	if err != nil {
		return false, fmt.Errorf("autotask: discover zone of %s: %w", c.cfg.Username, err)
	}
	base, err := versionBase(z.URL)
	if err != nil {
		return false, err
	}
	old := c.base.Swap(base)
	c.zone.Store(&z)
	return old != nil && old.String() != base.String(), nil
}

// versionBase turns a zone URL (".../atservicesrest/") into the v1.0 base.
func versionBase(zoneURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(zoneURL))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("autotask: invalid base URL %q", zoneURL)
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(strings.ToLower(p), "/v1.0") {
		p += "/v1.0"
	}
	u.Path = p + "/"
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// Zone is the zone the client talks to (only URL is set when BaseURL was given).
func (c *Client) Zone() ZoneInfo { return *c.zone.Load() }

// BaseURL is the REST base the client calls, ending in "v1.0/".
func (c *Client) BaseURL() string { return c.base.Load().String() }

// WithPriority is a view of the client whose requests spend the shared
// budget at priority p.
func (c *Client) WithPriority(p Priority) *Client {
	return &Client{conn: c.conn, priority: p, console: c.console, fresh: c.fresh, gate: c.gate}
}

// Console is the view for reads made on behalf of the REST API or a console:
// answers are cached for Config.ConsoleCacheTTL and misses spend the budget at
// PriorityScan, so browsing can neither drain the budget nor starve tickets.
func (c *Client) Console() *Client {
	return &Client{conn: c.conn, priority: PriorityScan, console: true, gate: c.gate}
}

// Fresh is the Console view that reads past the cache and caches what it
// reads: a refresh the person asked for costs one request and serves the
// next readers too.
func (c *Client) Fresh() *Client {
	return &Client{conn: c.conn, priority: PriorityScan, console: true, fresh: true, gate: c.gate}
}

// Budget reports the shared budget (bucket, hourly allowance, other
// integrations' use), for metrics and schedulers.
func (c *Client) Budget(ctx context.Context) (BudgetStatus, error) {
	return c.budget.limiter.Status(ctx)
}

// Allowance is how many requests the hourly budget allows right now (it
// refills continuously); 0 when the limiter cannot be read.
func (c *Client) Allowance() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.Budget(ctx)
	if err != nil {
		return 0
	}
	return st.Tokens
}

// refreshThreshold reads ThresholdInformation when the limiter says it is
// this process's turn; failures are logged and the next turn comes anyway.
func (c *Client) refreshThreshold() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.WithPriority(PriorityTickets).Threshold(ctx); err != nil {
		c.cfg.Logger.Warn("autotask: reading ThresholdInformation for the request budget failed", "error", err.Error())
	}
}

// Stats returns the request counters, for metrics.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// String describes the client without its credentials.
func (c *Client) String() string {
	return "autotask.Client{" + c.cfg.String() + " base=" + c.BaseURL() + "}"
}

// request is one logical API call; do may send it several times.
type request struct {
	method string
	path   string // below the version base, e.g. "Companies/query"; or absolute (next pages)
	query  url.Values
	body   any // marshalled once
	// read marks calls that change nothing, so 5xx can be retried safely.
	read bool
}

// do sends r within the budget, retrying 429 (all calls) and 5xx (reads only),
// and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, r request, out any) error {
	err := c.doRaw(ctx, r, out)
	if err != nil {
		c.stats.failures.Add(1)
		return c.scrub(err)
	}
	return nil
}

func (c *Client) doRaw(ctx context.Context, r request, out any) error {
	target, err := c.resolve(r.path, r.query)
	if err != nil {
		return err
	}
	var payload []byte
	if r.body != nil {
		if payload, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("autotask: encode %s %s body: %w", r.method, target.Path, err)
		}
	}
	endpoint := endpointOf(target.Path)
	cacheKey := ""
	if c.console && r.read {
		cacheKey = r.method + " " + target.String() + " " + string(payload)
		if body, ok := c.cache.get(cacheKey); ok && !c.fresh {
			c.stats.cacheHits.Add(1)
			if out == nil {
				return nil
			}
			return json.Unmarshal(body, out)
		}
	}
	backoff := c.cfg.RetryBackoff
	rezoned := false
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.stats.retries.Add(1)
		}
		started := time.Now()
		status, header, body, err := c.send(ctx, endpoint, r.method, target, payload)
		c.cfg.Logger.DebugContext(ctx, "autotask request", "method", r.method, "path", target.Path, "status", status,
			"elapsed", time.Since(started), "attempt", attempt+1)
		var apiErr *Error
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("autotask: %s %s: %w", r.method, target.Path, err)
		case err != nil:
			apiErr = &Error{Kind: KindServer, Method: r.method, Path: target.Path, Err: err}
			var be *budgetError
			if errors.As(err, &be) {
				var ae *Error
				if errors.As(be.err, &ae) {
					ae.Method, ae.Path = r.method, target.Path
					return ae
				}
				return fmt.Errorf("autotask: %s %s: %w", r.method, target.Path, be.err)
			}
		case status >= 200 && status < 300:
			if msgs, ok := DecodeErrors(body); ok && len(msgs) > 0 {
				// A 200 may still carry errors on some calls.
				return &Error{Kind: KindInvalid, Status: status, Method: r.method, Path: target.Path, Messages: msgs}
			}
			if cacheKey != "" {
				c.cache.put(cacheKey, body)
			}
			if out == nil || len(bytes.TrimSpace(body)) == 0 {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return &Error{Kind: KindServer, Status: status, Method: r.method, Path: target.Path, Err: fmt.Errorf("decode answer: %w", err)}
			}
			return nil
		default:
			apiErr = classify(r.method, target.Path, status, header, body)
		}
		if apiErr.Kind == KindUnauthorized && !rezoned && c.cfg.BaseURL == "" && !isAbsolute(r.path) {
			// A database moved to another zone answers 401: look the zone up
			// once more and retry there if it changed.
			rezoned = true
			if moved, err := c.discover(ctx); err == nil && moved {
				if target, err = c.resolve(r.path, r.query); err != nil {
					return err
				}
				c.stats.retries.Add(1)
				attempt--
				continue
			}
		}
		wait, retry := c.retryWait(apiErr, r.read, attempt, &backoff)
		if !retry {
			return apiErr
		}
		if apiErr.Kind == KindThrottled {
			c.budget.pause(endpoint, wait)
		}
		c.cfg.Logger.DebugContext(ctx, "autotask retry", "method", r.method, "path", target.Path, "status", apiErr.Status, "wait", wait, "attempt", attempt+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("autotask: %s %s: gave up waiting to retry: %w", r.method, target.Path, errors.Join(apiErr, ctx.Err()))
		}
	}
}

// retryWait decides whether and how long to wait before retrying.
func (c *Client) retryWait(e *Error, read bool, attempt int, backoff *time.Duration) (time.Duration, bool) {
	if attempt >= c.cfg.MaxRetries {
		return 0, false
	}
	switch e.Kind {
	case KindThrottled:
		// Thread-limit refusals are made before the call runs, so writes retry too.
		w := e.RetryAfter
		if w <= 0 {
			w = c.cfg.DefaultRetryAfter
		}
		if w > c.cfg.MaxRetryWait {
			// The hourly budget is spent: hold every endpoint back and let the
			// caller reschedule rather than block for up to an hour.
			c.budget.pause("", w)
			return 0, false
		}
		return w, true
	case KindServer:
		if !read {
			// A write may have been applied; the caller looks up before retrying.
			return 0, false
		}
		w := e.RetryAfter
		if w <= 0 {
			w = *backoff + time.Duration(rand.Int64N(int64(*backoff)/2+1))
			*backoff *= 2
		}
		return min(w, c.cfg.MaxRetryWait), true
	}
	return 0, false
}

// budgetError marks a failure to get through the client's own limiter.
type budgetError struct{ err error }

func (b *budgetError) Error() string { return b.err.Error() }

// send performs one HTTP exchange within the budget.
func (c *Client) send(ctx context.Context, endpoint, method string, target *url.URL, payload []byte) (int, http.Header, []byte, error) {
	var maxWait time.Duration
	if c.console {
		maxWait = ConsoleMaxWait
	}
	release, err := c.budget.acquire(ctx, endpoint, c.priority, maxWait)
	if err != nil {
		return 0, nil, nil, err
	}
	defer release()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	c.setHeaders(req)
	c.stats.requests.Add(1)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.stats.throttled.Add(1)
	}
	return resp.StatusCode, resp.Header, data, nil
}

func (c *Client) setHeaders(req *http.Request) {
	req.Header.Set("ApiIntegrationCode", c.cfg.IntegrationCode)
	req.Header.Set("UserName", c.cfg.Username)
	req.Header.Set("Secret", c.cfg.Secret)
	req.Header.Set("Accept", "application/json")
	if req.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.ImpersonationResourceID != "" && req.Method != http.MethodGet {
		req.Header.Set("ImpersonationResourceId", c.cfg.ImpersonationResourceID)
	}
}

// resolve makes the absolute URL of a call. Absolute paths (next-page URLs
// from Autotask) must stay on the zone's host so credentials never leave it.
func (c *Client) resolve(path string, q url.Values) (*url.URL, error) {
	var u *url.URL
	base := c.base.Load()
	if isAbsolute(path) {
		abs, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("autotask: invalid next page URL: %w", err)
		}
		if !strings.EqualFold(abs.Host, base.Host) || abs.Scheme != base.Scheme {
			return nil, fmt.Errorf("autotask: refusing to follow %s://%s, which is not the zone %s", abs.Scheme, abs.Host, base.Host)
		}
		u = abs
	} else {
		u = base.JoinPath(path)
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u, nil
}

func isAbsolute(path string) bool {
	return strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://")
}

// scrub removes the credentials from an error's text, should anything echo them.
func (c *Client) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if (c.cfg.Secret == "" || !strings.Contains(msg, c.cfg.Secret)) &&
		(c.cfg.IntegrationCode == "" || !strings.Contains(msg, c.cfg.IntegrationCode)) {
		return err
	}
	return &scrubbedError{msg: strings.NewReplacer(c.cfg.Secret, "[REDACTED]", c.cfg.IntegrationCode, "[REDACTED]").Replace(msg), err: err}
}

// scrubbedError keeps errors.Is/As working while hiding credentials in its text.
type scrubbedError struct {
	msg string
	err error
}

func (s *scrubbedError) Error() string { return s.msg }
func (s *scrubbedError) Unwrap() error { return s.err }

// Package acronis is a client for the Acronis Cyber Cloud Account Management
// API v2 and Alert Manager API v1: OAuth2 client-credentials tokens renewed
// before expiry, tenants, pricing, MFA, services, offering items and quotas,
// storages, usages, users, and alerts, with typed errors, retries that honour
// Retry-After and a client-side rate limit.
package acronis

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

	"golang.org/x/time/rate"
)

// API base paths below the data-center URL.
const (
	AccountPath      = "/api/2"
	AlertManagerPath = "/api/alert_manager/v1"
)

// Client calls one Acronis data center as one API client. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	tokens  *tokens
	limiter *rate.Limiter
	partner string
	stats   counters
}

// New builds a client, fetches a token and looks up the partner tenant (the
// API client's own tenant) unless cfg.PartnerTenantID is set, so a wrong URL or
// credentials fail here, in words.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{
		cfg:     cfg,
		tokens:  newTokens(cfg),
		limiter: rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), cfg.Burst),
		partner: cfg.PartnerTenantID,
	}
	if c.partner == "" {
		ac, err := c.GetAPIClient(ctx, cfg.ClientID)
		if err != nil {
			return nil, fmt.Errorf("acronis: look up the tenant of API client %s: %w", cfg.ClientID, err)
		}
		if ac.TenantID == "" {
			return nil, fmt.Errorf("acronis: API client %s has no tenant_id", cfg.ClientID)
		}
		c.partner = ac.TenantID
	}
	return c, nil
}

// PartnerTenantID is the tenant the API client belongs to: the partner whose
// customers the integration manages.
func (c *Client) PartnerTenantID() string { return c.partner }

// BaseURL is the data-center URL the client calls.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// String describes the client without its credentials.
func (c *Client) String() string { return "acronis.Client{" + c.cfg.String() + "}" }

// Stats are the client's request counters, for metrics.
type Stats struct {
	Requests      int64 // HTTP exchanges sent to the API (token requests excluded)
	Retries       int64 // exchanges that were retries
	Failures      int64 // calls that returned an error
	Throttled     int64 // 429 answers
	Unauthorized  int64 // 401 answers
	TokenRenewals int64 // tokens fetched
}

type counters struct {
	requests, retries, failures, throttled, unauthorized atomic.Int64
}

// Stats returns the request counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:      c.stats.requests.Load(),
		Retries:       c.stats.retries.Load(),
		Failures:      c.stats.failures.Load(),
		Throttled:     c.stats.throttled.Load(),
		Unauthorized:  c.stats.unauthorized.Load(),
		TokenRenewals: c.tokens.renewals.Load(),
	}
}

// call is one logical API call; do may send it several times.
type call struct {
	method string
	path   string // absolute below the data-center URL, e.g. "/api/2/tenants/x"
	query  url.Values
	body   any // marshalled once
	// idempotent marks calls that can be repeated safely after a 5xx or a
	// network error (GET, PUT/DELETE with a version …); 429 is always retried.
	idempotent bool
}

func get(path string, q url.Values) call {
	return call{method: http.MethodGet, path: path, query: q, idempotent: true}
}

// do sends cl, retrying as configured, and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	_, err := c.doStatus(ctx, cl, out)
	return err
}

// doStatus is do that also reports the final 2xx status.
func (c *Client) doStatus(ctx context.Context, cl call, out any) (int, error) {
	status, err := c.send(ctx, cl, out)
	if err != nil {
		c.stats.failures.Add(1)
		return status, c.scrub(err)
	}
	return status, nil
}

func (c *Client) send(ctx context.Context, cl call, out any) (int, error) {
	target := c.cfg.BaseURL + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return 0, fmt.Errorf("acronis: encode %s %s body: %w", cl.method, cl.path, err)
		}
	}
	backoff := c.cfg.RetryBackoff
	renewed := false
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.stats.retries.Add(1)
		}
		tok, err := c.tokens.token(ctx)
		if err != nil {
			// A throttled or failing token endpoint is waited out like any call.
			var te *Error
			if !errors.As(err, &te) {
				return 0, err
			}
			wait, retry := c.retryWait(te, true, attempt, &backoff)
			if !retry {
				return 0, err
			}
			if werr := sleep(ctx, wait); werr != nil {
				return 0, fmt.Errorf("acronis: %s %s: gave up waiting for a token: %w", cl.method, cl.path, errors.Join(err, werr))
			}
			continue
		}
		status, header, body, err := c.exchange(ctx, cl.method, target, tok, payload)
		var apiErr *Error
		var busy *limiterBusy
		switch {
		case errors.As(err, &busy):
			// Our own limit cannot serve the call before the deadline: tell the
			// caller to come back later instead of failing like a server error.
			c.stats.throttled.Add(1)
			return 0, &Error{Kind: KindThrottled, Method: cl.method, Path: cl.path, RetryAfter: busy.wait,
				Message: fmt.Sprintf("the client's rate limit (%g requests/s) is busy for %s", float64(c.limiter.Limit()), busy.wait.Round(time.Second))}
		case err != nil && ctx.Err() != nil:
			return 0, fmt.Errorf("acronis: %s %s: %w", cl.method, cl.path, err)
		case err != nil:
			apiErr = &Error{Kind: KindServer, Method: cl.method, Path: cl.path, Err: err}
		case status >= 200 && status < 300:
			if raw, ok := out.(*[]byte); ok {
				*raw = body // a download (a stored report), kept as sent
				return status, nil
			}
			if out == nil || len(bytes.TrimSpace(body)) == 0 {
				return status, nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return status, &Error{Kind: KindServer, Status: status, Method: cl.method, Path: cl.path, Err: fmt.Errorf("decode answer: %w", err)}
			}
			return status, nil
		default:
			apiErr = DecodeError(status, header, body)
			apiErr.Method, apiErr.Path = cl.method, cl.path
		}
		if apiErr.Kind == KindUnauthorized && !renewed {
			// The token expired early or was revoked: renew once and retry once.
			renewed = true
			c.tokens.invalidate(tok)
			continue
		}
		wait, retry := c.retryWait(apiErr, cl.idempotent, attempt, &backoff)
		if !retry {
			return apiErr.Status, apiErr
		}
		c.cfg.Logger.DebugContext(ctx, "acronis retry", "method", cl.method, "path", cl.path, "status", apiErr.Status, "wait", wait, "attempt", attempt+1)
		if err := sleep(ctx, wait); err != nil {
			return apiErr.Status, fmt.Errorf("acronis: %s %s: gave up waiting to retry: %w", cl.method, cl.path, errors.Join(apiErr, err))
		}
	}
}

// sleep waits d or until ctx ends.
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

// retryWait decides whether and how long to wait before retrying.
func (c *Client) retryWait(e *Error, idempotent bool, attempt int, backoff *time.Duration) (time.Duration, bool) {
	if attempt >= c.cfg.MaxRetries {
		return 0, false
	}
	switch {
	case e.Kind == KindThrottled || e.Status == http.StatusServiceUnavailable:
		// Refused before being processed, so writes retry too.
		w := e.RetryAfter
		if w <= 0 {
			w = c.cfg.DefaultRetryAfter
		}
		return min(w, c.cfg.MaxRetryWait), true
	case e.Kind == KindServer && idempotent:
		w := *backoff + time.Duration(rand.Int64N(int64(*backoff)/2+1))
		*backoff *= 2
		return min(w, c.cfg.MaxRetryWait), true
	}
	return 0, false
}

// limiterBusy reports that the rate limit would only allow the call after the deadline.
type limiterBusy struct{ wait time.Duration }

func (l *limiterBusy) Error() string { return fmt.Sprintf("rate limit busy for %s", l.wait) }

// exchange performs one HTTP exchange within the rate limit. When the limit
// could not let the call through before ctx's deadline it fails at once with
// *limiterBusy, so the work waits elsewhere instead of timing out in the queue.
func (c *Client) exchange(ctx context.Context, method, target, token string, payload []byte) (int, http.Header, []byte, error) {
	r := c.limiter.Reserve()
	if delay := r.Delay(); delay > 0 {
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(delay).After(deadline) {
			r.Cancel()
			return 0, nil, nil, &limiterBusy{wait: delay}
		}
		if err := sleep(ctx, delay); err != nil {
			r.Cancel()
			return 0, nil, nil, fmt.Errorf("rate limit: %w", err)
		}
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
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
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		c.stats.throttled.Add(1)
	case http.StatusUnauthorized:
		c.stats.unauthorized.Add(1)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// scrub removes the secret from an error's text, should anything echo it.
func (c *Client) scrub(err error) error {
	if err == nil || c.cfg.ClientSecret == "" || !strings.Contains(err.Error(), c.cfg.ClientSecret) {
		return err
	}
	return &scrubbedError{msg: strings.ReplaceAll(err.Error(), c.cfg.ClientSecret, "[REDACTED]"), err: err}
}

// scrubbedError keeps errors.Is/As working while hiding the secret in its text.
type scrubbedError struct {
	msg string
	err error
}

// Error is the scrubbed text.
func (s *scrubbedError) Error() string { return s.msg }

// Unwrap exposes the original error for errors.Is/As.
func (s *scrubbedError) Unwrap() error { return s.err }

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }

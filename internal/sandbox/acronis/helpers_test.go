package acronis_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// harness is a sandbox on an httptest server with a raw HTTP client.
type harness struct {
	t     *testing.T
	sb    *acsandbox.Sandbox
	url   string
	clock *clock
	token string
}

func start(t *testing.T, opts acsandbox.Options) *harness {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	sb, err := acsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	h := &harness{t: t, sb: sb, url: srv.URL, clock: clk}
	h.token = h.issueToken()
	return h
}

// issueToken gets a token the way the real client does.
func (h *harness) issueToken() string {
	h.t.Helper()
	res, body := h.tokenRequest(h.sb.ClientID(), h.sb.ClientSecret(), "grant_type=client_credentials")
	if res.StatusCode != 200 {
		h.t.Fatalf("token: status %d body %s", res.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &tok)
	return tok.AccessToken
}

func (h *harness) tokenRequest(id, secret, form string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.url+"/api/2/idp/token", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return h.send(req)
}

func (h *harness) send(req *http.Request) (*http.Response, []byte) {
	h.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// call sends an authenticated API call with an optional JSON body.
func (h *harness) call(method, path string, body any) (int, []byte) {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.url+path, r)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, b := h.send(req)
	return res.StatusCode, b
}

// must calls and requires the status, decoding the answer into a generic value.
func (h *harness) must(method, path string, body any, status int) any {
	h.t.Helper()
	got, b := h.call(method, path, body)
	if got != status {
		h.t.Fatalf("%s %s: status %d body %s, want %d", method, path, got, b, status)
	}
	var v any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			h.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, b)
		}
	}
	return v
}

// control calls an unauthenticated /_sandbox/acronis/ endpoint.
func (h *harness) control(method, path string, body any) (int, []byte) {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.url+acsandbox.ControlPrefix+path, r)
	res, b := h.send(req)
	return res.StatusCode, b
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func items(v any) []any { l, _ := obj(v)["items"].([]any); return l }

func errCode(b []byte) float64 {
	var e struct {
		Error struct {
			Code float64 `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Error.Code
}

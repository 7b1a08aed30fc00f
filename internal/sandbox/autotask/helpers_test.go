package autotask_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask/openapicheck"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

var fixedNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// harness is a sandbox behind an httptest server; every exchange made with
// do is validated against Autotask's OpenAPI document unless raw is used.
type harness struct {
	t    *testing.T
	sb   *atsandbox.Sandbox
	srv  *httptest.Server
	hc   *http.Client // validating
	raw  *http.Client // not validating, for deliberately wrong requests
	base string       // .../ATServicesRest/V1.0/
	now  time.Time
}

func newHarness(t *testing.T, opts atsandbox.Options) *harness {
	t.Helper()
	h := &harness{t: t, now: fixedNow}
	if opts.Now == nil {
		opts.Now = func() time.Time { return h.now }
	}
	sb, err := atsandbox.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.sb = sb
	h.srv = httptest.NewServer(sb.Handler())
	t.Cleanup(h.srv.Close)
	spec, err := openapicheck.Load()
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	h.raw = h.srv.Client()
	h.hc = &http.Client{Transport: spec.Transport(h.srv.Client().Transport, func(err error) { t.Errorf("OpenAPI (SPEC F13): %v", err) })}
	h.base = h.srv.URL + "/ATServicesRest/V1.0/"
	return h
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(r.body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("answer %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (h *harness) request(c *http.Client, method, url string, body any, headers map[string]string) response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			b, _ = json.Marshal(body)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		h.t.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func creds() map[string]string {
	return map[string]string{"ApiIntegrationCode": atsandbox.DefaultIntegrationCode, "UserName": atsandbox.DefaultUsername, "Secret": atsandbox.DefaultSecret}
}

// do sends an authenticated, validated request to a path below V1.0/.
func (h *harness) do(method, path string, body any) response {
	h.t.Helper()
	return h.request(h.hc, method, h.base+path, body, creds())
}

// must200 fails unless the answer is 200.
func (h *harness) must200(r response, what string) response {
	h.t.Helper()
	if r.status != http.StatusOK {
		h.t.Fatalf("%s: HTTP %d %s, want 200", what, r.status, r.body)
	}
	return r
}

func all() map[string]any {
	return map[string]any{"filter": []any{map[string]any{"op": "gte", "field": "id", "value": 0}}}
}

func where(filters ...map[string]any) map[string]any {
	f := make([]any, len(filters))
	for i := range filters {
		f[i] = filters[i]
	}
	return map[string]any{"filter": f}
}

func cond(op, field string, value any) map[string]any {
	return map[string]any{"op": op, "field": field, "value": value}
}

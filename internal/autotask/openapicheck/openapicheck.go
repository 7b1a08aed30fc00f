// Package openapicheck validates Autotask REST exchanges (requests and
// answers) against Autotask's own Swagger 2.0 document, so tests prove that the
// client and the sandbox speak the real API (SPEC F13).
package openapicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// EnvSpec overrides where the Swagger document is read from.
const EnvSpec = "AUTOTASK_OPENAPI_SPEC"

// SpecPath is where the repository keeps Autotask's Swagger, relative to the
// module root (see its README for the source).
const SpecPath = "internal/autotask/testdata/autotask-openapi.json"

// Spec is the converted document with a case-insensitive path index.
type Spec struct {
	doc       *openapi3.T
	templates []template
}

type template struct {
	path string
	segs []string
}

// load caches the parsed document for the whole test binary: parsing 3 MB of
// Swagger takes a second and the document never changes.
var load = sync.OnceValues(func() (*Spec, error) {
	p, err := find()
	if err != nil {
		return nil, err
	}
	return Parse(p)
})

// Load returns the shared, parsed document (read once per process).
func Load() (*Spec, error) { return load() }

// find locates the Swagger document: $AUTOTASK_OPENAPI_SPEC, else SpecPath in
// the module holding the working directory (tests run in their package's
// directory). The search stops at the module root: nothing outside the
// repository is read.
func find() (string, error) {
	if p := os.Getenv(EnvSpec); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("openapicheck: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(SpecPath)), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("openapicheck: no go.mod above the working directory; set %s", EnvSpec)
		}
		dir = parent
	}
}

// Parse reads a Swagger 2.0 file, converts it to OpenAPI 3 and adapts it to
// what the real service does (see relax).
func Parse(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: read %s: %w", path, err)
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(raw, &doc2); err != nil {
		return nil, fmt.Errorf("openapicheck: parse %s: %w", path, err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: convert %s to OpenAPI 3: %w", path, err)
	}
	relax(doc)
	s := &Spec{doc: doc}
	for p := range doc.Paths.Map() {
		s.templates = append(s.templates, template{path: p, segs: strings.Split(strings.Trim(p, "/"), "/")})
	}
	return s, nil
}

// relax adapts the document to documented behaviour it does not declare:
//   - every value may be null (the real API answers null for unset fields);
//   - the untyped "Object" schema (itemId, Filter.value, defaultValue) accepts
//     any JSON type (itemId is a number, Filter.value a scalar or array);
//   - model objects are closed (additionalProperties false), so a misspelt
//     field name fails validation instead of passing silently;
//   - ZoneInformation and VersionInformation need no credential headers
//     (reference §1.2: every client calls them without).
func relax(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		s.Nullable = true
		if s.Type != nil && s.Type.Is("object") && len(s.Properties) == 0 && s.AdditionalProperties.Schema == nil {
			s.Type = nil
		}
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			f := false
			s.AdditionalProperties.Has = &f
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
			for _, resp := range op.Responses.Map() {
				if resp.Value != nil {
					for _, mt := range resp.Value.Content {
						walk(mt.Schema)
					}
				}
			}
		}
	}
	for _, open := range []string{"/V1.0/ZoneInformation", "/VersionInformation"} {
		if item := doc.Paths.Value(open); item != nil && item.Get != nil {
			for _, p := range item.Get.Parameters {
				if p.Value != nil && p.Value.In == "header" {
					p.Value.Required = false
				}
			}
		}
	}
}

// ErrNoRoute is returned for a path the document does not have.
var ErrNoRoute = errors.New("openapicheck: no such path in Autotask's API")

// route maps a request path (any casing, with or without /ATServicesRest) to
// the document's template. Autotask's next-page URLs (/query/next) are absent
// from the document and are checked as the /query they continue.
func (s *Spec) route(method, path string) (*routers.Route, map[string]string, error) {
	p := strings.Trim(path, "/")
	if i := strings.Index(strings.ToLower(p), "atservicesrest/"); i >= 0 {
		p = p[i+len("atservicesrest/"):]
	}
	segs := strings.Split(p, "/")
	if n := len(segs); n >= 2 && strings.EqualFold(segs[n-1], "next") && strings.EqualFold(segs[n-2], "query") {
		segs = segs[:n-1]
	}
	best, bestScore := -1, -1
	var params map[string]string
	for i, t := range s.templates {
		if len(t.segs) != len(segs) {
			continue
		}
		score, ps, ok := 0, map[string]string{}, true
		for j, ts := range t.segs {
			if strings.HasPrefix(ts, "{") {
				ps[strings.Trim(ts, "{}")] = segs[j]
				continue
			}
			if !strings.EqualFold(ts, segs[j]) {
				ok = false
				break
			}
			score++
		}
		if !ok || score <= bestScore {
			continue
		}
		item := s.doc.Paths.Value(t.path)
		if item.GetOperation(method) == nil {
			continue
		}
		best, bestScore, params = i, score, ps
	}
	if best < 0 {
		return nil, nil, fmt.Errorf("%w: %s %s", ErrNoRoute, method, path)
	}
	t := s.templates[best]
	item := s.doc.Paths.Value(t.path)
	return &routers.Route{Spec: s.doc, Path: t.path, PathItem: item, Method: method, Operation: item.GetOperation(method)}, params, nil
}

// HasRoute reports whether Autotask's document has method on path (any
// casing; numeric ids for path parameters).
func (s *Spec) HasRoute(method, path string) bool {
	_, _, err := s.route(method, path)
	return err == nil
}

// Exchange is one request and its answer.
type Exchange struct {
	Method      string
	URL         *url.URL
	Header      http.Header
	Body        []byte
	Status      int
	RespHeader  http.Header
	RespBody    []byte
	SkipRequest bool // validate only the answer (e.g. raw sandbox probes)
}

// Validate checks the request against its operation and a 200 answer against
// the declared response schema. Error answers are not declared by Autotask
// (only 200/401/403) and are left to the callers' own checks.
func (s *Spec) Validate(ctx context.Context, x Exchange) error {
	route, params, err := s.route(x.Method, x.URL.Path)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, x.Method, x.URL.String(), bytes.NewReader(x.Body))
	if err != nil {
		return fmt.Errorf("openapicheck: rebuild request: %w", err)
	}
	req.Header = x.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	opts := &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var errs []error
	if !x.SkipRequest {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("request %s %s (as %s): %w", x.Method, x.URL.Path, route.Path, err))
		}
	}
	if x.Status == http.StatusOK {
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.Status, Header: x.RespHeader, Options: opts}
		out.SetBodyBytes(x.RespBody)
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			errs = append(errs, fmt.Errorf("answer to %s %s (as %s): %w", x.Method, x.URL.Path, route.Path, err))
		}
	}
	return errors.Join(errs...)
}

// Transport wraps base so every exchange is validated; each failure is passed
// to report (typically t.Errorf).
func (s *Spec) Transport(base http.RoundTripper, report func(error)) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper{spec: s, base: base, report: report}
}

type roundTripper struct {
	spec   *Spec
	base   http.RoundTripper
	report func(error)
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	x := Exchange{Method: req.Method, URL: req.URL, Header: req.Header, Body: body, Status: resp.StatusCode, RespHeader: resp.Header, RespBody: respBody}
	if verr := rt.spec.Validate(req.Context(), x); verr != nil {
		rt.report(verr)
	}
	return resp, nil
}

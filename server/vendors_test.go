package server

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/connections"
	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// apiHarness is the server wired to both sandboxes (demo dataset) through
// real clients, a real database and the given customer workflows.
type apiHarness struct {
	*harness
	at      *atsandbox.Sandbox
	ac      *acsandbox.Sandbox
	vendors *connections.Provider
}

func newAPIHarness(t testing.TB, cw CustomerWorkflows) *apiHarness {
	t.Helper()
	return newAPIHarnessWith(t, cw, atsandbox.Options{})
}

// newAPIHarnessWith is newAPIHarness with the Autotask sandbox's options.
func newAPIHarnessWith(t testing.TB, cw CustomerWorkflows, atOpts atsandbox.Options) *apiHarness {
	t.Helper()
	h := newHarness(t)
	at, err := atsandbox.New(atOpts)
	if err != nil {
		t.Fatalf("Autotask sandbox: %v", err)
	}
	atSrv := httptest.NewServer(at.Handler())
	t.Cleanup(atSrv.Close)
	ac, err := acsandbox.New(acsandbox.Options{RequestsPerSecond: -1})
	if err != nil {
		t.Fatalf("Acronis sandbox: %v", err)
	}
	acSrv := httptest.NewServer(ac.Handler())
	t.Cleanup(acSrv.Close)
	env := map[string]store.Credential{
		SystemAutotask: {System: SystemAutotask, Secret: atsandbox.DefaultSecret, Public: map[string]string{
			"username": atsandbox.DefaultUsername, "integrationCode": atsandbox.DefaultIntegrationCode, "baseUrl": atSrv.URL + "/atservicesrest/"}},
		SystemAcronis: {System: SystemAcronis, Secret: ac.ClientSecret(), Public: map[string]string{
			"baseUrl": acSrv.URL, "clientId": ac.ClientID()}},
	}
	p := connections.New(h.store, env, nil)
	h.srv.deps.Connections, h.srv.deps.Vendors, h.srv.deps.Mappings, h.srv.deps.ReadModel = p, p, h.store, h.store
	if cw != nil {
		h.srv.deps.Customers = cw
	}
	return &apiHarness{harness: h, at: at, ac: ac, vendors: p}
}

// wantProblem checks the status and problem+json body of an error answer and
// returns the problem.
func wantProblem(t testing.TB, r response, status int) Problem {
	t.Helper()
	if r.code != status {
		t.Fatalf("status = %d, want %d: %s", r.code, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != ProblemContentType {
		t.Fatalf("Content-Type = %q, want %q", ct, ProblemContentType)
	}
	return decode[Problem](t, r)
}

func wantFields(t testing.TB, r response, want ...string) {
	t.Helper()
	wantProblem(t, r, 400)
	if got := problemFields(t, r); !reflect.DeepEqual(got, want) {
		t.Fatalf("bad fields\n got %v\nwant %v\nbody %s", got, want, r.body)
	}
}

func TestVendors_MissingConnectionsAnswer503(t *testing.T) {
	h := newHarness(t)
	h.srv.deps.Vendors = connections.New(h.store, nil, nil)
	h.srv.deps.Mappings = h.store
	for _, path := range []string{"/api/v1/offering-items", "/api/v1/autotask/services"} {
		p := wantProblem(t, h.do("GET", path, readToken, nil), 503)
		if p.Type != problemTypeBase+"not-configured" {
			t.Errorf("%s: type %q, want not-configured", path, p.Type)
		}
	}
	// Without Temporal wired in, customer actions answer 503 instead of failing.
	if p := wantProblem(t, h.do("POST", "/api/v1/sync", adminToken, nil), 503); p.Type != problemTypeBase+"not-available" {
		t.Fatalf("sync without Temporal: %+v", p)
	}
}

func TestVendors_UpstreamFailuresAre502(t *testing.T) {
	h := newAPIHarness(t, nil)
	h.ac.Faults().Add(sandbox.Rule{PathPrefix: "/api/2/tenants", ErrorRate: 1, Status: 403})
	p := wantProblem(t, h.do("GET", "/api/v1/offering-items", readToken, nil), 502)
	if p.Type != problemTypeBase+"upstream-credentials" || !strings.Contains(p.Detail, "Acronis") {
		t.Fatalf("Acronis 403: %+v", p)
	}
	h.at.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/Services/query", ErrorRate: 1, Status: 400})
	p = wantProblem(t, h.do("GET", "/api/v1/autotask/services", readToken, nil), 502)
	if p.Type != problemTypeBase+"upstream-failed" || !strings.Contains(p.Detail, "Autotask") {
		t.Fatalf("Autotask 400: %+v", p)
	}
}

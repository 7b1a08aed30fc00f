package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// verify posts a verification and checks it never carries a secret.
func (h *apiHarness) verify(t *testing.T) ConnectionsVerification {
	t.Helper()
	r := h.do("POST", "/api/v1/connections/verify", adminToken, nil)
	if r.code != 200 {
		t.Fatalf("verify = %d %s", r.code, r.body)
	}
	for _, secret := range []string{atsandbox.DefaultSecret, h.ac.ClientSecret(), wrongSecret} {
		if strings.Contains(string(r.body), secret) {
			t.Fatalf("verify answer holds a secret: %s", r.body)
		}
	}
	return decode[ConnectionsVerification](t, r)
}

const wrongSecret = "Not-The-Right-S3cret"

// envConnection returns the public fields of the harness's environment credentials.
func (h *apiHarness) envConnection(t *testing.T, system string) map[string]string {
	t.Helper()
	cred, _, err := h.vendors.Effective(context.Background(), system)
	if err != nil {
		t.Fatal(err)
	}
	return cred.Public
}

func (h *apiHarness) putAutotask(t *testing.T, username, secret, baseURL string) {
	t.Helper()
	r := h.do("PUT", "/api/v1/connections/autotask", adminToken, AutotaskConnection{Username: username, Secret: secret,
		IntegrationCode: atsandbox.DefaultIntegrationCode, BaseURL: baseURL})
	if r.code != 200 {
		t.Fatalf("PUT autotask = %d %s", r.code, r.body)
	}
}

func wantCheck(t *testing.T, got ConnectionCheck, status string, says ...string) {
	t.Helper()
	if got.Status != status || got.OK != (status == VerifyOK) {
		t.Fatalf("%s check = %s (ok %v): %q; want %s", got.System, got.Status, got.OK, got.Message, status)
	}
	for _, s := range says {
		if !strings.Contains(got.Message, s) {
			t.Fatalf("%s message %q does not say %q", got.System, got.Message, s)
		}
	}
}

func TestVerify_BothConnectionsWork(t *testing.T) {
	h := newAPIHarness(t, nil)
	got := h.verify(t)
	if !got.OK {
		t.Fatalf("verify = %+v, want both ok", got)
	}
	wantCheck(t, got.Autotask, VerifyOK, atsandbox.DefaultUsername, "Sandbox")
	wantCheck(t, got.Acronis, VerifyOK, h.ac.ClientID())
	if got.Autotask.Source != "environment" || got.Autotask.Details["zone"] != "Sandbox" || got.Acronis.Details["tenantKind"] != "partner" {
		t.Fatalf("details = %+v / %+v", got.Autotask, got.Acronis)
	}
	// The check spent the integration's own budget, not a budget of its own.
	l, err := h.vendors.AutotaskLimiter(context.Background(), atsandbox.DefaultUsername, atsandbox.DefaultIntegrationCode)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := l.Status(context.Background())
	h.verify(t)
	if after, _ := l.Status(context.Background()); after.Tokens > before.Tokens-1 {
		t.Fatalf("a connection check took nothing from the shared budget: %.1f then %.1f tokens", before.Tokens, after.Tokens)
	}
	// Read-only tokens may not verify: it calls both vendors on demand.
	if r := h.do("POST", "/api/v1/connections/verify", readToken, nil); r.code != 403 {
		t.Fatalf("read-only verify = %d, want 403", r.code)
	}
}

func TestVerify_NotConfigured(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/api/v1/connections/verify", adminToken, nil)
	got := decode[ConnectionsVerification](t, r)
	if r.code != 200 || got.OK {
		t.Fatalf("verify = %d %s", r.code, r.body)
	}
	wantCheck(t, got.Autotask, VerifyNotConfigured, "PUT /api/v1/connections/autotask")
	wantCheck(t, got.Acronis, VerifyNotConfigured, "PUT /api/v1/connections/acronis")
}

func TestVerify_AutotaskProblemsInWords(t *testing.T) {
	h := newAPIHarness(t, nil)
	base := h.envConnection(t, SystemAutotask)["baseUrl"]
	// Warm the provider's cached client with the good credentials: verify
	// must not reuse it once a new secret is saved.
	if r := h.do("GET", "/api/v1/customers?pageSize=1", readToken, nil); r.code != 200 {
		t.Fatalf("customers = %d %s", r.code, r.body)
	}

	t.Run("WrongSecretJustSaved", func(t *testing.T) {
		h.putAutotask(t, atsandbox.DefaultUsername, wrongSecret, base)
		got := h.verify(t).Autotask
		wantCheck(t, got, VerifyCredentialsRefuse, "secret", "integration code")
		if got.Source != "api" {
			t.Fatalf("source = %q, want api", got.Source)
		}
		h.putAutotask(t, atsandbox.DefaultUsername, atsandbox.DefaultSecret, base)
		wantCheck(t, h.verify(t).Autotask, VerifyOK)
	})
	t.Run("RegularUserGetsTheGuidesUpgradeMessage", func(t *testing.T) {
		h.putAutotask(t, atsandbox.RegularUsername, atsandbox.DefaultSecret, base)
		wantCheck(t, h.verify(t).Autotask, VerifyCredentialsRefuse, UpgradeMessage, atsandbox.RegularUsername)
	})
	t.Run("UnknownUser", func(t *testing.T) {
		h.putAutotask(t, "nobody@msp.example", atsandbox.DefaultSecret, base)
		got := h.verify(t).Autotask
		wantCheck(t, got, VerifyUnknownUser, "does not know the user name nobody@msp.example")
		if strings.Contains(got.Message, UpgradeMessage) {
			t.Fatalf("an unknown user is told to upgrade: %q", got.Message)
		}
	})
	t.Run("WrongZone", func(t *testing.T) {
		// Another zone: it answers zoneInformation like every zone (naming
		// the sandbox as the user's zone) and refuses everything else.
		target, _ := url.Parse(base)
		proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(strings.ToLower(r.URL.Path), "/zoneinformation") {
				r.Host = target.Host
				proxy.ServeHTTP(w, r)
				return
			}
			w.WriteHeader(http.StatusUnauthorized)
		}))
		t.Cleanup(other.Close)
		h.putAutotask(t, atsandbox.DefaultUsername, atsandbox.DefaultSecret, other.URL+"/atservicesrest/")
		wantCheck(t, h.verify(t).Autotask, VerifyWrongZone, "serves "+atsandbox.DefaultUsername+" from "+target.Scheme+"://"+target.Host, other.URL)
	})
	t.Run("Throttled", func(t *testing.T) {
		h.putAutotask(t, atsandbox.DefaultUsername, atsandbox.DefaultSecret, base)
		h.at.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/ThresholdInformation", ErrorRate: 1, Status: 429, Times: 1})
		wantCheck(t, h.verify(t).Autotask, VerifyThrottled, "rate limiting")
	})
}

func TestVerify_AcronisProblemsInWords(t *testing.T) {
	h := newAPIHarness(t, nil)
	pub := h.envConnection(t, SystemAcronis)
	put := func(t *testing.T, secret string) {
		t.Helper()
		r := h.do("PUT", "/api/v1/connections/acronis", adminToken, AcronisConnection{BaseURL: pub["baseUrl"], ClientID: pub["clientId"], ClientSecret: secret})
		if r.code != 200 {
			t.Fatalf("PUT acronis = %d %s", r.code, r.body)
		}
	}
	t.Run("WrongSecretJustSaved", func(t *testing.T) {
		if _, err := h.vendors.Acronis(context.Background()); err != nil { // cache a working client
			t.Fatal(err)
		}
		put(t, wrongSecret)
		wantCheck(t, h.verify(t).Acronis, VerifyBadCredentials, "refused the API client id or secret")
		put(t, h.ac.ClientSecret())
		wantCheck(t, h.verify(t).Acronis, VerifyOK)
	})
	t.Run("ClientWithoutRights", func(t *testing.T) {
		h.ac.Faults().Add(sandbox.Rule{PathPrefix: "/api/2/tenants", ErrorRate: 1, Status: 403})
		t.Cleanup(h.ac.Faults().Reset)
		wantCheck(t, h.verify(t).Acronis, VerifyNoRights, "no right")
	})
	t.Run("UnreachableDataCenter", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		r := h.do("PUT", "/api/v1/connections/acronis", adminToken, AcronisConnection{BaseURL: dead.URL, ClientID: pub["clientId"], ClientSecret: h.ac.ClientSecret()})
		if r.code != 200 {
			t.Fatalf("PUT = %d", r.code)
		}
		got := h.verify(t).Acronis
		if got.OK || (got.Status != VerifyUnreachable && got.Status != VerifyFailed) {
			t.Fatalf("dead data center = %+v", got)
		}
	})
}

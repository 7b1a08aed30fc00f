package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/connections"
	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// TestSecrets_NeverInAnyResponseOrLogLine drives the connection, verify,
// settings, customer and operations endpoints through their success and
// failure paths, with debug logging of the server and of both vendor
// clients into one buffer, and checks that no configured secret (Autotask
// secret, Acronis client secret, API tokens) appears in any answer or log line.
func TestSecrets_NeverInAnyResponseOrLogLine(t *testing.T) {
	h := newAPIHarness(t, nil)
	withStoreReads(h.harness)
	ctx := context.Background()
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The vendor clients log through the same buffer.
	env := map[string]store.Credential{}
	for _, system := range []string{SystemAutotask, SystemAcronis} {
		cred, _, err := h.vendors.Effective(ctx, system)
		if err != nil {
			t.Fatal(err)
		}
		env[system] = cred
	}
	p := connections.New(h.store, env, logger)
	h.srv.deps.Connections, h.srv.deps.Vendors = p, p

	const atWrong, acWrong = "Wrong-Autotask-S3cret-1", "Wrong-Acronis-S3cret-2"
	secrets := map[string]string{
		"Autotask secret": atsandbox.DefaultSecret, "Acronis client secret": h.ac.ClientSecret(),
		"saved Autotask secret": atWrong, "saved Acronis secret": acWrong,
		"admin token": adminToken, "read-only token": readToken,
	}
	var answers []string
	call := func(method, path, token string, body any) response {
		t.Helper()
		r := h.do(method, path, token, body)
		var b strings.Builder
		b.WriteString(method + " " + path + " → ")
		b.Write(r.body)
		for k, vs := range r.header {
			b.WriteString("\n" + k + ": " + strings.Join(vs, ","))
		}
		answers = append(answers, b.String())
		return r
	}
	atPub, acPub := env[SystemAutotask].Public, env[SystemAcronis].Public

	// Connections: read from the environment, then saved with wrong secrets
	// (the failure paths are where secrets leak), verified, and repaired.
	call("GET", "/api/v1/connections/autotask", readToken, nil)
	call("GET", "/api/v1/connections/acronis", readToken, nil)
	call("POST", "/api/v1/connections/verify", adminToken, nil)
	call("PUT", "/api/v1/connections/autotask", adminToken, AutotaskConnection{Username: atPub["username"], Secret: atWrong,
		IntegrationCode: atPub["integrationCode"], BaseURL: atPub["baseUrl"]})
	call("PUT", "/api/v1/connections/acronis", adminToken, AcronisConnection{BaseURL: acPub["baseUrl"], ClientID: acPub["clientId"], ClientSecret: acWrong})
	if v := decode[ConnectionsVerification](t, call("POST", "/api/v1/connections/verify", adminToken, nil)); v.Autotask.OK || v.Acronis.OK {
		t.Fatalf("verify with wrong secrets = %+v", v)
	}
	call("GET", "/api/v1/customers", readToken, nil)       // Autotask refuses: 502
	call("GET", "/api/v1/acronis/tenants", readToken, nil) // Acronis refuses: 502
	call("PUT", "/api/v1/connections/autotask", adminToken, AutotaskConnection{Username: atPub["username"], Secret: atsandbox.DefaultSecret,
		IntegrationCode: atPub["integrationCode"], BaseURL: atPub["baseUrl"]})
	call("PUT", "/api/v1/connections/acronis", adminToken, AcronisConnection{BaseURL: acPub["baseUrl"], ClientID: acPub["clientId"], ClientSecret: masked})
	call("PUT", "/api/v1/connections/acronis", adminToken, AcronisConnection{BaseURL: acPub["baseUrl"], ClientID: acPub["clientId"], ClientSecret: h.ac.ClientSecret()})
	if v := decode[ConnectionsVerification](t, call("POST", "/api/v1/connections/verify", adminToken, nil)); !v.OK {
		t.Fatalf("verify with the right secrets = %+v", v)
	}
	call("GET", "/api/v1/connections/autotask", readToken, nil)
	call("GET", "/api/v1/connections/acronis", readToken, nil)
	call("PUT", "/api/v1/connections/autotask", adminToken, `{"username":"x","secret":"`+atWrong+`"}`) // invalid: 400

	// Settings.
	call("PUT", "/api/v1/settings", adminToken, `{"version":0,"settings":{"billingEnabled":true}}`)
	call("PUT", "/api/v1/settings", adminToken, `{"version":0,"settings":{"billingEnabled":true}}`) // stale: 409
	call("GET", "/api/v1/settings", readToken, nil)

	// Customers and tenants, with a vendor failure and without Temporal.
	call("GET", "/api/v1/customers?pageSize=3", readToken, nil)
	call("GET", "/api/v1/acronis/tenants", readToken, nil)
	call("GET", "/api/v1/customers/101", readToken, nil)
	call("PUT", "/api/v1/customers/101/mapping", adminToken, MappingRequest{New: true})
	h.at.Faults().Add(sandbox.Rule{PathPrefix: "/atservicesrest/v1.0/Companies/query", ErrorRate: 1, Status: http.StatusBadRequest}) // 400: not retried
	call("GET", "/api/v1/customers", readToken, nil)
	h.at.Faults().Reset()

	// Operations.
	call("GET", "/api/v1/audit?limit=500", readToken, nil)
	call("GET", "/api/v1/stats", readToken, nil)
	call("GET", "/api/v1/usage?companyId=102", readToken, nil)
	call("GET", "/metrics", "", nil)
	call("GET", "/api/v1/settings", "not-"+readToken, nil) // 401

	logs := h.logs.String()
	if !strings.Contains(logs, "connections verified") || !strings.Contains(logs, `"system":"autotask"`) {
		t.Fatalf("the log buffer did not capture the server and client logs:\n%s", logs)
	}
	for name, secret := range secrets {
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("the %s appears in an answer:\n%s", name, a)
			}
		}
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, secret) {
				t.Errorf("the %s appears in a log line:\n%s", name, line)
			}
		}
	}
}

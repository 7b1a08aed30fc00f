package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/internal/connections"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunWithDB(m)) }

const (
	adminToken = "admin-token-0123456789"
	readToken  = "read-token-0123456789"
)

type harness struct {
	t     testing.TB
	srv   *Server
	store *store.Store
	logs  *bytes.Buffer
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	st := testenv.MustOpenDB(t)
	logs := &bytes.Buffer{}
	kr, _ := secrets.ParseKeyring(secrets.GenerateKey())
	srv, err := New(Deps{
		Settings:    st,
		Credentials: st,
		Connections: connections.New(st, nil, nil),
		Tokens: []config.Token{
			{Name: "ops", Role: config.RoleAdmin, Value: adminToken},
			{Name: "dashboard", Role: config.RoleReadOnly, Value: readToken},
		},
		Logger:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Codec:        codec.New(kr),
		CodecOrigins: []string{"http://localhost:8233"},
		Ready:        map[string]Checker{"postgres": CheckFunc(st.Ping)},
		Version:      "test",
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &harness{t: t, srv: srv, store: st, logs: logs}
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (h *harness) do(method, path, token string, body any, header ...string) response {
	h.t.Helper()
	return serve(h.srv, method, path, token, body, header...)
}

// serve sends one request through srv's router; header is name, value pairs.
func serve(srv http.Handler, method, path, token string, body any, header ...string) response {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func problemFields(t testing.TB, r response) []string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != ProblemContentType {
		t.Fatalf("Content-Type = %q, want %q (body %s)", ct, ProblemContentType, r.body)
	}
	p := decode[Problem](t, r)
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	sort.Strings(out)
	return out
}

func TestSettings_GetBeforeAnySaveReturnsDefaultsAtVersion0(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/api/v1/settings", readToken, nil)
	if r.code != 200 || r.header.Get("ETag") != `"0"` {
		t.Fatalf("GET = %d ETag %q, want 200 \"0\"", r.code, r.header.Get("ETag"))
	}
	doc := decode[SettingsDocument](t, r)
	if doc.Version != 0 || doc.Settings.BillingEnabled || doc.Settings.SyncIntervalSeconds != 30 {
		t.Fatalf("defaults = %+v", doc)
	}
}

func TestSettings_PutThenGetReturnsSavedVersion(t *testing.T) {
	h := newHarness(t)
	r := h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{"billingEnabled":true,"usageReporting":{"period":"current_month"}}}`, "If-Match", `"0"`)
	if r.code != 200 {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
	saved := decode[SettingsDocument](t, r)
	if saved.Version != 1 || saved.UpdatedBy != "ops" || r.header.Get("ETag") != `"1"` {
		t.Fatalf("saved = version %d by %q, ETag %q", saved.Version, saved.UpdatedBy, r.header.Get("ETag"))
	}
	got := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", readToken, nil))
	if got.Version != 1 || !got.Settings.BillingEnabled || got.Settings.UsageReporting.Period != "current_month" {
		t.Fatalf("GET after PUT = %+v", got)
	}
	// Second write with the version in the body.
	r = h.do("PUT", "/api/v1/settings", adminToken, `{"version":1,"settings":{"ticketCreationEnabled":true}}`)
	if r.code != 200 || decode[SettingsDocument](t, r).Version != 2 {
		t.Fatalf("second PUT = %d %s", r.code, r.body)
	}
}

func TestSettings_BadPutListsEveryFieldAndSavesNothing(t *testing.T) {
	h := newHarness(t)
	h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{"billingEnabled":true}}`, "If-Match", `"0"`)
	before := h.do("GET", "/api/v1/settings", readToken, nil)

	r := h.do("PUT", "/api/v1/settings", adminToken, `{"version":1,"settings":{
		"twoWaySync": true,
		"provisioning": {"createAccountsBasedOn": "company_name", "tenantMode": "staging"},
		"deprovisioning": {"disable": {"enabled": true, "afterDays": 30}, "delete": {"enabled": true, "afterDays": 10}},
		"usageReporting": {"period": "custom_billing_month", "billingDay": 31}}}`)
	if r.code != 400 {
		t.Fatalf("bad PUT = %d, want 400: %s", r.code, r.body)
	}
	want := []string{"deprovisioning.delete", "newServices.allocationCodeId", "provisioning.activationEmail", "provisioning.tenantMode", "usageReporting.billingDay"}
	if got := problemFields(t, r); !reflect.DeepEqual(got, want) {
		t.Fatalf("bad fields\n got %v\nwant %v", got, want)
	}
	after := h.do("GET", "/api/v1/settings", readToken, nil)
	if !bytes.Equal(before.body, after.body) {
		t.Fatalf("settings changed by a rejected PUT:\nbefore %s\nafter  %s", before.body, after.body)
	}
	hist, err := h.store.SettingsHistory(context.Background(), 10)
	if err != nil || len(hist) != 1 {
		t.Fatalf("history = %d versions, %v; want 1", len(hist), err)
	}
}

func TestSettings_UnknownAndMistypedFieldsAreNamed(t *testing.T) {
	h := newHarness(t)
	for body, field := range map[string]string{
		`{"version":0,"settings":{"billingEnabld":true}}`:         "settings.billingEnabld",
		`{"version":0,"settings":{"syncIntervalSeconds":"fast"}}`: "settings.syncIntervalSeconds",
		`{"version":0,"settings":{"billingEnabled":true},"x":1}`:  "x",
		`{"version":0}`:                        "settings",
		`{"settings":{"billingEnabled":true}}`: "version",
	} {
		r := h.do("PUT", "/api/v1/settings", adminToken, body)
		if r.code < 400 || r.code >= 500 {
			t.Errorf("%s: status %d, want 4xx", body, r.code)
			continue
		}
		if got := problemFields(t, r); len(got) != 1 || got[0] != field {
			t.Errorf("%s: fields %v, want [%s]", body, got, field)
		}
	}
}

func TestSettings_StaleVersionIsRejected(t *testing.T) {
	h := newHarness(t)
	h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{}}`, "If-Match", `"0"`)
	if r := h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{"billingEnabled":true}}`, "If-Match", `"0"`); r.code != 412 {
		t.Fatalf("stale If-Match = %d, want 412", r.code)
	}
	if r := h.do("PUT", "/api/v1/settings", adminToken, `{"version":0,"settings":{"billingEnabled":true}}`); r.code != 409 {
		t.Fatalf("stale body version = %d, want 409", r.code)
	}
	if r := h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{}}`); r.code != 428 {
		t.Fatalf("no version = %d, want 428", r.code)
	}
	if got := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", readToken, nil)); got.Settings.BillingEnabled {
		t.Fatal("a stale write was applied")
	}
}

func TestAuth_TokensAndRoles(t *testing.T) {
	h := newHarness(t)
	if r := h.do("GET", "/api/v1/settings", "", nil); r.code != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token = %d, want 401 with WWW-Authenticate", r.code)
	}
	if r := h.do("GET", "/api/v1/settings", "wrong-token-0123456789", nil); r.code != 401 {
		t.Fatalf("wrong token = %d, want 401", r.code)
	}
	if r := h.do("PUT", "/api/v1/settings", readToken, `{"settings":{}}`, "If-Match", `"0"`); r.code != 403 {
		t.Fatalf("read-only PUT = %d, want 403", r.code)
	}
	if r := h.do("GET", "/healthz", "", nil); r.code != 200 {
		t.Fatalf("healthz = %d", r.code)
	}
}

func TestReadyz_ReportsEachDependency(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/readyz", "", nil)
	if r.code != 200 || decode[HealthStatus](t, r).Checks["postgres"] != "ok" {
		t.Fatalf("readyz = %d %s", r.code, r.body)
	}
	h.srv.deps.Ready["temporal"] = CheckFunc(func(context.Context) error { return io.ErrUnexpectedEOF })
	r = h.do("GET", "/readyz", "", nil)
	if r.code != 503 || !strings.Contains(decode[HealthStatus](t, r).Checks["temporal"], "unavailable") {
		t.Fatalf("readyz with Temporal down = %d %s", r.code, r.body)
	}
}

func TestConnections_SecretsAreMaskedEncryptedAndKept(t *testing.T) {
	h := newHarness(t)
	const atSecret, acSecret = "Autotask-S3cret-value", "Acronis-S3cret-value"
	r := h.do("PUT", "/api/v1/connections/autotask", adminToken, AutotaskConnection{Username: "api@msp.example", Secret: atSecret, IntegrationCode: "CODE123"})
	if r.code != 200 {
		t.Fatalf("PUT autotask = %d %s", r.code, r.body)
	}
	r = h.do("PUT", "/api/v1/connections/acronis", adminToken, AcronisConnection{BaseURL: "https://eu2-cloud.acronis.com", ClientID: "cid", ClientSecret: acSecret})
	if r.code != 200 {
		t.Fatalf("PUT acronis = %d %s", r.code, r.body)
	}
	got := decode[AutotaskConnection](t, h.do("GET", "/api/v1/connections/autotask", readToken, nil))
	if got.Secret != masked || got.Username != "api@msp.example" || got.Source != "api" {
		t.Fatalf("GET autotask = %+v", got)
	}
	// Omitting the secret keeps the stored one.
	if r := h.do("PUT", "/api/v1/connections/autotask", adminToken, AutotaskConnection{Username: "api2@msp.example", IntegrationCode: "CODE123"}); r.code != 200 {
		t.Fatalf("PUT without secret = %d %s", r.code, r.body)
	}
	cred, err := h.store.Credential(context.Background(), SystemAutotask)
	if err != nil || cred.Secret != atSecret || cred.Public["username"] != "api2@msp.example" {
		t.Fatalf("stored = %+v, %v", cred.Public, err)
	}
	for _, s := range []string{atSecret, acSecret} {
		if bytes.Contains(h.logs.Bytes(), []byte(s)) {
			t.Errorf("log contains a secret")
		}
	}
	var leaks int
	if err := h.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM (SELECT t::text AS row FROM credentials t UNION ALL SELECT a::text FROM audit_log a) x WHERE row LIKE '%' || $1 || '%' OR row LIKE '%' || $2 || '%'`,
		atSecret, acSecret).Scan(&leaks); err != nil || leaks != 0 {
		t.Fatalf("rows holding a clear-text secret = %d, %v", leaks, err)
	}
}

func TestConnections_InvalidInputNamesFields(t *testing.T) {
	h := newHarness(t)
	r := h.do("PUT", "/api/v1/connections/autotask", adminToken, `{"username":"not-an-email","baseUrl":"ftp://x"}`)
	want := []string{"baseUrl", "integrationCode", "secret", "username"}
	if r.code != 400 || !reflect.DeepEqual(problemFields(t, r), want) {
		t.Fatalf("PUT = %d fields %v, want 400 %v", r.code, problemFields(t, r), want)
	}
	if r := h.do("GET", "/api/v1/connections/autotask", readToken, nil); r.code != 404 {
		t.Fatalf("GET after rejected PUT = %d, want 404", r.code)
	}
	r = h.do("PUT", "/api/v1/connections/acronis", adminToken, `{"clientId":""}`)
	if want := []string{"baseUrl", "clientId", "clientSecret"}; r.code != 400 || !reflect.DeepEqual(problemFields(t, r), want) {
		t.Fatalf("PUT acronis = %d fields %v", r.code, problemFields(t, r))
	}
}

func TestConnections_EnvironmentCredentialsAreTheFallback(t *testing.T) {
	h := newHarness(t)
	h.srv.deps.Connections = connections.New(h.store, map[string]store.Credential{SystemAcronis: {Secret: "x", Public: map[string]string{"baseUrl": "https://dc", "clientId": "env-client"}}}, nil)
	got := decode[AcronisConnection](t, h.do("GET", "/api/v1/connections/acronis", readToken, nil))
	if got.Source != "environment" || got.ClientID != "env-client" || got.ClientSecret != masked {
		t.Fatalf("GET = %+v", got)
	}
}

func TestOpenAPI_DocumentsExactlyTheServedRoutes(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/openapi.json", "", nil)
	if r.code != 200 {
		t.Fatalf("GET /openapi.json = %d", r.code)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.body)
	if err != nil {
		t.Fatalf("load served document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served document is not valid OpenAPI: %v", err)
	}
	var served []string
	for _, rt := range h.srv.echo.Routes() {
		served = append(served, rt.Method+" "+openAPIPath(rt.Path))
	}
	sort.Strings(served)
	if documented := documentedOperations(doc); !reflect.DeepEqual(served, documented) {
		t.Fatalf("routes and document differ\nserved     %v\ndocumented %v", served, documented)
	}
}

func TestErrors_AreProblemJSONWithRequestID(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/api/v1/nope", adminToken, nil)
	if r.code != 404 || r.header.Get("Content-Type") != ProblemContentType {
		t.Fatalf("unknown route = %d %q", r.code, r.header.Get("Content-Type"))
	}
	p := decode[Problem](t, r)
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-Id") || p.Status != 404 {
		t.Fatalf("problem = %+v (header id %q)", p, r.header.Get("X-Request-Id"))
	}
}

func TestMetrics_CountRequestsByRoute(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/api/v1/settings", readToken, nil)
	r := h.do("GET", "/metrics", "", nil)
	if !strings.Contains(string(r.body), `acronis_autotask_http_requests_total{method="GET",route="/api/v1/settings",status="200"} 1`) {
		t.Fatalf("metrics missing the settings request:\n%s", r.body)
	}
}

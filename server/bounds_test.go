package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

func TestDecode_StrictBodiesAre400NamingTheField(t *testing.T) {
	h := newHarness(t)
	if r := h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{"billingEnabled":true}}`, "If-Match", `"0"`); r.code != 200 {
		t.Fatalf("first PUT = %d %s", r.code, r.body)
	}
	before := h.do("GET", "/api/v1/settings", readToken, nil)
	for _, tc := range []struct {
		name, body, contentType, field string
	}{
		{"null settings would reset everything", `{"version":1,"settings":null}`, "application/json", "settings"},
		{"settings of another type", `{"version":1,"settings":[1]}`, "application/json", "settings"},
		{"trailing data", `{"version":1,"settings":{}} {"x":1}`, "application/json", "body"},
		{"trailing garbage", `{"version":1,"settings":{}}]`, "application/json", "body"},
		{"top-level null", `null`, "application/json", "body"},
		{"top-level array", `[{"version":1}]`, "application/json", "body"},
		{"form content type", `{"version":1,"settings":{}}`, "application/x-www-form-urlencoded", "Content-Type"},
		{"no content type", `{"version":1,"settings":{}}`, "", "Content-Type"},
		{"NUL in a nested string", `{"version":1,"settings":{"newServices":{"periodType":"Mon\u0000thly"}}}`, "application/json", "settings.newServices.periodType"},
		{"NUL in a key", `{"version":1,"settings":{"a\u0000":1}}`, "application/json", "settings"},
		{"truncated JSON", `{"version":1,"settings":{`, "application/json", "settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("PUT", "/api/v1/settings", adminToken, tc.body, "Content-Type", tc.contentType)
			wantFields(t, r, tc.field)
		})
	}
	if after := h.do("GET", "/api/v1/settings", readToken, nil); !bytes.Equal(before.body, after.body) {
		t.Fatalf("a rejected PUT changed the settings:\nbefore %s\nafter  %s", before.body, after.body)
	}
	// application/json with parameters and +json types are JSON.
	if r := h.do("PUT", "/api/v1/settings", adminToken, `{"version":1,"settings":{"billingEnabled":true}}`, "Content-Type", "application/json; charset=utf-8"); r.code != 200 {
		t.Fatalf("PUT with charset = %d %s", r.code, r.body)
	}
}

func TestBodyLimit_AppliesToEveryRouteIncludingTheAnonymousCodec(t *testing.T) {
	h := newHarness(t)
	kr, _ := secrets.ParseKeyring(secrets.GenerateKey())
	anon, err := New(Deps{Settings: h.store, Credentials: h.store, Codec: codec.New(kr), CodecAnonymous: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	big := `{"payloads":[{"metadata":{},"data":"` + strings.Repeat("A", 2*maxBody) + `"}]}`
	for _, tc := range []struct {
		srv          http.Handler
		method, path string
		token        string
	}{
		{anon, "POST", "/codec/decode", ""},
		{anon, "POST", "/codec/encode", ""},
		{h.srv, "POST", "/codec/decode", adminToken},
		{h.srv, "PUT", "/api/v1/settings", adminToken},
		{h.srv, "PUT", "/api/v1/alert-mappings", adminToken},
		{h.srv, "POST", "/api/v1/customers/1/hold", adminToken},
	} {
		for _, chunked := range []bool{false, true} {
			var body io.Reader = strings.NewReader(big)
			if chunked {
				body = io.MultiReader(body) // hides the length: no Content-Length
			}
			req := httptest.NewRequest(tc.method, tc.path, body)
			if chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			rec := httptest.NewRecorder()
			tc.srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge || rec.Header().Get("Content-Type") != ProblemContentType {
				t.Errorf("%s %s (chunked %v) with %d bytes = %d %q, want 413 problem+json", tc.method, tc.path, chunked, len(big), rec.Code, rec.Header().Get("Content-Type"))
			}
		}
	}
}

func TestCodec_ErrorsAreProblemJSON(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/codec/decode", "", `{"payloads":[]}`)
	if p := wantProblem(t, r, 401); p.Type != problemTypeBase+"unauthorized" || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: problem %+v, WWW-Authenticate %q", p, r.header.Get("WWW-Authenticate"))
	}
	wantFields(t, h.do("POST", "/codec/decode", adminToken, `{"payloads": 7}`), "payloads")
	wantFields(t, h.do("POST", "/codec/encode", adminToken, `{"payloads":[]}`, "Content-Type", "text/plain"), "Content-Type")
	// A good round trip still works through the router.
	enc := h.do("POST", "/codec/encode", adminToken, `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IkNvbnRvc28i"}]}`)
	if enc.code != 200 || !strings.Contains(enc.header.Get("Content-Type"), "json") {
		t.Fatalf("encode = %d %q %s", enc.code, enc.header.Get("Content-Type"), enc.body)
	}
	dec := h.do("POST", "/codec/decode", adminToken, string(enc.body))
	if dec.code != 200 || !strings.Contains(string(dec.body), "IkNvbnRvc28i") {
		t.Fatalf("decode = %d %s", dec.code, dec.body)
	}
}

func TestServer_SlowClientsAreCutOff(t *testing.T) {
	h := newHarness(t)
	h.srv.deps.Timeouts = Timeouts{ReadHeader: 300 * time.Millisecond, Read: 500 * time.Millisecond}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.srv.Serve(l) }()
	t.Cleanup(func() { _ = h.srv.Shutdown(context.Background()) })

	trickle := func(head string) time.Duration {
		t.Helper()
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		// One byte every 100 ms, as a slowloris client does, until the server hangs up.
		for i := 0; i < 100; i++ {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write([]byte("a")); err != nil {
				return time.Since(start)
			}
			_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := conn.Read(make([]byte, 512)); err == io.EOF || (err != nil && !isTimeout(err)) {
				return time.Since(start)
			}
		}
		return time.Since(start)
	}
	if d := trickle("PUT /api/v1/settings HTTP/1.1\r\nHost: x\r\nX-Slow: "); d > 3*time.Second {
		t.Errorf("a client trickling its headers held the connection %v, want it cut after about 300ms", d)
	}
	if d := trickle("PUT /api/v1/settings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + adminToken +
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"settings\":\""); d > 3*time.Second {
		t.Errorf("a client trickling its body held the connection %v, want it cut after about 500ms", d)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestCustomerActions_IdentifiersAndReasonsAreCheckedAtTheEdge(t *testing.T) {
	h := newHarness(t) // no Temporal: every request below must be refused before it
	wantFields(t, h.do("PUT", "/api/v1/customers/101/mapping", adminToken, MappingRequest{TenantID: strings.Repeat("x", 900_000)}), "tenantId")
	wantFields(t, h.do("PUT", "/api/v1/customers/101/mapping", adminToken, MappingRequest{TenantID: "0fcd4a69-8a40-4de8-b711-d9c83dc000fZ"}), "tenantId")
	wantFields(t, h.do("POST", "/api/v1/customers/101/hold", adminToken, ActionBody{Reason: strings.Repeat("why ", 300)}), "reason")
	for _, id := range []string{"0", "-1", "9223372036854775808", "1e3", "0x10", "+5", strings.Repeat("9", 5000)} {
		wantFields(t, h.do("POST", "/api/v1/customers/"+id+"/hold", adminToken, nil), "companyID")
	}
}

func TestAlertMappings_ValuesTheDatabaseWouldRefuseAre400BeforeWriting(t *testing.T) {
	h := newAlertsHarness(t)
	ok := `{"alertType":"BackupFailed","createTicket":true,"priority":1}`
	if r := h.do("PUT", "/api/v1/alert-mappings", adminToken, `{"mappings":[`+ok+`]}`); r.code != 200 {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
	before := h.dump(t)
	for body, field := range map[string]string{
		`{"mappings":[{"alertType":"NewType","createTicket":true},{"alertType":"` + incompressible(9000) + `"}]}`: "mappings[1].alertType",
		`{"mappings":[{"alertType":"NewType"},{"alertType":"Bad\u0000Type"}]}`:                                    "mappings[1].alertType",
		`{"mappings":[{"alertType":"NewType"},{"alertType":"Tab\tType"}]}`:                                        "mappings[1].alertType",
		`{"mappings":[{"alertType":"NewType","priority":99999999999999999999}]}`:                                  "mappings.priority",
		`{"mappings":[{"alertType":"NewType","priority":1.5}]}`:                                                   "mappings.priority",
	} {
		r := h.do("PUT", "/api/v1/alert-mappings", adminToken, body)
		if r.code != 400 {
			t.Errorf("%.80s: %d, want 400", body, r.code)
			continue
		}
		if got := problemFields(t, r); len(got) != 1 || got[0] != field {
			t.Errorf("%.80s: fields %v, want [%s]", body, got, field)
		}
	}
	if after := h.dump(t); after != before {
		t.Fatalf("a rejected PUT changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

func TestServiceMappings_DatabaseFormsAreRejectedAndNothingIsPartlySaved(t *testing.T) {
	cw, _ := syncRecorder(t)
	h := newAPIHarness(t, cw)
	if r := h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: "pw_base_workstations", ServiceID: ptr(int64(301))}}}); r.code != 200 {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
	before := h.dump(t)
	for _, divisor := range []string{"1/3", "0x10", "1e1000000", "Infinity", "NaN", "0", "0.000", "-1", " 1 2", "1." + strings.Repeat("0", 60)} {
		r := h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
			{OfferingItem: "pw_base_workstations", ServiceID: ptr(int64(301))},
			{OfferingItem: "pw_base_servers", ServiceID: ptr(int64(302)), Divisor: divisor}}})
		wantFields(t, r, "mappings[1].divisor")
	}
	r := h.do("PUT", "/api/v1/service-mappings", adminToken, `{"mappings":[{"offeringItem":"pw_base_workstations","serviceId":301},
		{"offeringItem":"pw_base_servers","serviceId":302,"billedUnit":"G\u0000B"}]}`)
	wantFields(t, r, "mappings[1].billedUnit")
	wantFields(t, h.do("PUT", "/api/v1/service-mappings", adminToken, ServiceMappingsUpdate{Mappings: []ServiceMappingInput{
		{OfferingItem: strings.Repeat("pw_base_servers", 1000), ServiceID: ptr(int64(302))}}}), "mappings[0].offeringItem")
	if after := h.dump(t); after != before {
		t.Fatalf("a rejected PUT changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

func TestErrors_DatabaseRefusalsAre400NamingTheField(t *testing.T) {
	h := newHarness(t)
	_, err := h.store.ReplaceAlertMappings(context.Background(), []store.AlertMapping{{AlertType: "ok"}, {AlertType: incompressible(9000)}}, store.Actor{Name: "test"})
	p := problemFor(err)
	if p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "body" && p.Errors[0].Field != "alertType" {
		t.Fatalf("problem for an index row too big = %+v (error %v), want 400 naming a field", p, err)
	}
	if maps, _ := h.store.ListAlertMappings(context.Background()); len(maps) != 0 {
		t.Fatalf("the first mapping was saved alone: %+v", maps)
	}
	p = problemFor(fmt.Errorf("x: %w", store.ErrInvalid))
	if p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "body" {
		t.Fatalf("problem for an unattributed refusal = %+v", p)
	}
}

// dump is every row of the tables the write routes change plus the audit
// log, as one JSON text, so a test can assert that a rejected write changed nothing.
func (h *harness) dump(t testing.TB) string {
	t.Helper()
	var out bytes.Buffer
	for _, table := range dumpedTables {
		var rows json.RawMessage
		if err := h.store.Pool().QueryRow(context.Background(),
			`SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]') FROM `+table+` t`).Scan(&rows); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		fmt.Fprintf(&out, "%s: %s\n", table, rows)
	}
	return out.String()
}

// dumpedTables are the tables a write route can change, and the audit log.
var dumpedTables = []string{"settings_versions", "credentials", "service_mappings", "customer_mappings", "alert_mappings", "unverified_values", "audit_log"}

// incompressible is n characters PostgreSQL cannot compress below an index
// row's limit (a run of one letter compresses to almost nothing).
func incompressible(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[x%62])
	}
	return b.String()
}

package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// The fuzz suite drives every write route of the route table (PUT, POST,
// PATCH, DELETE) through the real router, the real store on PostgreSQL and
// the vendor sandboxes, and after each request asserts:
//
//   - no 5xx: nothing a client sends makes the server fail;
//   - every 4xx is problem+json, and an input error (400, 413, 428, and a
//     404 for a company id) names at least one field;
//   - a rejected write changed nothing: the tables the write routes change
//     and the audit log are dumped before and after and must be equal, and
//     (for the routes that act through Temporal) bad input never reached
//     Temporal; a 409 or 422 is the workflow's refusal and is held to the dump.
//
// `make test` runs the seed corpus below (plus testdata/fuzz) as ordinary
// tests; `make fuzz` fuzzes each target for FUZZTIME. RELIABILITY.md records
// what the runs tried and found.

// temporalWrites are the write routes that act through Temporal; they are
// fuzzed by FuzzTemporalWriteRoutes against a real Temporal dev server.
var temporalWrites = []string{
	"PUT /api/v1/customers/:companyID/mapping",
	"DELETE /api/v1/customers/:companyID/mapping",
	"POST /api/v1/customers/:companyID/hold",
	"POST /api/v1/customers/:companyID/release",
	"POST /api/v1/customers/:companyID/deprovision-now",
	"POST /api/v1/customers/:companyID/sync",
	"POST /api/v1/sync",
	"POST /api/v1/usage/report-now",
	"POST /api/v1/alerts/sync",
	"POST /api/v1/mappings/bulk/:planID/apply",
	"PUT /api/v1/mappings.csv",
	"POST /api/v1/plans",
	"POST /api/v1/plans/:planID/apply",
}

// writeRoutes are the write routes of the table, "METHOD /path", split by
// whether they act through Temporal.
func writeRoutes(s *Server, throughTemporal bool) []string {
	var out []string
	for _, r := range s.routes() {
		switch r.method {
		case http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete:
			name := r.method + " " + r.path
			if slices.Contains(temporalWrites, name) == throughTemporal {
				out = append(out, name)
			}
		}
	}
	return out
}

func TestFuzz_CoversEveryWriteRoute(t *testing.T) {
	h := newHarness(t)
	direct, temporal := writeRoutes(h.srv, false), writeRoutes(h.srv, true)
	if len(temporal) != len(temporalWrites) {
		t.Fatalf("temporalWrites names routes the table does not have: table has %v, list %v", temporal, temporalWrites)
	}
	if len(direct) < 7 {
		t.Fatalf("only %d direct write routes found: %v", len(direct), direct)
	}
	for _, name := range append(direct, temporal...) {
		if !slices.ContainsFunc(fuzzSeeds, func(s fuzzSeed) bool { return s.route == name }) {
			t.Errorf("write route %s has no seed in the fuzz corpus", name)
		}
	}
}

// fuzzSeed is one seed input: a route, its path parameter, Content-Type and body.
type fuzzSeed struct {
	route, param, contentType, body string
}

const nine000 = "x9Kq" // repeated below into a 9,000-character value

// fuzzSeeds are valid requests for every write route and the inputs that
// broke the service before (issue 15): null objects, trailing data, NUL
// bytes, divisors PostgreSQL refuses, oversized identifiers and types.
var fuzzSeeds = func() []fuzzSeed {
	long := strings.Repeat(nine000, 2250)
	huge := strings.Repeat("t", 900_000)
	js := "application/json"
	return []fuzzSeed{
		{"PUT /api/v1/settings", "", js, `{"version":0,"settings":{"billingEnabled":true}}`},
		{"PATCH /api/v1/settings", "", "application/merge-patch+json", `{"billingEnabled":true,"deprovisioning":{"disable":{"afterDays":null}}}`},
		{"PATCH /api/v1/settings", "", "application/merge-patch+json", `[{"op":"replace","path":"/billingEnabled","value":true}]`},
		{"PATCH /api/v1/settings", "", js, `{"billingEnabled":true}`},
		{"PUT /api/v1/settings", "", js, `{"version":1,"settings":null}`},
		{"PUT /api/v1/settings", "", js, `{"version":1,"settings":{}} trailing`},
		{"PUT /api/v1/settings", "", js, `{"version":1,"settings":{"newServices":{"periodType":"Mon\u0000thly"}}}`},
		{"PUT /api/v1/settings", "", "text/plain", `{"version":1,"settings":{}}`},
		{"PATCH /api/v1/settings", "", "application/merge-patch+json", `{"billingEnabled":false}`},
		{"PATCH /api/v1/settings", "", "application/merge-patch+json", `{"newServices":{"periodType":"x\u0000"}}`},
		{"PATCH /api/v1/settings", "", "application/merge-patch+json", `{"billingEnabled":false} {}`},
		{"PUT /api/v1/settings", "", js, `{"version":0,"settings":{"twoWaySync":true,"newServices":{"allocationCodeId":999999,"periodType":"Monthly"}}}`},
		{"PUT /api/v1/settings", "", js, `{"version":0,"settings":{"tickets":{"sourceId":8,"noteTypeId":1,"notePublishId":1,"autoClose":{"enabled":true,"statusId":5}}}}`},
		{"PATCH /api/v1/settings", "", "application/merge-patch+json", `{"provisioning":{"defaultStorageId":"not-a-storage"}}`},
		{"PATCH /api/v1/settings", "", "application/merge-patch+json", `{"usageReporting":{"storageClasses":[{"infraId":"not-a-storage","class1UsageNames":[]}]}}`},
		{"PUT /api/v1/connections/autotask", "", js, `{"username":"api@msp.example","secret":"S3cret-value-xyz","integrationCode":"CODE"}`},
		{"PUT /api/v1/connections/autotask", "", js, `{"username":"` + long + `@x.example","secret":"s","integrationCode":"C"}`},
		{"PUT /api/v1/connections/acronis", "", js, `{"baseUrl":"https://eu2-cloud.acronis.com","clientId":"client","clientSecret":"S3cret-value-xyz"}`},
		{"PUT /api/v1/connections/acronis", "", js, `{"baseUrl":"https://x","clientId":"c\u0000","clientSecret":"s"}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":[{"offeringItem":"pw_base_workstations","serviceId":301}]}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":[{"offeringItem":"pw_base_workstations","serviceId":301},{"offeringItem":"pw_base_servers","serviceId":302,"divisor":"1/3"}]}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":[{"offeringItem":"pw_base_workstations","serviceId":301},{"offeringItem":"pw_base_servers","serviceId":302,"divisor":"0x10"}]}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":[{"offeringItem":"pw_base_workstations","serviceId":301},{"offeringItem":"pw_base_servers","serviceId":302,"divisor":"1e1000000"}]}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":[{"offeringItem":"pw_base_workstations","serviceId":301,"billedUnit":"G\u0000B"}]}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":[{"offeringItem":"pw_base_nas","serviceName":"Acronis NAS ` + long[:100] + `"}]}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":null}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":[{"offeringItem":"pw_base_workstations","serviceId":301,"overage":{"serviceId":310}}]}`},
		{"PUT /api/v1/service-mappings", "", js, `{"mappings":[{"offeringItem":"pw_base_workstations","serviceId":301,"overage":{"serviceId":301}},{"offeringItem":"pw_base_servers","serviceId":302,"free":true,"overage":{"serviceId":-1}}]}`},
		{"PUT /api/v1/alert-mappings", "", js, `{"mappings":[{"alertType":"BackupFailed","createTicket":true,"priority":1,"status":8}]}`},
		{"PUT /api/v1/alert-mappings", "", js, `{"mappings":[{"alertType":"BackupFailed"},{"alertType":"` + long + `"}]}`},
		{"PUT /api/v1/alert-mappings", "", js, `{"mappings":[{"alertType":"BackupFailed"},{"alertType":"A\u0000"}]}`},
		{"PUT /api/v1/alert-mappings", "", js, `{"mappings":[{"alertType":"X","priority":1e400}]}`},
		{"PUT /api/v1/alert-mappings", "", js, `{"mappings":[{"alertType":"BackupFailed","queueId":12345,"issueType":11,"subIssueType":101}]}`},
		{"POST /api/v1/connections/verify", "", js, ``},
		{"POST /codec/encode", "", js, `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IkNvbnRvc28i"}]}`},
		{"POST /codec/decode", "", js, `{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"AAAA"}]}`},
		{"POST /codec/decode", "", js, `{"payloads":7}`},
		{"POST /codec/decode", "", js, `{"payloads":[]} []`},

		{"PUT /api/v1/customers/:companyID/mapping", "101", js, `{"new":true}`},
		{"PUT /api/v1/customers/:companyID/mapping", "101", js, `{"tenantId":"` + huge + `"}`},
		{"PUT /api/v1/customers/:companyID/mapping", "107", js, `{"tenantId":"0fcd4a69-8a40-4de8-b711-d9c83dc000f7"}`},
		{"PUT /api/v1/customers/:companyID/mapping", "9223372036854775808", js, `{"new":true}`},
		{"DELETE /api/v1/customers/:companyID/mapping", "101", js, `{"reason":"wrong tenant"}`},
		{"DELETE /api/v1/customers/:companyID/mapping", "101", js, `{"reason":"` + long + `"}`},
		{"POST /api/v1/customers/:companyID/hold", "101", js, `{"reason":"waiting for the customer"}`},
		{"POST /api/v1/customers/:companyID/hold", "-1", js, ``},
		{"POST /api/v1/customers/:companyID/release", "101", js, ``},
		{"POST /api/v1/customers/:companyID/deprovision-now", "101", js, `{"reason":"x\u0000"}`},
		{"POST /api/v1/customers/:companyID/sync", "101", js, ``},
		{"POST /api/v1/customers/:companyID/sync", "999999", js, ``},
		{"POST /api/v1/sync", "", js, ``},
		{"POST /api/v1/usage/report-now", "", js, ``},
		{"POST /api/v1/alerts/sync", "", js, ``},

		{"POST /api/v1/mappings/bulk", "", js, `{"pairs":[{"companyId":107,"tenantId":"5a6b7c8d-0001-4000-8000-000000000107"}]}`},
		{"POST /api/v1/mappings/bulk", "", js, `{"minConfidence":0.9}`},
		{"POST /api/v1/mappings/bulk", "", js, `{"pairs":[{"companyId":107,"tenantId":"not-a-uuid"},{"companyId":-1,"tenantId":"` + long + `"}]}`},
		{"POST /api/v1/mappings/bulk", "", js, `{"pairs":null,"minConfidence":null}`},
		{"POST /api/v1/mappings/bulk/:planID/apply", "no-such-plan", js, ``},
		{"POST /api/v1/mappings/bulk/:planID/apply", huge[:2000], js, ``},
		{"PUT /api/v1/mappings.csv", "", "text/csv", "company_id,company_name,tenant_id\n107,Litware,5a6b7c8d-0001-4000-8000-000000000107\n"},
		{"PUT /api/v1/mappings.csv", "", "text/csv", "company_id,tenant_id\n107,not-a-uuid\nx,\u0000\n"},
		{"PUT /api/v1/mappings.csv", "", js, `{"companyId":107}`},

		{"POST /api/v1/plans", "", js, `{"scope":{"all":true},"settings":{"deprovisioning":{"disable":{"enabled":true,"afterDays":10}}}}`},
		{"POST /api/v1/plans", "", js, `{"scope":{"companyIds":[107]},"serviceMappings":[{"offeringItem":"pw_base_workstations","serviceId":301}]}`},
		{"POST /api/v1/plans", "", js, `{"customerMappings":[{"companyId":107,"tenantId":"5a6b7c8d-0001-4000-8000-000000000107"}]}`},
		{"POST /api/v1/plans", "", js, `{"scope":{"companyIds":[-1,0]},"settings":[1],"customerMappings":[{"companyId":1,"tenantId":"` + long + `"}]}`},
		{"POST /api/v1/plans", "", js, `{"scope":null,"settings":{"billingEnabled":"x\u0000"}}`},
		{"POST /api/v1/plans/:planID/apply", "no-such-plan", js, ``},
		{"POST /api/v1/plans/:planID/apply", huge[:2000], js, ``},
	}
}()

// fuzzTarget is a harness and the routes one fuzz target drives.
type fuzzTarget struct {
	h      *apiHarness
	routes []string
	// temporalCalls counts calls to Temporal (nil when the target has none).
	temporalCalls *atomic.Int64
}

// fuzzHarness builds the server as the binary does, on a real database and
// the vendor sandboxes (the Autotask sandbox's hourly limit is lifted: a
// fuzz run sends far more requests than an hour of a real integration).
func fuzzHarness(tb testing.TB) *apiHarness {
	tb.Helper()
	h := newAPIHarnessWith(tb, nil, atsandbox.Options{HourlyLimit: 1 << 30})
	h.srv.deps.Alerts = h.store
	h.srv.deps.BulkMappings = h.store
	h.srv.deps.ReadModel = h.store
	withStoreReads(h.harness)
	return h
}

func addSeeds(f *testing.F, routes []string) {
	for _, s := range fuzzSeeds {
		if i := slices.Index(routes, s.route); i >= 0 {
			f.Add(uint8(i), s.param, s.contentType, []byte(s.body))
		}
	}
}

// FuzzWriteRoutes fuzzes the write routes that need no Temporal: settings,
// connections, service and alert mappings, the connection check and the
// codec server.
func FuzzWriteRoutes(f *testing.F) {
	h := fuzzHarness(f)
	target := &fuzzTarget{h: h, routes: writeRoutes(h.srv, false)}
	addSeeds(f, target.routes)
	f.Fuzz(target.run)
}

// FuzzTemporalWriteRoutes fuzzes the customer actions and the run-now
// triggers against a real Temporal dev server with the customer workers, so
// accepted actions run their workflows as in production.
func FuzzTemporalWriteRoutes(f *testing.F) {
	if testing.Short() {
		f.Skip("needs the Temporal CLI and PostgreSQL (-short)")
	}
	if _, err := testenv.TemporalCLI(); err != nil {
		f.Skip(err.Error())
	}
	h := withTemporalOn(f, fuzzHarness(f))
	cw := h.srv.deps.Customers.(workflows.Customers)
	calls := &atomic.Int64{}
	h.srv.deps.Customers = countingCustomers{inner: cw, calls: calls}
	h.srv.deps.UsageReport = countingCustomers{inner: cw, calls: calls}
	h.srv.deps.AlertSync = countingAlerts{inner: workflows.Alerts{Client: cw.Client, TaskQueue: cw.TaskQueue}, calls: calls}
	target := &fuzzTarget{h: h, routes: writeRoutes(h.srv, true), temporalCalls: calls}
	addSeeds(f, target.routes)
	f.Fuzz(target.run)
}

// run sends one fuzzed request and checks the three properties.
func (ft *fuzzTarget) run(t *testing.T, route uint8, param, contentType string, body []byte) {
	h := ft.h
	name := ft.routes[int(route)%len(ft.routes)]
	method, path, _ := strings.Cut(name, " ")
	if param == "" {
		param = "1"
	}
	path = strings.Replace(path, ":companyID", url.PathEscape(param), 1)
	path = strings.Replace(path, ":planID", url.PathEscape(param), 1)
	before := h.dump(t)
	var calls int64
	if ft.temporalCalls != nil {
		calls = ft.temporalCalls.Load()
	}

	headers := []string{"Content-Type", contentType}
	if strings.HasSuffix(name, "/api/v1/settings") {
		// The version read, so writes get past the optimistic check and the
		// body itself is what is fuzzed.
		var version int64
		if cur, err := h.store.CurrentSettings(context.Background()); err == nil {
			version = cur.Version
		}
		headers = append(headers, "If-Match", etag(version))
	}
	r := serve(h.srv, method, path, adminToken, string(body), headers...)

	if r.code >= 500 {
		t.Fatalf("%s %q (Content-Type %q, %d-byte body) = %d, want no 5xx: %.500s", name, param, contentType, len(body), r.code, r.body)
	}
	if r.code < 400 {
		ft.afterAccepted(t, name)
		return
	}
	if ct := r.header.Get("Content-Type"); ct != ProblemContentType {
		t.Fatalf("%s = %d with Content-Type %q, want %s: %.300s", name, r.code, ct, ProblemContentType, r.body)
	}
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != r.code {
		t.Fatalf("%s = %d with an unreadable problem (%v): %.300s", name, r.code, err, r.body)
	}
	if mustNameField(r.code, p) && (len(p.Errors) == 0 || slices.ContainsFunc(p.Errors, func(e settings.FieldError) bool { return e.Field == "" })) {
		t.Fatalf("%s = %d names no field: %.500s", name, r.code, r.body)
	}
	if p.Type == problemTypeBase+"invalid-value" {
		t.Fatalf("%s = %d: validation let through a value the database refused (%+v)", name, r.code, p.Errors)
	}
	if after := h.dump(t); after != before {
		t.Fatalf("%s = %d (rejected) but changed the database:\nbefore %.2000s\nafter  %.2000s", name, r.code, before, after)
	}
	if ft.temporalCalls != nil && mustNameField(r.code, p) && r.code != http.StatusNotFound && ft.temporalCalls.Load() != calls {
		// Input errors are refused at the edge; a 409 or 422 is the
		// workflow's own refusal (its state forbids the action) and is
		// checked by the unchanged dump above.
		t.Fatalf("%s = %d (bad input) but called Temporal", name, r.code)
	}
}

// mustNameField says which 4xx answers are about the client's input, and so
// must name a field: 400, 413 and 428, and the 404 of an unknown company id.
// A 409 or 422 refusal (the customer's state forbids the action) is about the
// state, not a field, and carries the reason in its detail instead.
func mustNameField(status int, p Problem) bool {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusPreconditionRequired:
		return true
	case http.StatusNotFound:
		return p.Type == problemTypeBase+"company-not-found"
	}
	return false
}

// afterAccepted keeps the world usable for the next inputs: an accepted
// connection change is undone (so the vendor connections keep pointing at the
// sandboxes, through the environment fallback), and the work an accepted
// Temporal action started settles before the next "before" dump.
func (ft *fuzzTarget) afterAccepted(t *testing.T, name string) {
	ctx := context.Background()
	if strings.HasPrefix(name, "PUT /api/v1/connections/") {
		if _, err := ft.h.store.Pool().Exec(ctx, `DELETE FROM credentials`); err != nil {
			t.Fatalf("undo the connection change: %v", err)
		}
	}
	if ft.temporalCalls != nil {
		settle(t, ft.h.harness)
	}
}

// settle waits until the dump stops changing (the activities an accepted
// action started have written), at most 10 s.
func settle(t *testing.T, h *harness) {
	prev := h.dump(t)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		cur := h.dump(t)
		if cur == prev {
			return
		}
		prev = cur
	}
}

// countingCustomers counts every call that reaches Temporal.
type countingCustomers struct {
	inner workflows.Customers
	calls *atomic.Int64
}

func (c countingCustomers) Refresh(ctx context.Context, co workflows.Company) error {
	c.calls.Add(1)
	return c.inner.Refresh(ctx, co)
}

func (c countingCustomers) Update(ctx context.Context, co workflows.Company, name string, arg any) (workflows.ActionResult, error) {
	c.calls.Add(1)
	return c.inner.Update(ctx, co, name, arg)
}

func (c countingCustomers) Status(ctx context.Context, id int64) (workflows.CustomerStatus, error) {
	c.calls.Add(1)
	return c.inner.Status(ctx, id)
}

func (c countingCustomers) SyncNow(ctx context.Context) error {
	c.calls.Add(1)
	return c.inner.SyncNow(ctx)
}

func (c countingCustomers) ReportUsageNow(ctx context.Context) error {
	c.calls.Add(1)
	return c.inner.ReportUsageNow(ctx)
}

// countingAlerts counts the alert sync triggers that reach Temporal.
type countingAlerts struct {
	inner workflows.Alerts
	calls *atomic.Int64
}

func (c countingAlerts) SyncNow(ctx context.Context) error {
	c.calls.Add(1)
	return c.inner.SyncNow(ctx)
}

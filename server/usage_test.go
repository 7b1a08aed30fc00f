package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

var (
	octStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	novStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	decStart = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
)

// contractServicesOf reads the contract services of a demo company's contract straight from Autotask.
func contractServicesOf(t *testing.T, h *apiHarness, companyID int64) []int64 {
	t.Helper()
	at, err := h.vendors.Autotask(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := autotask.QueryAll[autotask.ContractService](context.Background(), at,
		autotask.NewQuery(autotask.Eq("contractID", atsandbox.DemoContractID(companyID))))
	if err != nil || len(rows) == 0 {
		t.Fatalf("contract services of company %d: %d, %v", companyID, len(rows), err)
	}
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func record(t *testing.T, st *store.Store, u store.UsageRecord) store.UsageRecord {
	t.Helper()
	saved, err := st.RecordUsage(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

func storageUsage(csID int64, start, end time.Time, raw, billed string) store.UsageRecord {
	return store.UsageRecord{ContractServiceID: csID, PeriodStart: start, PeriodEnd: end, Metric: "class2_billed",
		RawValue: raw, RawUnit: "bytes", BilledValue: billed, BilledUnit: "GB", Rounding: "bytes / 2^30 (GiB), rounded up",
		Samples: json.RawMessage(`[{"tenantId":"t-102","item":"pw_base_storage","usageName":"storage","infraId":"infra-1","unit":"bytes","value":"1610612736","current":"1610612736"}]`)}
}

func TestUsage_ListByCompanyPeriodAndState(t *testing.T) {
	h := newAPIHarness(t, nil)
	withStoreReads(h.harness)
	mine := contractServicesOf(t, h, 102)[0]
	other := contractServicesOf(t, h, 104)[0]
	oct := record(t, h.store, storageUsage(mine, octStart, novStart, "1610612736", "2"))
	nov := record(t, h.store, storageUsage(mine, novStart, decStart, "1073741824", "1"))
	theirs := record(t, h.store, storageUsage(other, octStart, novStart, "5", "1"))
	if _, err := h.store.MarkReported(context.Background(), oct.ID, 9001); err != nil {
		t.Fatal(err)
	}
	list := func(query string) UsageList {
		t.Helper()
		r := h.do("GET", "/api/v1/usage"+query, readToken, nil)
		if r.code != 200 {
			t.Fatalf("GET /api/v1/usage%s = %d %s", query, r.code, r.body)
		}
		return decode[UsageList](t, r)
	}
	ids := func(l UsageList) []int64 {
		out := []int64{}
		for _, it := range l.Items {
			out = append(out, it.ID)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"?companyId=102", []int64{oct.ID, nov.ID}},
		{"?companyId=102&from=2026-11-01", []int64{nov.ID}},
		{"?companyId=102&to=2026-11-01T00:00:00Z", []int64{oct.ID}},
		{"?companyId=102&state=pending", []int64{nov.ID}},
		{fmt.Sprintf("?companyId=102&contractServiceId=%d", other), []int64{}},
		{"?companyId=106", []int64{}}, // a company without contracts
		{fmt.Sprintf("?contractServiceId=%d", other), []int64{theirs.ID}},
	} {
		if got := ids(list(tc.query)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ids %v, want %v", tc.query, got, tc.want)
		}
	}
	got := list("?companyId=102&state=reported")
	if len(got.Items) != 1 {
		t.Fatalf("reported = %+v", got)
	}
	it := got.Items[0]
	if it.Raw != (UsageAmount{"1610612736", "bytes"}) || it.Billed != (UsageAmount{"2", "GB"}) || it.AdjustmentID == nil || *it.AdjustmentID != 9001 ||
		it.State != store.UsageReported || it.ReportedAt == nil || !it.PeriodStart.Equal(octStart) || it.Rounding == "" {
		t.Fatalf("item = %+v", it)
	}
	if l := list("?limit=1"); len(l.Items) != 1 || !l.Truncated {
		t.Fatalf("limit=1: %d items truncated %v", len(l.Items), l.Truncated)
	}
	wantFields(t, h.do("GET", "/api/v1/usage?companyId=x&contractServiceId=-1&from=nope&state=done&limit=9999", readToken, nil),
		"companyId", "contractServiceId", "from", "limit", "state")
}

func TestUsage_ExplainsANumberAndItsCorrectionChain(t *testing.T) {
	h := withStoreReads(newHarness(t))
	ctx := context.Background()
	first := record(t, h.store, storageUsage(7, octStart, novStart, "1073741824", "1"))
	if _, err := h.store.MarkReported(ctx, first.ID, 555); err != nil {
		t.Fatal(err)
	}
	second, err := h.store.CorrectUsage(ctx, storageUsage(7, octStart, novStart, "1610612736", "2"), "usage of class2_billed grew after the period closed")
	if err != nil {
		t.Fatal(err)
	}
	explain := func(id int64) UsageExplanation {
		t.Helper()
		r := h.do("GET", fmt.Sprintf("/api/v1/usage/%d", id), readToken, nil)
		if r.code != 200 {
			t.Fatalf("GET usage %d = %d %s", id, r.code, r.body)
		}
		return decode[UsageExplanation](t, r)
	}

	old := explain(first.ID)
	if old.Current || old.SupersededBy == nil || *old.SupersededBy != second.ID || old.State != store.UsageSuperseded ||
		old.AdjustmentID == nil || *old.AdjustmentID != 555 {
		t.Fatalf("first revision = %+v", old)
	}
	for _, s := range []string{"1073741824 bytes", "to 1 GB billed", "adjustment 555", fmt.Sprintf("Superseded by ledger row %d", second.ID), "2026-10-01 to 2026-11-01"} {
		if !strings.Contains(old.Explanation, s) {
			t.Errorf("explanation %q lacks %q", old.Explanation, s)
		}
	}

	cur := explain(second.ID)
	if !cur.Current || cur.Revision != 2 || cur.Supersedes == nil || *cur.Supersedes != first.ID || cur.Reason == "" || cur.AdjustmentID != nil {
		t.Fatalf("correction = %+v", cur)
	}
	if len(cur.Samples) != 1 || cur.Samples[0].Value != "1610612736" || cur.Samples[0].TenantID != "t-102" {
		t.Fatalf("samples = %+v", cur.Samples)
	}
	if len(cur.Chain) != 2 || cur.Chain[0].ID != first.ID || cur.Chain[1].ID != second.ID || cur.Chain[1].Reason != cur.Reason ||
		cur.Chain[0].Billed.Value != "1" || cur.Chain[1].Billed.Value != "2" {
		t.Fatalf("chain = %+v", cur.Chain)
	}
	for _, s := range []string{fmt.Sprintf("corrects ledger row %d", first.ID), "grew after the period closed", "Not yet written to Autotask", `"bytes / 2^30 (GiB), rounded up"`} {
		if !strings.Contains(cur.Explanation, s) {
			t.Errorf("explanation %q lacks %q", cur.Explanation, s)
		}
	}

	wantProblem(t, h.do("GET", "/api/v1/usage/999999", readToken, nil), 404)
	wantFields(t, h.do("GET", "/api/v1/usage/abc", readToken, nil), "id")
}

// usageRuns counts report-now requests.
type usageRuns struct{ n int }

func (u *usageRuns) ReportUsageNow(context.Context) error { u.n++; return nil }

func TestUsage_ReportNowSignalsTheWorkflow(t *testing.T) {
	h := newHarness(t)
	if p := wantProblem(t, h.do("POST", "/api/v1/usage/report-now", adminToken, nil), 503); p.Type != problemTypeBase+"not-available" {
		t.Fatalf("without Temporal: %+v", p)
	}
	runs := &usageRuns{}
	h.srv.deps.UsageReport = runs
	if r := h.do("POST", "/api/v1/usage/report-now", readToken, nil); r.code != 403 || runs.n != 0 {
		t.Fatalf("read-only report-now = %d (runs %d), want 403", r.code, runs.n)
	}
	if r := h.do("POST", "/api/v1/usage/report-now", adminToken, nil); r.code != 202 || runs.n != 1 {
		t.Fatalf("report-now = %d %s (runs %d)", r.code, r.body, runs.n)
	}
}

func TestUsage_ReportNowThroughTemporalStartsOrSignalsTheOneReporter(t *testing.T) {
	h := newHarness(t)
	quiet := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	dev := testenv.StartTemporal(t, client.Options{Logger: quiet}, workflows.SearchAttributes())
	c := dev.Client()
	// No worker polls this queue: the test sees the start and the signals only.
	h.srv.deps.UsageReport = workflows.Customers{Client: c, TaskQueue: "usage-report-test"}
	for range 2 {
		if r := h.do("POST", "/api/v1/usage/report-now", adminToken, nil); r.code != 202 {
			t.Fatalf("report-now = %d %s", r.code, r.body)
		}
	}
	ctx := context.Background()
	desc, err := c.DescribeWorkflowExecution(ctx, workflows.UsageReportWorkflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("usage report status = %v", st)
	}
	runID := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	signals := 0
	it := c.GetWorkflowHistory(ctx, workflows.UsageReportWorkflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == workflows.SignalUsageRunNow {
			signals++
		}
	}
	if signals != 2 {
		t.Fatalf("one run got %d %q signals, want 2 (both requests joined the same workflow)", signals, workflows.SignalUsageRunNow)
	}
}

// TestUsage_ExplainsWhereANumberCameFrom: a live estimate says it is one, a
// number from a billing report names the report and its stored copy.
func TestUsage_ExplainsWhereANumberCameFrom(t *testing.T) {
	h := withStoreReads(newHarness(t))
	ctx := context.Background()
	est := storageUsage(8, octStart, novStart, "1073741824", "1")
	est.Estimate = true
	est.Source = json.RawMessage(`{"kind":"live","observedAt":"2026-10-31T00:00:00Z","samples":1}`)
	first := record(t, h.store, est)
	fromReport := storageUsage(8, octStart, novStart, "1610612736", "2")
	fromReport.Source = json.RawMessage(`{"kind":"report","reportId":"rep-1","storedId":"st-1","reportPeriod":"2026-10-01 – 2026-10-31","samples":1}`)
	second, err := h.store.CorrectUsage(ctx, fromReport, "billing report rep-1 (stored copy st-1) for 2026-10-01 – 2026-10-31: class2_billed is 2 GB, not 1 GB")
	if err != nil {
		t.Fatal(err)
	}
	explain := func(id int64) UsageExplanation {
		t.Helper()
		r := h.do("GET", fmt.Sprintf("/api/v1/usage/%d", id), readToken, nil)
		if r.code != 200 {
			t.Fatalf("GET usage %d = %d %s", id, r.code, r.body)
		}
		return decode[UsageExplanation](t, r)
	}
	old := explain(first.ID)
	if !old.Estimate || old.Source.Kind != usage.SourceLive {
		t.Fatalf("estimate row = %+v", old.UsageItem)
	}
	for _, s := range []string{"live Acronis usage sample", "an estimate", `"billing report"`} {
		if !strings.Contains(old.Explanation, s) {
			t.Errorf("estimate explanation %q lacks %q", old.Explanation, s)
		}
	}
	cur := explain(second.ID)
	if cur.Estimate || cur.Source.Kind != usage.SourceReport || cur.Source.ReportID != "rep-1" || cur.Source.StoredID != "st-1" {
		t.Fatalf("report row = %+v", cur.UsageItem)
	}
	for _, s := range []string{"Acronis billing report rep-1", "stored copy st-1", "billing report rep-1"} {
		if !strings.Contains(cur.Explanation, s) {
			t.Errorf("report explanation %q lacks %q", cur.Explanation, s)
		}
	}
	if strings.Contains(cur.Explanation, "an estimate") {
		t.Errorf("report explanation %q calls itself an estimate", cur.Explanation)
	}
}

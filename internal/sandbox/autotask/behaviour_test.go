package autotask_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	client "github.com/acronis-autotask/acronis-autotask/internal/autotask"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

func TestAuth_FailuresAre401WithEmptyBody(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	good := creds()
	cases := map[string]map[string]string{
		"wrong secret":  {"Secret": "nope"},
		"wrong user":    {"UserName": "other@x"},
		"wrong code":    {"ApiIntegrationCode": "OTHER"},
		"missing code":  {"ApiIntegrationCode": ""},
		"regular user":  {"UserName": atsandbox.RegularUsername},
		"missing all 3": {"UserName": "", "Secret": "", "ApiIntegrationCode": ""},
	}
	for name, override := range cases {
		hd := map[string]string{}
		for k, v := range good {
			hd[k] = v
		}
		for k, v := range override {
			hd[k] = v
		}
		r := h.request(h.raw, "GET", h.base+"Companies/101", nil, hd)
		if r.status != http.StatusUnauthorized || len(r.body) != 0 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: got %d body %q www-authenticate %q; want 401, empty body, a Basic realm", name, r.status, r.body, r.header.Get("WWW-Authenticate"))
		}
	}
	r := h.request(h.raw, "GET", h.srv.URL+"/atservicesrest/v1.0/zoneInformation?user=nobody%40x", nil, nil)
	if r.status != 500 || !strings.Contains(string(r.body), "Zone information could not be determined") {
		t.Errorf("zone lookup for an unknown user = %d %s, want 500 with Autotask's message", r.status, r.body)
	}
	r = h.request(h.raw, "GET", h.srv.URL+"/atservicesrest/v1.0/zoneInformation?user="+url.QueryEscape(atsandbox.RegularUsername), nil, nil)
	if r.status != 200 {
		t.Errorf("zone lookup for the regular user = %d, want 200 (the user exists)", r.status)
	}
}

func TestQuery_ErrorsAndSilentlyIgnoredOperator(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	cases := []struct {
		name string
		body any
		want string
	}{
		{"MaxRecords 1000", map[string]any{"MaxRecords": 1000, "filter": all()["filter"]}, "maxCountOfRecordsToReturn must be between 1 and 500"},
		{"no filter", map[string]any{"filter": []any{}}, "at least one filter"},
		{"unknown field", where(cond("eq", "projectID", 1)), "Unable to find projectID in the Company Entity"},
		{"boolean given as 1", where(cond("eq", "isActive", 1)), "booleans must be true or false"},
		{"null value", where(cond("eq", "id", nil)), "cannot be null"},
		{"not queryable", where(cond("eq", "creatorType", 1)), "Unable to find creatorType in the Company Entity"},
	}
	for _, c := range cases {
		r := h.request(h.raw, "POST", h.base+"Companies/query", c.body, creds())
		if r.status != 500 || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: got %d %s, want 500 containing %q", c.name, r.status, r.body, c.want)
		}
	}
	h.must200(h.do("POST", "UserDefinedFieldDefinitions", map[string]any{"name": "Tier", "udfType": 3, "dataType": 1}), "second contract UDF")
	twoUDFs := map[string]any{"filter": []any{
		map[string]any{"op": "eq", "field": "Acronis PAYG", "udf": true, "value": "Yes"},
		map[string]any{"op": "eq", "field": "Tier", "udf": true, "value": "x"}}}
	if r := h.request(h.raw, "POST", h.base+"Contracts/query", twoUDFs, creds()); r.status != 500 || !strings.Contains(string(r.body), "one user-defined field") {
		t.Errorf("two UDFs in one query = %d %s, want 500 one user-defined field at a time", r.status, r.body)
	}
	r := h.request(h.raw, "POST", h.base+"Tickets/query", where(cond("eq", "creatorType", 1)), creds())
	if r.status != 500 || !strings.Contains(string(r.body), "not queryable") {
		t.Errorf("query on Tickets.creatorType = %d %s, want 500 not queryable", r.status, r.body)
	}
	// "ne" is not an operator: Autotask ignores the condition and matches everything.
	ne := h.must200(h.do("POST", "Companies/query/count", where(cond("ne", "id", 101))), "ne").json(t)
	allCount := h.must200(h.do("POST", "Companies/query/count", all()), "all").json(t)
	if ne["queryCount"].(json.Number) != allCount["queryCount"].(json.Number) {
		t.Errorf("count with ne = %v, want every company (%v)", ne["queryCount"], allCount["queryCount"])
	}
}

func TestPaging_NextPageURLs(t *testing.T) {
	h := newHarness(t, atsandbox.Options{Dataset: "generated", Companies: 25, Seed: 1})
	body := map[string]any{"maxRecords": 10, "filter": all()["filter"]}
	var got []string
	next := h.base + "Companies/query"
	var prev any
	pages := 0
	for next != "" {
		r := h.must200(h.request(h.hc, "POST", next, body, creds()), "page")
		page := r.json(t)
		pd := page["pageDetails"].(map[string]any)
		if rc := pd["requestCount"].(json.Number).String(); rc != "10" {
			t.Errorf("requestCount = %s, want 10", rc)
		}
		for _, it := range page["items"].([]any) {
			got = append(got, fmt.Sprint(it.(map[string]any)["id"]))
		}
		if pages > 0 && pd["prevPageUrl"] == nil {
			t.Errorf("page %d has no prevPageUrl", pages+1)
		}
		if pages == 1 {
			prev = pd["prevPageUrl"]
		}
		next, _ = pd["nextPageUrl"].(string)
		if next != "" && !strings.HasPrefix(next, h.srv.URL+"/ATServicesRest/V1.0/Companies/query/next?paging=") {
			t.Errorf("nextPageUrl = %s, want one pointing back at the sandbox", next)
		}
		if next != "" {
			if r := h.request(h.raw, "GET", next, nil, creds()); r.status != http.StatusMethodNotAllowed {
				t.Errorf("GET on the next page of a POST query = %d, want 405", r.status)
			}
		}
		pages++
	}
	if pages != 3 || len(got) != 26 || got[0] != "0" || got[25] != "1025" {
		t.Errorf("pages %d, ids %v; want 3 pages of 0, 1001…1025", pages, got)
	}
	first := h.must200(h.request(h.hc, "POST", prev.(string), body, creds()), "prev page").json(t)
	if id := fmt.Sprint(first["items"].([]any)[0].(map[string]any)["id"]); id != "0" {
		t.Errorf("prevPageUrl of page 2 starts at %s, want 0", id)
	}
	// A GET query pages with GET.
	search := url.QueryEscape(`{"MaxRecords":20,"filter":[{"op":"gte","field":"id","value":0}]}`)
	p1 := h.must200(h.request(h.hc, "GET", h.base+"Companies/query?search="+search, nil, creds()), "GET query").json(t)
	n2, _ := p1["pageDetails"].(map[string]any)["nextPageUrl"].(string)
	p2 := h.must200(h.request(h.raw, "GET", n2, nil, creds()), "GET next page").json(t)
	if c := p2["pageDetails"].(map[string]any)["count"].(json.Number).String(); c != "6" {
		t.Errorf("second GET page count = %s, want 6", c)
	}
}

func TestIncludeFields_AnswersOnlyTheListedFields(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	body := map[string]any{"includeFields": []string{"contractName", "Acronis PAYG"}, "filter": where(cond("eq", "id", 2102))["filter"]}
	page := h.must200(h.do("POST", "Contracts/query", body), "query").json(t)
	item := page["items"].([]any)[0].(map[string]any)
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"contractName", "id", "userDefinedFields"}; !slices.Equal(keys, want) {
		t.Errorf("fields = %v, want %v", keys, want)
	}
	udfs := item["userDefinedFields"].([]any)
	if len(udfs) != 1 || udfs[0].(map[string]any)["value"] != "Yes" {
		t.Errorf("userDefinedFields = %v, want [Acronis PAYG = Yes]", udfs)
	}
}

func TestBudget_RollingHourAndThresholdInformation(t *testing.T) {
	h := newHarness(t, atsandbox.Options{HourlyLimit: 3})
	for i := range 2 {
		h.must200(h.do("GET", "Companies/101", nil), fmt.Sprint("request ", i))
	}
	th := h.must200(h.do("GET", "ThresholdInformation", nil), "threshold").json(t)
	if th["currentTimeframeRequestCount"].(json.Number).String() != "3" || th["externalRequestThreshold"].(json.Number).String() != "3" ||
		th["requestThresholdTimeframe"].(json.Number).String() != "60" {
		t.Errorf("ThresholdInformation = %v, want count 3 (it counts itself) of 3 per 60 minutes", th)
	}
	r := h.request(h.raw, "GET", h.base+"Companies/101", nil, creds())
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "3600" {
		t.Errorf("request past the limit = %d Retry-After %q, want 429 and 3600", r.status, r.header.Get("Retry-After"))
	}
	h.now = h.now.Add(30 * time.Minute)
	r = h.request(h.raw, "GET", h.base+"Companies/101", nil, creds())
	if r.header.Get("Retry-After") != "1800" {
		t.Errorf("30 minutes later Retry-After = %q, want 1800", r.header.Get("Retry-After"))
	}
	h.now = h.now.Add(31 * time.Minute)
	h.must200(h.do("GET", "Companies/101", nil), "after the window slid")
	if got := h.sb.RequestsThisHour(); got != 1 {
		t.Errorf("RequestsThisHour = %d, want 1", got)
	}
}

func TestBudget_OtherIntegrationsCountInThresholdInformationButNotInTheLog(t *testing.T) {
	h := newHarness(t, atsandbox.Options{HourlyLimit: 100})
	h.sb.AddOtherIntegrationRequests(97)
	logged := h.sb.RequestLog().Total()
	th := h.must200(h.do("GET", "ThresholdInformation", nil), "threshold").json(t)
	if th["currentTimeframeRequestCount"].(json.Number).String() != "98" {
		t.Errorf("ThresholdInformation = %v, want count 98 (97 of others, 1 own)", th)
	}
	if got := h.sb.RequestLog().Total() - logged; got != 1 {
		t.Errorf("request log grew by %d, want 1 (the others' requests are not this integration's)", got)
	}
	h.must200(h.do("GET", "Companies/101", nil), "the 99th request")
	h.must200(h.do("GET", "Companies/101", nil), "the 100th request")
	if r := h.request(h.raw, "GET", h.base+"Companies/101", nil, creds()); r.status != http.StatusTooManyRequests {
		t.Errorf("the 101st request of the hour = %d, want 429 (the others' count towards the limit)", r.status)
	}
}

// TestUnits_PessimisticCase covers SPEC F11: unit changes never touch the
// contract, and a silent change does not even create a new row id.
func TestUnits_PessimisticCase(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	contract := atsandbox.DemoContractID(107)
	before, _ := h.sb.Contract(contract)
	rowsBefore := h.must200(h.do("POST", "ContractServiceUnits/query", where(cond("eq", "contractID", contract))), "units").body
	h.now = h.now.Add(time.Hour)
	if err := h.sb.SetUnitsSilently(contract, atsandbox.ServiceWorkstations, 99); err != nil {
		t.Fatalf("SetUnitsSilently: %v", err)
	}
	if n, _ := h.sb.CurrentUnits(contract, atsandbox.ServiceWorkstations); n != 99 {
		t.Errorf("units after silent change = %d, want 99", n)
	}
	rowsAfter := h.must200(h.do("POST", "ContractServiceUnits/query", where(cond("eq", "contractID", contract))), "units").body
	idsOf := func(b []byte) []float64 {
		var p struct {
			Items []struct {
				ID float64 `json:"id"`
			} `json:"items"`
		}
		_ = json.Unmarshal(b, &p)
		var out []float64
		for _, it := range p.Items {
			out = append(out, it.ID)
		}
		return out
	}
	if a, b := idsOf(rowsBefore), idsOf(rowsAfter); !slices.Equal(a, b) {
		t.Errorf("row ids changed from %v to %v; a silent change must keep them", a, b)
	}
	if err := h.sb.AdjustUnits(contract, atsandbox.ServiceServers, 2, h.now); err != nil {
		t.Fatalf("AdjustUnits: %v", err)
	}
	after, _ := h.sb.Contract(contract)
	if !after.LastModifiedDateTime.Equal(before.LastModifiedDateTime.Time) {
		t.Errorf("contract lastModifiedDateTime %v → %v; unit changes must not touch it", before.LastModifiedDateTime, after.LastModifiedDateTime)
	}
	if err := h.sb.EndContract(contract, fixedNow.AddDate(0, 0, -1)); err != nil {
		t.Fatalf("EndContract: %v", err)
	}
	if n, ok := h.sb.CurrentUnits(contract, atsandbox.ServiceWorkstations); ok {
		t.Errorf("ended contract still has %d units today, want its periods clipped to the end date", n)
	}
	ended, _ := h.sb.Contract(contract)
	if !ended.LastModifiedDateTime.After(before.LastModifiedDateTime.Time) || !ended.EndDate.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ended contract: lastModified %v endDate %v; want a later lastModified and 2026-11-23", ended.LastModifiedDateTime, ended.EndDate)
	}
}

func TestDemo_Dataset(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	names := map[int64]string{0: "Acronis Autotask Demo MSP", 101: "Contoso Ltd", 102: "Fabrikam Inc", 103: "Northwind Traders",
		104: "Tailspin Toys", 105: "Wide World Importers", 106: "Adventure Works", 107: "Litware Inc", 108: "Proseware Inc",
		109: "Woodgrove Bank", 110: "Blue Yonder Airlines"}
	for id, name := range names {
		c, ok := h.sb.Company(id)
		if !ok || c.CompanyName != name {
			t.Errorf("company %d = %q (%v), want %q", id, c.CompanyName, ok, name)
		}
		if id == 0 {
			continue
		}
		contact := h.must200(h.do("POST", "Contacts/query", where(cond("eq", "companyID", id), cond("eq", "primaryContact", true))), "contact").json(t)
		items := contact["items"].([]any)
		if len(items) != 1 || !strings.Contains(fmt.Sprint(items[0].(map[string]any)["emailAddress"]), "@") {
			t.Errorf("company %d primary contacts = %v, want one with an email", id, items)
		}
	}
	if _, ok := h.sb.Contract(atsandbox.DemoContractID(106)); ok {
		t.Errorf("Adventure Works has a contract, want none")
	}
	units := map[[2]int64]int{
		{101, atsandbox.ServiceWorkstations}: 25, {101, atsandbox.ServiceServers}: 3, {101, atsandbox.ServiceBackupStorage}: 500,
		{110, atsandbox.ServiceM365Seats}: 120, {104, atsandbox.ServiceWorkstations}: 0, {102, atsandbox.ServiceWorkstations}: 0,
	}
	// Tailspin buys workstations both ways: PAYG above, prepaid in a second contract.
	if got, ok := h.sb.CurrentUnits(atsandbox.DemoSecondContractID(104), atsandbox.ServiceWorkstations); !ok || got != 10 {
		t.Errorf("Tailspin's prepaid contract workstations = %d (%v), want 10", got, ok)
	}
	for k, want := range units {
		if got, ok := h.sb.CurrentUnits(atsandbox.DemoContractID(k[0]), k[1]); !ok || got != want {
			t.Errorf("company %d service %d units = %d (%v), want %d", k[0], k[1], got, ok, want)
		}
	}
	if _, ok := h.sb.CurrentUnits(atsandbox.DemoContractID(105), atsandbox.ServiceWorkstations); ok {
		t.Errorf("ended contract 105 has units today, want none (it ended last month)")
	}
	for id, want := range map[int64]string{101: "No", 102: "Yes", 103: "", 104: "Yes"} {
		c, _ := h.sb.Contract(atsandbox.DemoContractID(id))
		if got, _ := client.UDFValue(c.UserDefinedFields, atsandbox.PAYGUDFName); got != want {
			t.Errorf("contract of %d Acronis PAYG = %q, want %q", id, got, want)
		}
	}
	want := []string{"Acronis Cyber Protect - Workstations", "Acronis Cyber Protect - Servers", "Acronis Cyber Protect - Virtual machines",
		"Acronis Cyber Protect - Microsoft 365 seats", "Acronis Cyber Protect - Backup storage (GB)", "Acronis Cyber Protect - Advanced Security (Workstations)"}
	for _, n := range want {
		if _, ok := h.sb.ServiceByName(n); !ok {
			t.Errorf("service %q missing", n)
		}
	}
	if n := len(h.sb.UDFDefinitions()); n != 1 {
		t.Errorf("UDF definitions = %d, want 1 (Acronis PAYG)", n)
	}
	empty := newHarness(t, atsandbox.Options{Dataset: "empty"})
	if n := len(empty.sb.UDFDefinitions()); n != 0 || empty.sb.Count("Companies") != 1 || empty.sb.Count("Services") != 0 {
		t.Errorf("empty dataset: %d UDFs, %d companies, %d services; want 0, 1 (the MSP), 0", n, empty.sb.Count("Companies"), empty.sb.Count("Services"))
	}
}

func TestGenerated_DeterministicBySeed(t *testing.T) {
	snapshot := func(seed uint64) (int, int, []int) {
		sb, err := atsandbox.New(atsandbox.Options{Dataset: "generated", Companies: 400, Seed: seed, Now: func() time.Time { return fixedNow }})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		var units []int
		for i := range 400 {
			for _, svc := range []int64{atsandbox.ServiceWorkstations, atsandbox.ServiceServers} {
				for _, c := range []int64{2001 + int64(i)} {
					n, _ := sb.CurrentUnits(c, svc)
					units = append(units, n)
				}
			}
		}
		return sb.Count("Contracts"), sb.Count("ContractServiceUnits"), units
	}
	c1, u1, x1 := snapshot(42)
	c2, u2, x2 := snapshot(42)
	c3, u3, x3 := snapshot(43)
	if c1 != c2 || u1 != u2 || !slices.Equal(x1, x2) {
		t.Errorf("same seed differs: contracts %d/%d rows %d/%d", c1, c2, u1, u2)
	}
	if c1 == c3 && u1 == u3 && slices.Equal(x1, x3) {
		t.Errorf("seeds 42 and 43 generated identical data")
	}
	if c1 < 360 || c1 > 400 {
		t.Errorf("contracts for 400 companies = %d, want about 95%%", c1)
	}
}

func TestConcurrentWritesAreSafe(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	var wg sync.WaitGroup
	ids := make(chan string, 30)
	for i := range 30 {
		wg.Go(func() {
			r := h.request(h.raw, "POST", h.base+"Tickets", map[string]any{"companyID": 101 + i%10, "title": "t", "status": 1, "priority": 2,
				"externalID": fmt.Sprint("c-", i)}, creds())
			if r.status == 200 {
				ids <- string(r.body)
			} else if r.status != http.StatusTooManyRequests {
				t.Errorf("create = %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("duplicate answer %s", id)
		}
		seen[id] = true
	}
	if h.sb.TicketCount() != len(seen) {
		t.Errorf("tickets stored = %d, answered = %d", h.sb.TicketCount(), len(seen))
	}
}

func TestUsageLatency_SlowsRequestsPastHalfTheBudget(t *testing.T) {
	h := newHarness(t, atsandbox.Options{HourlyLimit: 4})
	h.sb.SimulateUsageLatency(true)
	durations := make([]time.Duration, 0, 4)
	for range 4 {
		start := time.Now()
		h.must200(h.do("GET", "Companies/101", nil), "request")
		durations = append(durations, time.Since(start))
	}
	// Usage after admission: 1/4, 2/4, 3/4, 4/4 → no delay, 0.5 s, 1 s, 1 s.
	if durations[0] > 300*time.Millisecond || durations[1] < 450*time.Millisecond || durations[2] < 950*time.Millisecond {
		t.Errorf("durations = %v, want ~0, ≥0.5 s, ≥1 s", durations[:3])
	}
}

func TestStateMethods_RenameAndDeactivate(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	if err := h.sb.RenameCompany(101, "Contoso Group"); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.sb.Company(101); c.CompanyName != "Contoso Group" {
		t.Errorf("renamed company = %q, want Contoso Group", c.CompanyName)
	}
	if err := h.sb.SetServiceActive(atsandbox.ServiceMobileDevices, false); err != nil {
		t.Fatal(err)
	}
	r := h.must200(h.do("POST", "Services/query/count", where(cond("eq", "isActive", false))), "count").json(t)
	if r["queryCount"].(json.Number).String() != "1" {
		t.Errorf("inactive services = %v, want 1", r["queryCount"])
	}
	if err := h.sb.RenameCompany(4242, "x"); err == nil {
		t.Errorf("RenameCompany(unknown) = nil, want an error")
	}
}

func TestControls_FaultsAndRequestLogEndpoints(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	r := h.request(h.raw, "POST", h.srv.URL+"/_sandbox/faults", map[string]any{"pathPrefix": "/atservicesrest/v1.0/companies", "errorRate": 1, "status": 503, "times": 1}, nil)
	if r.status != http.StatusCreated {
		t.Fatalf("add fault = %d %s, want 201", r.status, r.body)
	}
	if r := h.request(h.raw, "GET", h.base+"Companies/101", nil, creds()); r.status != 503 {
		t.Errorf("faulted request = %d, want 503", r.status)
	}
	h.must200(h.do("GET", "Companies/101", nil), "after the fault")
	log := h.request(h.raw, "GET", h.srv.URL+"/_sandbox/requests", nil, nil).json(t)
	if log["total"].(json.Number).String() != "2" {
		t.Errorf("request log total = %v, want 2", log["total"])
	}
	if n := h.sb.RequestLog().Count("GET /ATServicesRest/V1.0/Companies/{id}"); n != 2 {
		t.Errorf("RequestLog count for GET Companies/{id} = %d, want 2", n)
	}
}

package autotask_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

func TestQuery_EveryOperatorAgainstTheSandbox(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	A := autotask.Eq
	cases := []struct {
		name   string
		filter []autotask.Filter
		want   []int64
	}{
		{"eq", []autotask.Filter{A("companyName", "Contoso Ltd")}, []int64{101}},
		{"eq is case-insensitive", []autotask.Filter{A("CompanyName", "contoso ltd")}, []int64{101}},
		{"noteq", []autotask.Filter{autotask.Gte("id", 101), autotask.NotEq("city", "Seattle")}, []int64{}},
		{"gt", []autotask.Filter{autotask.Gt("id", 108)}, []int64{109, 110}},
		{"gte", []autotask.Filter{autotask.Gte("id", 109)}, []int64{109, 110}},
		{"lt", []autotask.Filter{autotask.Lt("id", 102)}, []int64{0, 101}},
		{"lte", []autotask.Filter{autotask.Lte("id", 101), autotask.Gt("id", 0)}, []int64{101}},
		{"beginsWith", []autotask.Filter{autotask.BeginsWith("companyName", "Wo")}, []int64{109}},
		{"endsWith", []autotask.Filter{autotask.EndsWith("companyName", "Inc")}, []int64{102, 107, 108}},
		{"contains", []autotask.Filter{autotask.Contains("companyName", "world")}, []int64{105}},
		{"exist", []autotask.Filter{autotask.Exist("state")}, []int64{101, 102, 103, 104, 105, 106, 107, 108, 109, 110}},
		{"notExist", []autotask.Filter{autotask.NotExist("state")}, []int64{0}},
		{"in", []autotask.Filter{autotask.In("id", 103, 105, 999)}, []int64{103, 105}},
		{"notIn", []autotask.Filter{autotask.Gt("id", 106), autotask.NotIn("id", 107, 108)}, []int64{109, 110}},
		{"in strings", []autotask.Filter{autotask.In("companyName", "Litware Inc", "Proseware Inc")}, []int64{107, 108}},
		{"or", []autotask.Filter{autotask.Or(A("id", 101), A("id", 110))}, []int64{101, 110}},
		{"and inside or", []autotask.Filter{autotask.Or(
			autotask.And(autotask.Gt("id", 100), autotask.Lt("id", 103)),
			autotask.And(A("companyName", "Woodgrove Bank"), autotask.Exist("phone")))}, []int64{101, 102, 109}},
		{"boolean", []autotask.Filter{A("isActive", true), autotask.Lt("id", 102)}, []int64{0, 101}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := autotask.QueryAll[autotask.Company](ctx(t), e.client, autotask.NewQuery(c.filter...))
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			if g := ids(got, companyID); !slices.Equal(g, c.want) {
				t.Errorf("ids = %v, want %v", g, c.want)
			}
		})
	}
}

func TestQuery_UDFAndDateFilters(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	payg, err := autotask.QueryAll[autotask.Contract](ctx(t), e.client,
		autotask.NewQuery(autotask.Eq(atsandbox.PAYGUDFName, "Yes").OnUDF()))
	if err != nil {
		t.Fatalf("query PAYG contracts: %v", err)
	}
	got := ids(payg, func(c autotask.Contract) int64 { return c.ID })
	if want := []int64{atsandbox.DemoContractID(102), atsandbox.DemoContractID(104)}; !slices.Equal(got, want) {
		t.Errorf("PAYG contracts = %v, want %v", got, want)
	}
	if v, _ := autotask.UDFValue(payg[0].UserDefinedFields, atsandbox.PAYGUDFName); v != "Yes" {
		t.Errorf("UDF value on the record = %q, want Yes", v)
	}
	today := autotask.Date(fixedNow)
	active, err := autotask.QueryAll[autotask.Contract](ctx(t), e.client, autotask.NewQuery(
		autotask.Eq("contractType", 7), autotask.Eq("status", 1), autotask.Lte("startDate", today), autotask.Gte("endDate", today)))
	if err != nil {
		t.Fatalf("query active contracts: %v", err)
	}
	got = ids(active, func(c autotask.Contract) int64 { return c.ID })
	want := []int64{2101, 2102, 2103, 2104, 2107, 2108, 2109, 2110, atsandbox.DemoSecondContractID(104)}
	if !slices.Equal(got, want) {
		t.Errorf("active contracts covering today = %v, want %v (105 ended last month, 106 has none, 104 has a second, prepaid one)", got, want)
	}
}

func TestQuery_PagesFollowNextPageURL(t *testing.T) {
	e := newEnv(t, atsandbox.Options{Dataset: "generated", Companies: 1200, Seed: 7})
	var pages, total int
	var last int64 = -1
	err := autotask.QueryPages(ctx(t), e.client, autotask.All().Limit(500), func(p []autotask.Company) error {
		pages++
		for _, c := range p {
			if c.ID <= last {
				t.Fatalf("id %d after %d: pages overlap or are unordered", c.ID, last)
			}
			last = c.ID
		}
		total += len(p)
		return nil
	})
	if err != nil {
		t.Fatalf("QueryPages: %v", err)
	}
	if pages != 3 || total != 1201 {
		t.Errorf("pages, records = %d, %d; want 3, 1201 (1200 generated + the MSP)", pages, total)
	}
	n, err := autotask.Count[autotask.Company](ctx(t), e.client, autotask.All())
	if err != nil || n != 1201 {
		t.Errorf("Count = %d, %v; want 1201", n, err)
	}
	if got := e.sb.RequestLog().Count("POST /ATServicesRest/V1.0/Companies/query/next"); got != 2 {
		t.Errorf("next-page POSTs = %d, want 2", got)
	}
	var seen int
	for c, err := range autotask.Iter[autotask.Company](ctx(t), e.client, autotask.All()) {
		if err != nil {
			t.Fatalf("Iter: %v", err)
		}
		seen++
		if c.ID > 1010 {
			break
		}
	}
	if seen != 12 { // 0, 1001 … 1011
		t.Errorf("Iter stopped after %d records, want 12", seen)
	}
}

func TestQuery_IncludeFieldsLimitsTheAnswer(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	cs, err := autotask.QueryAll[autotask.Company](ctx(t), e.client, autotask.NewQuery(autotask.Eq("id", 101)).Fields("companyName"))
	if err != nil || len(cs) != 1 {
		t.Fatalf("query = %v, %v; want one company", cs, err)
	}
	if cs[0].CompanyName != "Contoso Ltd" || cs[0].ID != 101 {
		t.Errorf("got id %d name %q, want 101 Contoso Ltd", cs[0].ID, cs[0].CompanyName)
	}
	if cs[0].Phone != "" || cs[0].City != "" {
		t.Errorf("fields outside IncludeFields came back: phone %q city %q", cs[0].Phone, cs[0].City)
	}
}

func TestQuery_RefusedBeforeSending(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	bad := map[string]autotask.Query{
		"no filter":      autotask.NewQuery(),
		"typo operator":  autotask.NewQuery(autotask.Filter{Op: "ne", Field: "id", Value: 1}),
		"MaxRecords 600": autotask.All().Limit(600),
		"two UDFs":       autotask.NewQuery(autotask.Eq("a", "1").OnUDF(), autotask.Eq("b", "2").OnUDF()),
		"null value":     autotask.NewQuery(autotask.Eq("id", nil)),
		"empty in":       autotask.NewQuery(autotask.In[int]("id")),
		"empty group":    autotask.NewQuery(autotask.Or()),
	}
	for name, q := range bad {
		_, err := autotask.QueryAll[autotask.Company](ctx(t), e.client, q)
		if !errors.Is(err, autotask.ErrBadQuery) {
			t.Errorf("%s: error = %v, want ErrBadQuery", name, err)
		}
	}
	if got := e.sb.RequestLog().Total(); got != 1 { // the zone lookup only
		t.Errorf("requests sent = %d, want 1 (zone lookup only)", got)
	}
}

func TestQuery_UnknownFieldIsInvalidWithAutotasksMessage(t *testing.T) {
	e := newEnv(t, atsandbox.Options{})
	_, err := autotask.QueryAll[autotask.Company](ctx(t), e.client, autotask.NewQuery(autotask.Eq("projectID", 1)))
	if !autotask.IsInvalid(err) {
		t.Fatalf("error = %v, want Invalid", err)
	}
	var ae *autotask.Error
	if !errors.As(err, &ae) || len(ae.Messages) != 1 || ae.Messages[0] != "Unable to find projectID in the Company Entity" || ae.Status != 500 {
		t.Errorf("error = %#v, want HTTP 500 with [Unable to find projectID in the Company Entity]", ae)
	}
	if got := e.client.Stats().Retries; got != 0 {
		t.Errorf("retries of a validation error = %d, want 0", got)
	}
}

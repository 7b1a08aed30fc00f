package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/suggest"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

// loadDataset writes a generated data set into the read model: every
// company active with its contact, every tenant a manageable customer.
func loadDataset(tb testing.TB, st *store.Store, d suggest.Dataset) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	for chunk := range slices.Chunk(d.Companies, 2000) {
		recs := make([]store.CompanyRecord, len(chunk))
		for i, c := range chunk {
			recs[i] = store.CompanyRecord{ID: c.ID, Name: c.Name, Type: 1, TypeLabel: "Customer", Active: true,
				ContactKnown: true, ContactName: "IT", ContactEmail: c.Email}
		}
		if err := st.SaveCompanies(ctx, recs, now); err != nil {
			tb.Fatal(err)
		}
	}
	for chunk := range slices.Chunk(d.Tenants, 2000) {
		ts := make([]readmodel.Tenant, len(chunk))
		for i, t := range chunk {
			ts[i] = readmodel.Tenant{ID: t.ID, Name: t.Name, Kind: "customer", Enabled: true, ContactEmail: t.Email}
		}
		if _, err := st.SaveTenants(ctx, ts, 1, now); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := st.MarkUnseenTenantsDeleted(ctx, 1, now); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `ANALYZE rm_companies; ANALYZE rm_tenants`); err != nil {
		tb.Fatal(err)
	}
}

// refreshAllSuggestions recomputes every stale company's suggestions, as
// the tenant sync does over its runs.
func refreshAllSuggestions(tb testing.TB, st *store.Store) {
	tb.Helper()
	for {
		done, remaining, err := st.RefreshSuggestions(context.Background(), 500)
		if err != nil {
			tb.Fatal(err)
		}
		if remaining == 0 || done == 0 {
			return
		}
	}
}

// quality is the precision and recall of taking a company's best
// suggestion when its confidence reaches a threshold.
type quality struct {
	threshold                  float64
	predicted, correct, truths int
}

func (q quality) precision() float64 { return float64(q.correct) / float64(max(q.predicted, 1)) }
func (q quality) recall() float64    { return float64(q.correct) / float64(max(q.truths, 1)) }

// TestSuggestions_PrecisionAndRecallOnAGeneratedDataSet measures the
// suggestions on 1,000 generated companies with known answers (exact names
// restyled, misspelled, abbreviated, renamed with only the e-mail domain in
// common, and companies without a tenant among hard-negative tenants). The
// figures go to BENCHMARKS.md ("Mapping suggestions"); the test fails when
// they fall below what bulk mapping "above confidence X" relies on.
func TestSuggestions_PrecisionAndRecallOnAGeneratedDataSet(t *testing.T) {
	st := testenv.MustOpenDB(t)
	d := suggest.Generate(1000, 16)
	loadDataset(t, st, d)
	refreshAllSuggestions(t, st)
	ids := make([]int64, len(d.Companies))
	for i, c := range d.Companies {
		ids[i] = c.ID
	}
	got, err := st.StoredSuggestions(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	thresholds := []float64{0.3, 0.5, 0.7, 0.9}
	qs := make([]quality, len(thresholds))
	byVar := map[suggest.Variation]*[2]int{} // found within the suggestions, companies
	top5 := 0
	truths := 0
	for _, c := range d.Companies {
		s := got[c.ID]
		if c.Answer != "" {
			truths++
			v := byVar[c.Var]
			if v == nil {
				v = &[2]int{}
				byVar[c.Var] = v
			}
			v[1]++
			if slices.ContainsFunc(s, func(x suggest.Suggestion) bool { return x.TenantID == c.Answer }) {
				top5++
				v[0]++
			}
		}
		for i, th := range thresholds {
			qs[i].threshold, qs[i].truths = th, truths
			if len(s) > 0 && s[0].Confidence >= th {
				qs[i].predicted++
				if s[0].TenantID == c.Answer {
					qs[i].correct++
				}
			}
		}
	}
	for i := range qs {
		qs[i].truths = truths
		t.Logf("confidence ≥ %.1f: %d predictions, %d right: precision %.3f, recall %.3f", qs[i].threshold, qs[i].predicted, qs[i].correct, qs[i].precision(), qs[i].recall())
	}
	t.Logf("right tenant among the suggestions (recall@%d): %d of %d = %.3f", suggest.MaxSuggestions, top5, truths, float64(top5)/float64(truths))
	for _, v := range []suggest.Variation{suggest.VarExact, suggest.VarMisspelled, suggest.VarAbbreviated, suggest.VarRenamed} {
		if n := byVar[v]; n != nil {
			t.Logf("  %-11s %d of %d suggested (%.3f)", v, n[0], n[1], float64(n[0])/float64(n[1]))
		}
	}
	// What bulk mapping relies on: above 0.9 almost never wrong; above 0.5 most customers found.
	if q := qs[3]; q.precision() < 0.98 {
		t.Errorf("precision at confidence ≥ 0.9 = %.3f, want ≥ 0.98", q.precision())
	}
	if q := qs[1]; q.precision() < 0.9 || q.recall() < 0.75 {
		t.Errorf("at confidence ≥ 0.5: precision %.3f recall %.3f, want ≥ 0.9 and ≥ 0.75", q.precision(), q.recall())
	}
	if r := float64(top5) / float64(truths); r < 0.9 {
		t.Errorf("recall@5 = %.3f, want ≥ 0.9", r)
	}
}

// BenchmarkReadModelLists measures list calls at 10,000 companies and
// 10,000 tenants (plus 2,000 unrelated tenants) and reports the p95 of each
// kind of call; the target is 50 ms (issue 16, BENCHMARKS.md). Run with
//
//	go test ./internal/store/ -run '^$' -bench ReadModelLists -benchtime 200x
func BenchmarkReadModelLists(b *testing.B) {
	st := testenv.MustOpenDB(b)
	d := suggest.Generate(10000, 16)
	loadDataset(b, st, d)
	refreshAllSuggestions(b, st)
	ctx := context.Background()
	// A quarter of the companies mapped, so every filter has rows.
	for _, c := range d.Companies[:2500] {
		if c.Answer == "" {
			continue
		}
		if _, err := st.MapCustomer(ctx, store.CustomerMapping{CompanyID: c.ID, TenantID: c.Answer}, store.Actor{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	customer := 1
	calls := []struct {
		name string
		run  func(page int) error
	}{
		{"customers/all-by-name", func(p int) error {
			_, err := st.ListCustomers(ctx, readmodel.CustomerQuery{Filter: readmodel.FilterAll, Sort: readmodel.SortName, Page: p, PageSize: 50, Suggestions: true})
			return err
		}},
		{"customers/unmapped-with-suggestions", func(p int) error {
			_, err := st.ListCustomers(ctx, readmodel.CustomerQuery{Filter: readmodel.FilterUnmapped, Sort: readmodel.SortName, Page: p, PageSize: 50, Suggestions: true})
			return err
		}},
		{"customers/search", func(p int) error {
			_, err := st.ListCustomers(ctx, readmodel.CustomerQuery{Filter: readmodel.FilterAll, Text: []string{"logis", "dent", "kalo", "zen"}[p%4], Page: 1, PageSize: 50, Suggestions: true})
			return err
		}},
		{"customers/mapped-by-type-desc", func(p int) error {
			typ := 1
			_, err := st.ListCustomers(ctx, readmodel.CustomerQuery{Filter: readmodel.FilterMapped, Type: &typ, Sort: readmodel.SortContracts, Desc: true, Page: p, PageSize: 50})
			return err
		}},
		{"tenants/all-by-name", func(p int) error {
			_, err := st.ListTenants(ctx, readmodel.TenantQuery{Filter: readmodel.FilterAll, Sort: readmodel.SortName, Page: p, PageSize: 50})
			return err
		}},
		{"tenants/mappable-search", func(p int) error {
			_, err := st.ListTenants(ctx, readmodel.TenantQuery{Filter: readmodel.TenantFilterMappable, Text: []string{"logis", "dent", "kalo", "zen"}[p%4], Page: 1, PageSize: 50})
			return err
		}},
		{"suggestions/one-company", func(p int) error {
			c, err := st.SuggestCompany(ctx, d.Companies[(customer+p)%len(d.Companies)].ID)
			if err != nil {
				return err
			}
			_, err = st.Suggestions(ctx, []suggest.Company{c})
			return err
		}},
	}
	for _, call := range calls {
		b.Run(call.name, func(b *testing.B) {
			durations := make([]time.Duration, 0, b.N)
			for i := range b.N {
				start := time.Now()
				if err := call.run(1 + i%20); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(start))
			}
			slices.Sort(durations)
			p95 := durations[(len(durations)*95+99)/100-1]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

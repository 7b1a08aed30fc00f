package usage

import (
	"math/big"
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

func rat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, err := ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConversionBill_RoundingRules(t *testing.T) {
	gb := DefaultConversion(UnitBytes)
	tests := []struct {
		name string
		c    Conversion
		raw  string
		want string
	}{
		{"one byte is one GB rounded up", gb, "1", "1"},
		{"exactly 1 GiB is 1", gb, "1073741824", "1"},
		{"1 GiB and a byte is 2", gb, "1073741825", "2"},
		{"zero stays zero", gb, "0", "0"},
		{"180.5 GiB rounds up to 181", gb, "193810612224", "181"},
		{"down drops the fraction", Conversion{RawUnit: UnitBytes, BilledUnit: "GB", Divisor: GiBDivisor, Rounding: RoundDown}, "2147483647", "1"},
		{"nearest below half", Conversion{Divisor: "10", Rounding: RoundNearest}, "14", "1"},
		{"nearest at half goes up", Conversion{Divisor: "10", Rounding: RoundNearest}, "15", "2"},
		{"decimal divisor", Conversion{Divisor: "0.5", Rounding: RoundUp}, "1.2", "3"},
		{"seconds to hours", Conversion{RawUnit: UnitSeconds, BilledUnit: "hour", Divisor: "3600", Rounding: RoundUp}, "3601", "2"},
		{"quantities count as is", DefaultConversion(UnitQuantity), "12", "12"},
		{"a huge exact value keeps every digit", gb, "1152921504606846976000", "1073741824000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Bill(rat(t, tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("Bill(%s) with %s = %s, want %s", tt.raw, tt.c.Rule(), got, tt.want)
			}
		})
	}
}

func TestConversionBill_RefusesBadInput(t *testing.T) {
	for _, c := range []Conversion{{Divisor: "0"}, {Divisor: "-1"}, {Divisor: "x"}, {Divisor: "1", Rounding: "banker"}} {
		if _, err := c.Bill(big.NewRat(3, 2)); err == nil {
			t.Errorf("Bill with %+v = nil error, want one", c)
		}
	}
	if _, err := DefaultConversion(UnitBytes).Bill(big.NewRat(-1, 1)); err == nil {
		t.Error("a negative raw value was billed")
	}
}

func TestFromFloatAndFormatDecimal_Exact(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{344064, "344064"}, {0.1, "0.1"}, {193810612224, "193810612224"}, {1.5e-7, "0.00000015"}, {0, "0"}}
	for _, tt := range tests {
		r, err := FromFloat(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatDecimal(r); got != tt.want {
			t.Errorf("FormatDecimal(FromFloat(%v)) = %s, want %s", tt.in, got, tt.want)
		}
	}
	// 0.1 + 0.2 is exactly 0.3 here, unlike with floats.
	sum := new(big.Rat).Add(rat(t, "0.1"), rat(t, "0.2"))
	if got := FormatDecimal(sum); got != "0.3" {
		t.Errorf("0.1 + 0.2 = %s, want 0.3", got)
	}
	if !SameDecimal("2", "2.00") || SameDecimal("2", "2.01") {
		t.Error("SameDecimal compares values, not text")
	}
}

func TestConversionFor_StoreDefaultDivisorOnBytesBecomesGB(t *testing.T) {
	c := ConversionFor("bytes", "GB", "1", "up", "bytes")
	if c.Divisor != GiBDivisor {
		t.Errorf("divisor = %s, want %s", c.Divisor, GiBDivisor)
	}
	c = ConversionFor("bytes", "bytes", "1", "down", "bytes")
	if c.Divisor != "1" || c.Rounding != RoundDown {
		t.Errorf("explicit bytes billing changed: %+v", c)
	}
	if c := ConversionFor("", "", "", "", "quantity"); c.Divisor != "1" || c.BilledUnit != "unit" {
		t.Errorf("unset mapping = %+v, want the quantity default", c)
	}
}

const (
	infraA   = "infra-a"
	svcWS    = 301
	svcStore = 305
	svcOver  = 311
	svcC1    = 312
	svcC2    = 313
)

func storage(tenant string, bytes string, quota *string) Sample {
	return Sample{TenantID: tenant, Item: "pw_base_storage", UsageName: StorageUsageName, InfraID: infraA, Unit: UnitBytes, Value: bytes, Current: bytes, Quota: quota}
}

func protected(tenant, bytes string) Sample {
	return Sample{TenantID: tenant, Item: "protected_mailbox_storage", UsageName: "protected_mailbox_storage", InfraID: infraA, Unit: UnitBytes, Value: bytes}
}

func ws(tenant, n string) Sample {
	return Sample{TenantID: tenant, Item: "pw_base_workstations", UsageName: "workstations", Unit: UnitQuantity, Value: n}
}

func gbMapping(item string, svc int64) Mapping {
	return Mapping{Item: item, InfraID: infraA, ServiceID: svc, Conversion: DefaultConversion(UnitBytes)}
}

func cs(svc int64, payg bool) ContractService {
	return ContractService{ContractID: 1, ContractServiceID: svc * 10, ServiceID: svc, PAYG: payg}
}

func byMetric(lines []Line) map[string]Line {
	m := map[string]Line{}
	for _, l := range lines {
		m[l.Metric] = l
	}
	return m
}

// 10 GiB stored, 3 GiB of it protected M365 storage, quota 8 GiB when prepaid.
const (
	tenGiB   = "10737418240"
	threeGiB = "3221225472"
	eightGiB = "8589934592"
)

func TestCompute_EveryStorageCombination(t *testing.T) {
	eight := eightGiB
	all := []settings.StorageReport{settings.StorageQuotaOverageTotal, settings.StorageClass1Free, settings.StorageClass2Billed}
	mappings := []Mapping{gbMapping(MetricQuotaOverageTotal, svcOver), gbMapping(MetricClass1Free, svcC1), gbMapping(MetricClass2Billed, svcC2)}
	services := []ContractService{cs(svcOver, true), cs(svcC1, true), cs(svcC2, true)}
	for mask := 0; mask < 8; mask++ {
		var opts []settings.StorageReport
		for i, o := range all {
			if mask&(1<<i) != 0 {
				opts = append(opts, o)
			}
		}
		for _, prepaid := range []bool{false, true} {
			var quota *string
			if prepaid {
				quota = &eight
			}
			name := strings.TrimSpace(strings.Join(func() []string {
				var s []string
				for _, o := range opts {
					s = append(s, string(o))
				}
				return s
			}(), "+"))
			if prepaid {
				name += " prepaid"
			}
			t.Run("combination "+name, func(t *testing.T) {
				lines, problems := Compute(Input{Storage: opts, Samples: []Sample{storage("t1", tenGiB, quota), protected("t1", threeGiB)},
					Mappings: mappings, ContractServices: services})
				if len(problems) > 0 {
					t.Fatalf("problems: %v", problems)
				}
				got := byMetric(lines)
				if len(got) != len(opts) {
					t.Fatalf("metrics %v, want exactly %v", keys(got), opts)
				}
				want := map[string]int64{MetricQuotaOverageTotal: 10, MetricClass1Free: 3, MetricClass2Billed: 7}
				if prepaid {
					want[MetricQuotaOverageTotal] = 2 // 10 GiB used over an 8 GiB quota
				}
				for _, o := range opts {
					l, ok := got[string(o)]
					if !ok {
						t.Fatalf("no line for %s", o)
					}
					if l.Billed != want[string(o)] || l.BilledUnit != "GB" {
						t.Errorf("%s billed %d %s, want %d GB", o, l.Billed, l.BilledUnit, want[string(o)])
					}
					wantSamples := 2 // storage and the protected M365 storage it was split by
					if o == settings.StorageQuotaOverageTotal {
						wantSamples = 1
					}
					if len(l.Samples) != wantSamples {
						t.Errorf("%s keeps %d samples, want %d", o, len(l.Samples), wantSamples)
					}
				}
			})
		}
	}
}

func keys(m map[string]Line) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCompute_OverageFallsBackToTheStorageServiceOnlyWhenPAYG(t *testing.T) {
	in := Input{Storage: []settings.StorageReport{settings.StorageQuotaOverageTotal}, Samples: []Sample{storage("t1", tenGiB, nil)},
		Mappings: []Mapping{gbMapping("pw_base_storage", svcStore)}, ContractServices: []ContractService{cs(svcStore, true)}}
	lines, _ := Compute(in)
	if len(lines) != 1 || lines[0].Billed != 10 || lines[0].ContractService.ServiceID != svcStore {
		t.Fatalf("PAYG storage service lines = %+v, want total 10 GB into service %d", lines, svcStore)
	}
	in.ContractServices = []ContractService{cs(svcStore, false)}
	if lines, _ := Compute(in); len(lines) != 0 {
		t.Errorf("usage reported into a prepaid quota service: %+v", lines)
	}
}

func TestCompute_ClassOneIsCappedAtTheTotal(t *testing.T) {
	lines, _ := Compute(Input{Storage: []settings.StorageReport{settings.StorageClass1Free, settings.StorageClass2Billed},
		Samples:          []Sample{storage("t1", threeGiB, nil), protected("t1", tenGiB)},
		Mappings:         []Mapping{gbMapping(MetricClass1Free, svcC1), gbMapping(MetricClass2Billed, svcC2)},
		ContractServices: []ContractService{cs(svcC1, true), cs(svcC2, true)}})
	got := byMetric(lines)
	if got[MetricClass1Free].Billed != 3 || got[MetricClass2Billed].Billed != 0 {
		t.Errorf("class1 %d, class2 %d; want 3 and 0", got[MetricClass1Free].Billed, got[MetricClass2Billed].Billed)
	}
}

func TestCompute_SubPartnerCustomersAreSummed(t *testing.T) {
	q4, q6 := "4294967296", "6442450944"
	lines, problems := Compute(Input{Storage: []settings.StorageReport{settings.StorageQuotaOverageTotal},
		Samples: []Sample{ws("retail", "7"), ws("wealth", "5"), storage("retail", "6442450944", &q4), storage("wealth", "5368709120", &q6)},
		Mappings: []Mapping{{Item: "pw_base_workstations", ServiceID: svcWS, Conversion: DefaultConversion(UnitQuantity)},
			gbMapping(MetricQuotaOverageTotal, svcOver)},
		ContractServices: []ContractService{cs(svcWS, true), cs(svcOver, false)}})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	got := byMetric(lines)
	if l := got["pw_base_workstations"]; l.Billed != 12 || l.Raw != "12" || len(l.Samples) != 2 {
		t.Errorf("workstations = %+v, want 12 from two tenants", l)
	}
	// 11 GiB used against 10 GiB of summed quotas: 1 GB overage, into a prepaid contract.
	if l := got[MetricQuotaOverageTotal]; l.Billed != 1 || l.Raw != "1073741824" {
		t.Errorf("overage = %+v, want 1 GB (raw 1073741824)", l)
	}
	// One unlimited sub-customer makes the sum unlimited: the total is reported.
	lines, _ = Compute(Input{Storage: []settings.StorageReport{settings.StorageQuotaOverageTotal},
		Samples:  []Sample{storage("retail", "6442450944", &q4), storage("wealth", "5368709120", nil)},
		Mappings: []Mapping{gbMapping(MetricQuotaOverageTotal, svcOver)}, ContractServices: []ContractService{cs(svcOver, true)}})
	if got := byMetric(lines)[MetricQuotaOverageTotal].Billed; got != 11 {
		t.Errorf("total with an unlimited sub-customer = %d, want 11", got)
	}
}

func TestCompute_WorkloadsOnlyIntoPAYGAndZeroWithoutUsage(t *testing.T) {
	lines, _ := Compute(Input{
		Mappings:         []Mapping{{Item: "pw_base_workstations", ServiceID: svcWS}, {Item: "pw_base_servers", ServiceID: 302}},
		ContractServices: []ContractService{cs(svcWS, true), cs(302, false)}})
	if len(lines) != 1 || lines[0].Metric != "pw_base_workstations" || lines[0].Billed != 0 {
		t.Fatalf("lines = %+v, want workstations 0 only (servers are prepaid)", lines)
	}
}

func TestCompute_TwoMetricsOnOneServiceAreRefused(t *testing.T) {
	lines, problems := Compute(Input{Storage: []settings.StorageReport{settings.StorageClass1Free, settings.StorageClass2Billed},
		Samples:          []Sample{storage("t1", tenGiB, nil)},
		Mappings:         []Mapping{gbMapping(MetricClass1Free, svcC1), gbMapping(MetricClass2Billed, svcC1)},
		ContractServices: []ContractService{cs(svcC1, true)}})
	if len(lines) != 0 || len(problems) != 1 {
		t.Errorf("lines %+v problems %v; want none and one problem", lines, problems)
	}
}

func TestSampleFromAcronis_AbsoluteValueAndQuota(t *testing.T) {
	v := 8.0
	s, err := SampleFromAcronis("t1", acronis.Usage{Name: "pw_base_storage", UsageName: "storage", InfraID: infraA, MeasurementUnit: "bytes",
		Value: 100, AbsoluteValue: 344064, OfferingItem: &acronis.UsageOfferingItem{Status: 1, Quota: &acronis.Quota{Value: &v}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Value != "344064" || s.Current != "100" || s.Quota == nil || *s.Quota != "8" {
		t.Errorf("sample = %+v, want value 344064, current 100, quota 8", s)
	}
}

func TestDelta_AgainstUnitsInEffect(t *testing.T) {
	tests := []struct{ billed, inEffect, want int64 }{{7, 0, 7}, {7, 5, 2}, {3, 5, -2}, {5, 5, 0}}
	for _, tt := range tests {
		got, err := Delta(tt.billed, tt.inEffect)
		if err != nil || int64(got) != tt.want {
			t.Errorf("Delta(%d, %d) = %d, %v; want %d", tt.billed, tt.inEffect, got, err, tt.want)
		}
	}
	if _, err := Delta(1<<40, 0); err == nil {
		t.Error("a change beyond int32 was accepted")
	}
}

func TestCompute_PrepaidQuotaServicesNeverReceiveUsage(t *testing.T) {
	lines, problems := Compute(Input{Storage: []settings.StorageReport{settings.StorageClass2Billed, settings.StorageQuotaOverageTotal},
		Samples: []Sample{storage("t1", tenGiB, nil)},
		// Class 2 is mapped to the storage item's own service, which is prepaid here.
		Mappings:         []Mapping{gbMapping("pw_base_storage", svcStore), gbMapping(MetricClass2Billed, svcStore), gbMapping(MetricQuotaOverageTotal, svcOver)},
		ContractServices: []ContractService{cs(svcStore, false), cs(svcOver, false)}})
	if len(lines) != 1 || lines[0].Metric != MetricQuotaOverageTotal {
		t.Errorf("lines %+v, want only the overage into its own prepaid service", lines)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "prepaid quota") {
		t.Errorf("problems %v, want the refused class 2 named", problems)
	}
}

func TestCompute_OneServiceOnTwoContractsIsNotBilledTwice(t *testing.T) {
	second := cs(svcWS, true)
	second.ContractID, second.ContractServiceID = 2, 9999
	lines, problems := Compute(Input{Samples: []Sample{ws("t1", "4")},
		Mappings:         []Mapping{{Item: "pw_base_workstations", ServiceID: svcWS}},
		ContractServices: []ContractService{cs(svcWS, true), second}})
	if len(lines) != 0 || len(problems) != 1 || !strings.Contains(problems[0], "contracts 1, 2") {
		t.Errorf("lines %+v problems %v; want nothing reported and both contracts named", lines, problems)
	}
}

// TestCompute_StorageClassesArePerStorageSettings: a storage's own setting
// replaces the default Class 1 usage names; other storages keep the default.
func TestCompute_StorageClassesArePerStorageSettings(t *testing.T) {
	tenGiBStr := tenGiB
	onedrive := Sample{TenantID: "t1", Item: "onedrive_storage", UsageName: "onedrive_storage", InfraID: infraA, Unit: UnitBytes, Value: threeGiB}
	in := Input{Storage: []settings.StorageReport{settings.StorageClass1Free, settings.StorageClass2Billed},
		Samples:          []Sample{storage("t1", tenGiBStr, nil), protected("t1", threeGiB), onedrive},
		Mappings:         []Mapping{gbMapping(MetricClass1Free, svcC1), gbMapping(MetricClass2Billed, svcC2)},
		ContractServices: []ContractService{cs(svcC1, true), cs(svcC2, true)}}
	got := byMetric(mustCompute(t, in))
	if got[MetricClass1Free].Billed != 3 || got[MetricClass2Billed].Billed != 7 {
		t.Fatalf("default: class1 %d, class2 %d; want 3 (protected mailboxes) and 7", got[MetricClass1Free].Billed, got[MetricClass2Billed].Billed)
	}
	in.StorageClasses = []settings.StorageClass{{InfraID: infraA, Class1UsageNames: []string{"onedrive_storage", "protected_mailbox_storage"}}}
	got = byMetric(mustCompute(t, in))
	if got[MetricClass1Free].Billed != 6 || got[MetricClass2Billed].Billed != 4 {
		t.Fatalf("setting: class1 %d, class2 %d; want 6 and 4", got[MetricClass1Free].Billed, got[MetricClass2Billed].Billed)
	}
	in.StorageClasses = []settings.StorageClass{{InfraID: infraA, Class1UsageNames: []string{}}}
	got = byMetric(mustCompute(t, in))
	if got[MetricClass1Free].Billed != 0 || got[MetricClass2Billed].Billed != 10 {
		t.Fatalf("nothing free: class1 %d, class2 %d; want 0 and 10", got[MetricClass1Free].Billed, got[MetricClass2Billed].Billed)
	}
	in.StorageClasses = []settings.StorageClass{{InfraID: "another-storage", Class1UsageNames: []string{}}}
	if got = byMetric(mustCompute(t, in)); got[MetricClass1Free].Billed != 3 {
		t.Fatalf("another storage's setting changed this one: class1 %d, want 3", got[MetricClass1Free].Billed)
	}
}

func mustCompute(t *testing.T, in Input) []Line {
	t.Helper()
	lines, problems := Compute(in)
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	return lines
}

// TestCompute_PrepaidOverageBillsUsageAboveTheUnits: 14 workstations used on
// a prepaid contract of 10 bill 4 units of the overage service on the same
// contract, with the subtraction in the rounding note; storage compares bytes
// with GiB units. No overage, the Overage switch off, a PAYG contract or an
// overage service missing from the contract write no line.
func TestCompute_PrepaidOverageBillsUsageAboveTheUnits(t *testing.T) {
	const ws, wsOver, st, stOver = 301, 311, 305, 315
	gib := int64(1) << 30
	samples := []Sample{
		{TenantID: "t", Item: "pw_base_workstations", UsageName: "workstations", Unit: UnitQuantity, Value: "14"},
		{TenantID: "t", Item: "pw_base_storage", UsageName: "storage", InfraID: "i", Unit: UnitBytes, Value: big.NewInt(100*gib + 1).String()},
	}
	maps := []Mapping{
		{Item: "pw_base_workstations", ServiceID: ws, OverageServiceID: wsOver, Conversion: DefaultConversion(UnitQuantity)},
		{Item: "pw_base_storage", InfraID: "i", ServiceID: st, OverageServiceID: stOver, Conversion: DefaultConversion(UnitBytes)},
	}
	prepaid := []ContractService{
		{ContractID: 7, ContractServiceID: 71, ServiceID: ws, Units: 10},
		{ContractID: 7, ContractServiceID: 72, ServiceID: wsOver, Units: 0},
		{ContractID: 7, ContractServiceID: 73, ServiceID: st, Units: 100},
		{ContractID: 7, ContractServiceID: 74, ServiceID: stOver, Units: 0},
	}
	in := Input{Samples: samples, Mappings: maps, ContractServices: prepaid, Overage: true}
	lines, problems := Compute(in)
	if len(problems) != 0 || len(lines) != 2 {
		t.Fatalf("lines %+v problems %v; want two overage lines", lines, problems)
	}
	w, s := lines[0], lines[1]
	if w.ContractService.ContractServiceID != 72 || w.Metric != "overage:pw_base_workstations" || w.Billed != 4 || w.Raw != "4" ||
		!strings.Contains(w.Rounding, "usage 14 quantity − prepaid 10 units (contract 7) = 4 quantity") {
		t.Fatalf("workstations overage = %+v; want 4 units into contract service 72 explained", w)
	}
	if s.ContractService.ContractServiceID != 74 || s.Metric != "overage:pw_base_storage@i" || s.Billed != 1 || s.Raw != "1" ||
		!strings.Contains(s.Rounding, "prepaid 100 units (107374182400 bytes)") {
		t.Fatalf("storage overage = %+v; want one byte above 100 GiB billed as 1 GB into contract service 74", s)
	}

	off := in
	off.Overage = false
	if lines, _ := Compute(off); len(lines) != 0 {
		t.Fatalf("Overage off: %+v; want no line (live estimates never bill overage)", lines)
	}
	under := in
	under.Samples = []Sample{{TenantID: "t", Item: "pw_base_workstations", UsageName: "workstations", Unit: UnitQuantity, Value: "9"}}
	if lines, _ := Compute(under); len(lines) != 2 || lines[0].Billed != 0 || lines[1].Billed != 0 {
		t.Fatalf("9 of 10 used, no storage: %+v; want lines of 0 (the ledger skips them while the services have 0 units)", lines)
	}
	payg := in
	payg.ContractServices = []ContractService{{ContractID: 8, ContractServiceID: 81, ServiceID: ws, PAYG: true}, {ContractID: 8, ContractServiceID: 82, ServiceID: wsOver, PAYG: true}}
	if lines, _ := Compute(payg); len(lines) != 1 || lines[0].Metric != "pw_base_workstations" || lines[0].Billed != 14 {
		t.Fatalf("PAYG: %+v; want the whole usage into the item's own service, no overage line", lines)
	}
	missing := in
	missing.ContractServices = prepaid[:1]
	lines, problems = Compute(missing)
	if len(lines) != 0 || len(problems) != 1 || !strings.Contains(problems[0], "overage service 311 is not on prepaid contract 7") {
		t.Fatalf("overage service not on the contract: %+v %v; want a problem naming the fix", lines, problems)
	}
}

package entitlement

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

var today = time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)

const (
	svcWorkstations = 1001
	svcServers      = 1002
	svcStorage      = 1003
	svcAdvSecurity  = 1004
	bundleStarter   = 9001
)

func catalog() []Item {
	return []Item{
		{Name: "pw_base_workstations", Group: GroupStandard},
		{Name: "pw_base_servers", Group: GroupStandard},
		{Name: "pw_base_vms", Group: GroupStandard},
		{Name: "pw_pack_adv_security", Group: GroupAdvanced},
		{Name: "pw_base_storage", Group: GroupStorage, InfraID: "infra-a", Bytes: true},
		{Name: "pw_base_storage", Group: GroupStorage, InfraID: "infra-b", Bytes: true},
	}
}

func mappings() []Mapping {
	return []Mapping{
		{ItemName: "pw_base_workstations", ServiceID: svcWorkstations},
		{ItemName: "pw_base_servers", ServiceID: svcServers},
		{ItemName: "pw_base_vms", Free: true},
		{ItemName: "pw_pack_adv_security", ServiceID: svcAdvSecurity},
		{ItemName: "pw_base_storage", InfraID: "infra-a", ServiceID: svcStorage},
	}
}

func contract(id int64, payg bool, services ...Units) Contract {
	return Contract{ID: id, Name: "c", Recurring: true, Active: true, PAYG: payg,
		Start: today.AddDate(0, -1, 0), End: today.AddDate(1, 0, 0), Services: services}
}

func quota(t *testing.T, d Desired, key string) Quota {
	t.Helper()
	for _, q := range d.Quotas {
		if q.Item.Key() == key {
			return q
		}
	}
	t.Fatalf("no quota for %s in %+v", key, d.Quotas)
	return Quota{}
}

func value(q Quota) string {
	switch {
	case !q.Enabled:
		return "off"
	case q.Value == nil:
		return "unlimited"
	default:
		return strconv.FormatInt(*q.Value, 10)
	}
}

func input(contracts ...Contract) Input {
	return Input{Today: today, Catalog: catalog(), Mappings: mappings(), Contracts: contracts,
		BundleServices:   map[int64][]int64{bundleStarter: {svcWorkstations, svcServers}},
		DefaultStorageID: "infra-b", BackupStorage: true}
}

func TestDecide_PrepaidQuotasAreSumsOfUnitsAcrossContractsAndBundles(t *testing.T) {
	c1 := contract(1, false, Units{svcWorkstations, 20}, Units{svcStorage, 500})
	c2 := contract(2, false, Units{svcWorkstations, 5})
	c2.Bundles = []Units{{bundleStarter, 3}}
	d := Decide(input(c1, c2))

	for key, want := range map[string]string{
		"pw_base_workstations":    "28", // 20 + 5 + 3 from the bundle
		"pw_base_servers":         "3",  // bundle only
		"pw_base_vms":             "unlimited",
		"pw_pack_adv_security":    "off",
		"pw_base_storage@infra-a": "536870912000", // 500 GiB
		"pw_base_storage@infra-b": "off",
	} {
		if got := value(quota(t, d, key)); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
	if d.Billing != BillingPrepaid || !d.HasActiveServices || !d.Valid() {
		t.Fatalf("billing %s active %v problems %v", d.Billing, d.HasActiveServices, d.Problems)
	}
	if d.StorageID != "infra-a" {
		t.Fatalf("storage = %q, want the contract's infra-a", d.StorageID)
	}
}

func TestDecide_PAYGIsUnlimitedForMappedItems(t *testing.T) {
	d := Decide(input(contract(7, true, Units{svcWorkstations, 1}, Units{svcServers, 0})))
	if got := value(quota(t, d, "pw_base_workstations")); got != "unlimited" {
		t.Fatalf("workstations = %s, want unlimited", got)
	}
	if d.Billing != BillingPAYG {
		t.Fatalf("billing = %s", d.Billing)
	}
	q := quota(t, d, "pw_base_servers")
	if len(q.ContractServices) != 1 || q.ContractServices[0].ContractID != 7 || !q.ContractServices[0].PAYG {
		t.Fatalf("servers contract services = %+v", q.ContractServices)
	}
}

func TestDecide_SameServicePrepaidAndPAYGIsAProblem(t *testing.T) {
	d := Decide(input(contract(1, false, Units{svcWorkstations, 5}), contract(2, true, Units{svcWorkstations, 1})))
	if d.Valid() || !strings.Contains(d.Problems[0], "pw_base_workstations") || !strings.Contains(d.Problems[0], "1, 2") {
		t.Fatalf("problems = %v", d.Problems)
	}
}

func TestDecide_PrepaidAndPAYGForDifferentServicesIsMixedButValid(t *testing.T) {
	d := Decide(input(contract(1, false, Units{svcWorkstations, 5}), contract(2, true, Units{svcServers, 1})))
	if !d.Valid() || d.Billing != BillingMixed {
		t.Fatalf("billing %s problems %v", d.Billing, d.Problems)
	}
}

func TestDecide_ContractsThatDoNotCoverTodayDoNotCount(t *testing.T) {
	ended := contract(1, false, Units{svcWorkstations, 5})
	ended.End = today.AddDate(0, 0, -1)
	future := contract(2, false, Units{svcWorkstations, 5})
	future.Start = today.AddDate(0, 0, 1)
	inactive := contract(3, false, Units{svcWorkstations, 5})
	inactive.Active = false
	notRecurring := contract(4, false, Units{svcWorkstations, 5})
	notRecurring.Recurring = false
	d := Decide(input(ended, future, inactive, notRecurring))
	if d.HasActiveServices || d.Billing != BillingNone {
		t.Fatalf("active %v billing %s; want no active services", d.HasActiveServices, d.Billing)
	}
	if got := value(quota(t, d, "pw_base_workstations")); got != "off" {
		t.Fatalf("workstations = %s, want off", got)
	}
	if got := value(quota(t, d, "pw_base_vms")); got != "unlimited" {
		t.Fatalf("free vms = %s, want unlimited", got)
	}
	endsToday := contract(5, false, Units{svcWorkstations, 2})
	endsToday.End = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	if d := Decide(input(endsToday)); !d.HasActiveServices {
		t.Fatal("a contract ending today must still count today")
	}
}

func TestDecide_DefaultStorageWhenNoStorageServiceInContract(t *testing.T) {
	d := Decide(input(contract(1, false, Units{svcWorkstations, 5})))
	if d.StorageID != "infra-b" {
		t.Fatalf("storage = %q, want default infra-b", d.StorageID)
	}
	q := quota(t, d, "pw_base_storage@infra-b")
	if !q.Enabled || !strings.Contains(q.Source, "default storage") {
		t.Fatalf("default storage quota = %+v", q)
	}
	if value(quota(t, d, "pw_base_storage@infra-a")) != "off" {
		t.Fatal("a second storage is on")
	}
}

func TestDecide_NoStorageReportingTurnsStorageOff(t *testing.T) {
	in := input(contract(1, false, Units{svcWorkstations, 5}, Units{svcStorage, 100}))
	in.BackupStorage = false
	d := Decide(in)
	if d.StorageID != "" || value(quota(t, d, "pw_base_storage@infra-a")) != "off" {
		t.Fatalf("storage %q, infra-a %s; want off", d.StorageID, value(quota(t, d, "pw_base_storage@infra-a")))
	}
}

func TestDecide_AdvancedPackNeedsAStandardWorkload(t *testing.T) {
	in := input(contract(1, false, Units{svcAdvSecurity, 10}))
	in.Mappings = []Mapping{{ItemName: "pw_pack_adv_security", ServiceID: svcAdvSecurity}} // vms no longer free
	d := Decide(in)
	if got := value(quota(t, d, "pw_pack_adv_security")); got != "off" || len(d.Warnings) == 0 {
		t.Fatalf("advanced pack = %s warnings %v; want off with a warning", got, d.Warnings)
	}
	d = Decide(input(contract(1, false, Units{svcAdvSecurity, 10}, Units{svcWorkstations, 10})))
	if got := value(quota(t, d, "pw_pack_adv_security")); got != "10" {
		t.Fatalf("advanced pack with workstations = %s, want 10", got)
	}
}

func TestDecide_DefaultStorageWithQuotaZeroIsAWarningUnlessFree(t *testing.T) {
	d := Decide(input(contract(1, false, Units{svcWorkstations, 5})))
	if got := value(quota(t, d, "pw_base_storage@infra-b")); got != "0" {
		t.Fatalf("default storage quota = %s, want 0 (not in a contract, not free)", got)
	}
	if !hasWarning(d, WarnStorageZero) {
		t.Fatalf("warnings = %q, want one starting %q", d.Warnings, WarnStorageZero)
	}

	in := input(contract(1, false, Units{svcWorkstations, 5}))
	in.Mappings = append(in.Mappings, Mapping{ItemName: "pw_base_storage", InfraID: "infra-b", Free: true})
	d = Decide(in)
	if got := value(quota(t, d, "pw_base_storage@infra-b")); got != "unlimited" || hasWarning(d, WarnStorageZero) {
		t.Fatalf("free default storage = %s, warnings %q; want unlimited and no storage warning", got, d.Warnings)
	}
	d = Decide(input(contract(1, false, Units{svcWorkstations, 5}, Units{svcStorage, 100})))
	if hasWarning(d, WarnStorageZero) {
		t.Fatalf("a storage service in the contract still warns: %q", d.Warnings)
	}
}

func hasWarning(d Desired, prefix string) bool {
	for _, w := range d.Warnings {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

// TestDecide_PrepaidWithOverageIsASoftQuotaOfTheUnits: a prepaid item whose
// mapping names an overage service keeps quota = contract units but soft;
// without the option, or when the item is pay-as-you-go, free or not in a
// contract, nothing is soft.
func TestDecide_PrepaidWithOverageIsASoftQuotaOfTheUnits(t *testing.T) {
	const svcOverage = 1010
	in := input(contract(1, false, Units{svcWorkstations, 20}, Units{svcStorage, 500}), contract(2, true, Units{svcServers, 0}))
	for i := range in.Mappings {
		switch in.Mappings[i].ItemName {
		case "pw_base_workstations", "pw_base_servers", "pw_base_storage":
			in.Mappings[i].OverageServiceID = svcOverage
		}
	}
	d := Decide(in)
	ws := quota(t, d, "pw_base_workstations")
	if value(ws) != "20" || !ws.Soft || !strings.Contains(ws.Source, "overage allowed, billed as service 1010") {
		t.Fatalf("workstations = %s soft=%v (%s); want a soft quota of 20 naming the overage service", value(ws), ws.Soft, ws.Source)
	}
	st := quota(t, d, "pw_base_storage@infra-a")
	if value(st) != strconv.FormatInt(500*GiB, 10) || !st.Soft {
		t.Fatalf("storage = %s soft=%v; want a soft quota of 500 GiB in bytes", value(st), st.Soft)
	}
	if sv := quota(t, d, "pw_base_servers"); value(sv) != "unlimited" || sv.Soft {
		t.Fatalf("PAYG servers = %s soft=%v; want unlimited, not soft", value(sv), sv.Soft)
	}
	if vm := quota(t, d, "pw_base_vms"); vm.Soft {
		t.Fatalf("free vms are soft: %+v", vm)
	}
	plain := Decide(input(contract(1, false, Units{svcWorkstations, 20})))
	if ws := quota(t, plain, "pw_base_workstations"); ws.Soft || value(ws) != "20" {
		t.Fatalf("without overage: %s soft=%v; want a hard quota of 20", value(ws), ws.Soft)
	}
}

package servicemap

import (
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
)

func testCatalog() []Item {
	return []Item{
		{Item: entitlement.Item{Name: "pw_base_workstations", ApplicationID: "app", Group: entitlement.GroupStandard}, Unit: "quantity"},
		{Item: entitlement.Item{Name: "pw_base_storage", ApplicationID: "app", Group: entitlement.GroupStorage, InfraID: "infra-1"}, Unit: acronis.UnitBytes},
	}
}

func TestValidate_DivisorsMustBePlainPositiveDecimals(t *testing.T) {
	for divisor, ok := range map[string]bool{
		"": true, "1": true, "1073741824": true, "1000.5": true, "0.001": true,
		"1/3": false, "0x10": false, "1e3": false, "1e1000000": false, "Infinity": false, "NaN": false,
		"0": false, "0.0": false, "-1": false, "+1": false, ".5": false, "1.": false, "1 000": false,
		strings.Repeat("9", MaxDivisor+1): false,
	} {
		sid := int64(1)
		_, bad := Validate([]Input{{OfferingItem: "pw_base_workstations", ServiceID: &sid, Divisor: divisor}}, testCatalog())
		if got := len(bad) == 0; got != ok {
			t.Errorf("divisor %q: valid = %v (errors %v), want %v", divisor, got, bad, ok)
		}
		if !ok && (len(bad) != 1 || bad[0].Field != "mappings[0].divisor") {
			t.Errorf("divisor %q: errors %v, want one on mappings[0].divisor", divisor, bad)
		}
	}
}

func TestValidate_LengthsAreBoundedAndUnitsDefault(t *testing.T) {
	sid := int64(1)
	_, bad := Validate([]Input{
		{OfferingItem: strings.Repeat("x", MaxKey+1), ServiceID: &sid},
		{OfferingItem: "pw_base_workstations", ServiceName: strings.Repeat("é", MaxServiceName+1)},
		{OfferingItem: "pw_base_storage", InfraID: "infra-1", ServiceID: &sid, BilledUnit: strings.Repeat("u", MaxBilledUnit+1)},
	}, testCatalog())
	var fields []string
	for _, f := range bad {
		fields = append(fields, f.Field)
	}
	want := "mappings[0].offeringItem mappings[1].serviceName mappings[2].billedUnit"
	if strings.Join(fields, " ") != want {
		t.Fatalf("fields = %v, want %s", fields, want)
	}
	p, bad := Validate([]Input{{OfferingItem: "pw_base_storage", InfraID: "infra-1", ServiceID: &sid}}, testCatalog())
	if len(bad) != 0 || len(p.Rows()) != 1 || p.Rows()[0].Divisor != BytesPerGB || p.Rows()[0].BilledUnit != "GB" {
		t.Fatalf("storage defaults = %+v, %v", p.Rows(), bad)
	}
	if _, bad := Validate(make([]Input, MaxMappings+1), testCatalog()); len(bad) != 1 || bad[0].Field != "mappings" {
		t.Fatalf("too many mappings: %v", bad)
	}
}

// TestValidate_OverageNeedsAServiceAPrepaidItemAndOneOverageBilling: the
// overage option is kept on the row; it needs a positive service id, an item
// that is not free and not a storage metric, and a storage whose overage is
// not already billed through quota_overage_total. A service that is the
// item's own or another mapping's is refused once services are resolved.
func TestValidate_OverageNeedsAServiceAPrepaidItemAndOneOverageBilling(t *testing.T) {
	ws, st, ov, other := int64(1), int64(2), int64(9), int64(5)
	p, bad := Validate([]Input{{OfferingItem: "pw_base_workstations", ServiceID: &ws, Overage: &Overage{ServiceID: &ov}}}, testCatalog())
	if len(bad) != 0 || p.Rows()[0].OverageServiceID == nil || *p.Rows()[0].OverageServiceID != ov {
		t.Fatalf("valid overage: rows %+v errors %v", p.Rows(), bad)
	}
	zero := int64(0)
	_, bad = Validate([]Input{
		{OfferingItem: "pw_base_workstations", ServiceID: &ws, Free: true, Overage: &Overage{ServiceID: &ov}},
		{OfferingItem: "pw_base_storage", InfraID: "infra-1", ServiceID: &st, Overage: &Overage{ServiceID: &zero}},
		{OfferingItem: "quota_overage_total", InfraID: "infra-1", ServiceID: &other, Overage: &Overage{ServiceID: &ov}},
	}, testCatalog())
	var fields []string
	for _, f := range bad {
		fields = append(fields, f.Field)
	}
	if got, want := strings.Join(fields, " "), "mappings[0].overage mappings[1].overage.serviceId mappings[1].overage mappings[2].overage"; got != want {
		t.Fatalf("fields = %s, want %s (%v)", got, want, bad)
	}

	p, _ = Validate([]Input{
		{OfferingItem: "pw_base_workstations", ServiceID: &ws, Overage: &Overage{ServiceID: &st}},
		{OfferingItem: "pw_base_storage", InfraID: "infra-1", ServiceID: &st, Overage: &Overage{ServiceID: &st}},
	}, testCatalog())
	fields = nil
	for _, f := range p.overageClashes() {
		fields = append(fields, f.Field+": "+f.Message)
	}
	if len(fields) != 2 || !strings.Contains(fields[0], "mappings[0].overage.serviceId: service 2 is the service of mappings[1]") ||
		!strings.Contains(fields[1], "mappings[1].overage.serviceId: must differ from the item's own service 2") {
		t.Fatalf("clashes = %v", fields)
	}
}

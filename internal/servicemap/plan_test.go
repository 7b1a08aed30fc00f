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

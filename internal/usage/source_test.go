package usage

import (
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
)

func TestFromReport_ReportFiguresReplaceLiveOnesAndTrialIsNotBilled(t *testing.T) {
	live := []Sample{
		{TenantID: "A", Item: "pw_base_servers", UsageName: "servers", Unit: UnitQuantity, Value: "3", Current: "3", From: SourceLive},
		{TenantID: "A", Item: "pw_base_storage", UsageName: "storage", InfraID: "inf", Unit: UnitBytes, Value: "10", Current: "9", From: SourceLive},
		{TenantID: "B", Item: "pw_base_servers", UsageName: "servers", Unit: UnitQuantity, Value: "2", From: SourceLive},           // trial tenant
		{TenantID: "C", Item: "pw_base_servers", UsageName: "servers", Unit: UnitQuantity, Value: "7", From: SourceLive},           // not in scope
		{TenantID: "A", Item: "pw_base_workstations", UsageName: "workstations", Unit: UnitQuantity, Value: "1", From: SourceLive}, // no report row
	}
	rows := []acronis.ReportUsage{
		{TenantID: "a", Name: "pw_base_servers", Production: "4", Total: "4", Trial: "0"},
		{TenantID: "a", Name: "pw_base_storage", InfraID: "inf", Production: "12", Total: "12", Trial: "0"},
		{TenantID: "b", Name: "pw_base_servers", Production: "0", Trial: "2", Total: "2"},
		{TenantID: "a", Name: "pw_base_vms", Production: "5", Total: "5", Trial: "0"}, // in the report only
		{TenantID: "c", Name: "pw_base_servers", Production: "9", Total: "9"},
	}
	got := FromReport(live, rows, map[string]bool{"a": true, "b": true})
	want := map[string]string{"A/pw_base_servers": "4", "A/pw_base_storage": "12", "B/pw_base_servers": "0", "C/pw_base_servers": "7",
		"A/pw_base_workstations": "0", "a/pw_base_vms": "5"}
	if len(got) != len(want) {
		t.Fatalf("got %d samples %+v, want %d", len(got), got, len(want))
	}
	for _, s := range got {
		k := s.TenantID + "/" + s.Item
		if s.Value != want[k] {
			t.Errorf("%s = %s, want %s", k, s.Value, want[k])
		}
		switch {
		case s.TenantID == "C" && s.From != SourceLive:
			t.Errorf("%s out of scope was changed: %+v", k, s)
		case s.TenantID != "C" && s.From != SourceReport:
			t.Errorf("%s is not marked as from the report: %+v", k, s)
		}
	}
	if got[1].UsageName != "storage" || got[1].Unit != UnitBytes || got[1].Current != "9" {
		t.Errorf("storage kept from live = %+v; want usage name, unit and current reading kept", got[1])
	}
	if got[2].Trial != "2" {
		t.Errorf("trial figure = %q, want it kept for the record", got[2].Trial)
	}
}

func TestReportDates_AreInclusiveAcrossMonthEndsAndLeapYears(t *testing.T) {
	for _, c := range []struct {
		p    Period
		want string
	}{
		{Period{time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)}, "2028-02-01 – 2028-02-29"},
		{Period{time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}, "2027-02-01 – 2027-02-28"},
		{Period{time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 28, 0, 0, 0, 0, time.UTC)}, "2026-12-28 – 2027-01-27"},
	} {
		if got := ReportDates(c.p); got != c.want {
			t.Errorf("ReportDates(%s) = %s, want %s", c.p, got, c.want)
		}
	}
}

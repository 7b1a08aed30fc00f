package workflows

import (
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/alert"
)

// The Temporal UI lists workflows by their static summary: operators must
// find a customer by its name and an alert ticket by the alert's title.
func TestStartOptions_CarryHumanSummaries(t *testing.T) {
	cases := []struct{ what, got, want string }{
		{"customer with name and tenant",
			CustomerStartOptions(CustomerState{CompanyID: 107, CompanyName: "Litware Inc.", TenantID: "7c0e"}, "q").StaticSummary,
			"Litware Inc. · Autotask company 107 · Acronis tenant 7c0e"},
		{"customer known by id only",
			CustomerStartOptions(CustomerState{CompanyID: 42}, "q").StaticSummary,
			"Autotask company 42"},
		{"alert with title",
			AlertStartOptions(alert.Event{AlertID: "a-1", CompanyID: 107, Title: "Backup failed"}, "q").StaticSummary,
			"Backup failed · Autotask ticket for Acronis alert a-1 of company 107"},
		{"alert known by id only",
			AlertStartOptions(alert.Event{AlertID: "a-1"}, "q").StaticSummary,
			"Autotask ticket for Acronis alert a-1"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: summary %q, want %q", c.what, c.got, c.want)
		}
	}
	for name, summary := range map[string]string{
		"contract sync": ContractSyncStartOptions("q").StaticSummary,
		"alert sync":    AlertSyncStartOptions("q").StaticSummary,
		"usage report":  UsageReportStartOptions("q").StaticSummary,
	} {
		if len(summary) < 30 {
			t.Errorf("%s: summary %q is not a sentence", name, summary)
		}
	}
}

package workflows

import "testing"

func TestWorkflowIDs_RoundTrip(t *testing.T) {
	if got := CustomerWorkflowID(29683949); got != "customer-29683949" {
		t.Fatalf("CustomerWorkflowID = %q", got)
	}
	if n, err := CompanyIDFromWorkflowID("customer-29683949"); err != nil || n != 29683949 {
		t.Fatalf("CompanyIDFromWorkflowID = %d, %v", n, err)
	}
	for _, bad := range []string{"alert-1", "customer-", "customer-x"} {
		if _, err := CompanyIDFromWorkflowID(bad); err == nil {
			t.Errorf("CompanyIDFromWorkflowID(%q) succeeded", bad)
		}
	}
	if a, err := AlertIDFromWorkflowID(AlertWorkflowID("0b6c7e0e-1")); err != nil || a != "0b6c7e0e-1" {
		t.Fatalf("alert id round trip = %q, %v", a, err)
	}
	if _, err := AlertIDFromWorkflowID("customer-1"); err == nil {
		t.Fatal("AlertIDFromWorkflowID accepted a customer id")
	}
}

package main

import (
	"fmt"
	"testing"
	"time"

	client "github.com/acronis-autotask/acronis-autotask/internal/autotask"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// deprovisioningStack runs the stack with one-second "days": disable after 3,
// delete after 6, quotas zeroed at once.
func deprovisioningStack(t *testing.T) (*stack, *app) {
	s := newStack(t, true)
	s.day = time.Second
	s.seed(func(doc map[string]any) {
		doc["deprovisioning"] = map[string]any{"zeroQuotas": true,
			"disable": map[string]any{"enabled": true, "afterDays": 3}, "delete": map[string]any{"enabled": true, "afterDays": 6}}
	})
	a := s.start()
	eventually(t, 60*time.Second, "Contoso provisioned", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "25/0", q
	})
	return s, a
}

func endContoso(t *testing.T, s *stack, a *app) time.Time {
	t.Helper()
	ended := time.Now().UTC().AddDate(0, 0, -1)
	if err := s.autotask.EndContract(atsandbox.DemoContractID(contoso), ended); err != nil {
		t.Fatal(err)
	}
	if code, body := a.call("POST", "/api/v1/sync", e2eAdmin, "", nil); code != 202 {
		t.Fatalf("POST /sync = %d %v", code, body["_raw"])
	}
	return ended
}

func TestE2E_ContractEndsQuotasZeroThenTenantDisabledThenDeleted(t *testing.T) {
	s, a := deprovisioningStack(t)
	tenant, _ := s.acronis.TenantByName("Contoso Ltd")
	endContoso(t, s, a)

	eventually(t, 30*time.Second, "quotas zeroed and the steps pending with their times", func() (bool, string) {
		st := status(a, contoso)
		pending, _ := st["pending"].([]any)
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "0/0" && len(pending) == 2, fmt.Sprintf("quota %s pending %v state %v", q, st["pending"], st["state"])
	})
	eventually(t, 30*time.Second, "tenant disabled", func() (bool, string) {
		ten, _ := s.acronis.Tenant(tenant.ID)
		return !ten.Enabled && !ten.Deleted, fmt.Sprintf("enabled %v deleted %v", ten.Enabled, ten.Deleted)
	})
	eventually(t, 30*time.Second, "tenant deleted", func() (bool, string) {
		ten, _ := s.acronis.Tenant(tenant.ID)
		st := status(a, contoso)
		return ten.Deleted && st["state"] == "deleted", fmt.Sprintf("deleted %v state %v", ten.Deleted, st["state"])
	})
	s.recordHistories("deprovisioned", "customer-101")
}

func TestE2E_ContractRenewedInTimeIsNeverDeleted(t *testing.T) {
	s, a := deprovisioningStack(t)
	tenant, _ := s.acronis.TenantByName("Contoso Ltd")
	endContoso(t, s, a)
	eventually(t, 30*time.Second, "quotas zeroed", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "0/0", q
	})
	// Renewed within the first "day" (a renewal contract with the same service):
	// back to 25 units, nothing disabled or deleted.
	now := time.Now().UTC()
	renewal, err := s.autotask.AddContract(client.Contract{CompanyID: contoso, ContractName: "Contoso Ltd - renewal",
		ContractType: 7, Status: 1, StartDate: client.Date(now.AddDate(0, 0, -1)), EndDate: client.Date(now.AddDate(1, 0, 0)),
		RenewedContractID: atsandbox.DemoContractID(contoso),
		UserDefinedFields: []client.UDF{{Name: atsandbox.PAYGUDFName, Value: client.Ptr("No")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.autotask.AddServiceUnits(renewal, atsandbox.ServiceWorkstations, 25); err != nil {
		t.Fatal(err)
	}
	a.call("POST", "/api/v1/sync", e2eAdmin, "", nil)
	eventually(t, 30*time.Second, "quotas restored", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		st := status(a, contoso)
		pending, _ := st["pending"].([]any)
		return q == "25/0" && st["state"] == "active" && len(pending) == 0, fmt.Sprintf("quota %s state %v pending %v", q, st["state"], st["pending"])
	})
	time.Sleep(8 * time.Second) // past both deadlines of the cancelled deprovisioning
	ten, _ := s.acronis.Tenant(tenant.ID)
	if !ten.Enabled || ten.Deleted {
		t.Fatalf("renewed customer: enabled %v deleted %v; want enabled and kept", ten.Enabled, ten.Deleted)
	}
}

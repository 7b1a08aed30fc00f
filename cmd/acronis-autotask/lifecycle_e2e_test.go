package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

const (
	contoso  = 101
	tailspin = 104
	litware  = 107
	prose    = 108
)

// quota reads an offering item's quota in the Acronis sandbox as text.
func quota(s *stack, tenantName, item, infra string) string {
	t, ok := s.acronis.TenantByName(tenantName)
	if !ok {
		return "no tenant " + tenantName
	}
	it, err := s.acronis.OfferingItem(t.ID, item, infra)
	if err != nil {
		return err.Error()
	}
	switch {
	case !it.Enabled:
		return "off"
	case it.Quota == nil:
		return "unlimited"
	}
	over := "nil"
	if it.Overage != nil {
		over = strconv.FormatFloat(*it.Overage, 'f', -1, 64)
	}
	return strconv.FormatFloat(*it.Quota, 'f', -1, 64) + "/" + over
}

func status(a *app, companyID int) map[string]any {
	_, body := a.call("GET", fmt.Sprintf("/api/v1/customers/%d", companyID), e2eRead, "", nil)
	return body
}

func TestE2E_ProvisioningQuotasAndManualMapping(t *testing.T) {
	s := newStack(t, true)
	s.seed(nil)
	a := s.start() // the worker starts the contract sync, which signals every company with a contract

	// A prepaid contract yields a tenant with hard quotas equal to the contract units.
	eventually(t, 60*time.Second, "Contoso provisioned", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "25/0", q
	})
	if q := quota(s, "Contoso Ltd", "pw_base_servers", ""); q != "3/0" {
		t.Errorf("servers quota = %s, want 3/0", q)
	}
	if q := quota(s, "Contoso Ltd", "pw_base_storage", acsandbox.DefaultStorageID); q != fmt.Sprintf("%d/0", 500<<30) {
		t.Errorf("storage quota = %s, want 500 GiB hard", q)
	}
	ten, _ := s.acronis.TenantByName("Contoso Ltd")
	if ten.Users != 1 || ten.PricingMode != "production" {
		t.Errorf("Contoso tenant: %d users, mode %s; want 1 admin, production", ten.Users, ten.PricingMode)
	}

	// A unit change in Autotask propagates: the adjustment does not touch the contract.
	if err := s.autotask.AdjustUnits(atsandbox.DemoContractID(contoso), atsandbox.ServiceWorkstations, 5, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if code, body := a.call("POST", "/api/v1/sync", e2eAdmin, "", nil); code != 202 {
		t.Fatalf("POST /sync = %d %v", code, body["_raw"])
	}
	eventually(t, 60*time.Second, "unit change propagated", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "30/0", q
	})

	// A contract mixing PAYG and prepaid is refused: nothing is created, the error is visible.
	eventually(t, 30*time.Second, "Tailspin refused", func() (bool, string) {
		st := status(a, tailspin)
		return st["state"] == "invalid" && strings.Contains(fmt.Sprint(st["lastError"]), "pay-as-you-go"), fmt.Sprint(st["_raw"])
	})
	if _, ok := s.acronis.TenantByName("Tailspin Toys"); ok {
		t.Error("a tenant was created for the invalid contract")
	}

	// Litware's tenant exists but is not ours: no duplicate, the admin maps it.
	eventually(t, 30*time.Second, "Litware waits for a manual mapping", func() (bool, string) {
		st := status(a, litware)
		return st["state"] == "unmapped" && strings.Contains(fmt.Sprint(st["lastError"]), "already exists"), fmt.Sprint(st["_raw"])
	})
	// Litware's tenant is in use beyond its contract: the mapping answers with
	// its plan (409) and goes ahead only with that plan's id.
	code, body := a.call("PUT", fmt.Sprintf("/api/v1/customers/%d/mapping", litware), e2eAdmin, fmt.Sprintf(`{"tenantId":%q}`, acsandbox.LitwareID), nil)
	plan, _ := body["plan"].(map[string]any)
	if code != 409 || plan["id"] == nil {
		t.Fatalf("map Litware without a plan = %d %v, want 409 with the plan", code, body["_raw"])
	}
	code, body = a.call("PUT", fmt.Sprintf("/api/v1/customers/%d/mapping", litware), e2eAdmin,
		fmt.Sprintf(`{"tenantId":%q,"planId":%q}`, acsandbox.LitwareID, plan["id"]), nil)
	if code != 200 {
		t.Fatalf("map Litware = %d %v", code, body["_raw"])
	}
	eventually(t, 60*time.Second, "Litware quotas follow its contract", func() (bool, string) {
		st := status(a, litware)
		units, _ := s.autotask.CurrentUnits(atsandbox.DemoContractID(litware), atsandbox.ServiceWorkstations)
		q := quota(s, "Litware Inc", "pw_base_workstations", "")
		return st["state"] == "active" && q == fmt.Sprintf("%d/0", units), fmt.Sprintf("phase %v quota %s units %d", st["state"], q, units)
	})
	if n := s.acronis.CountTenants("customer"); n != countCustomers(s) {
		t.Errorf("customer tenants = %d, want %d (no duplicates)", n, countCustomers(s))
	}

	// Litware's contract drops to 5 workstations while 11 are in use: the
	// quota stays until an admin applies a plan that shows it going below usage.
	if err := s.autotask.AdjustUnits(atsandbox.DemoContractID(litware), atsandbox.ServiceWorkstations, -7, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if code, body := a.call("POST", "/api/v1/sync", e2eAdmin, "", nil); code != 202 {
		t.Fatalf("POST /sync = %d %v", code, body["_raw"])
	}
	eventually(t, 60*time.Second, "Litware's quota held above usage", func() (bool, string) {
		st := status(a, litware)
		return strings.Contains(fmt.Sprint(st["warnings"]), "quota below usage"), fmt.Sprint(st["_raw"])
	})
	if q := quota(s, "Litware Inc", "pw_base_workstations", ""); q != "12/0" {
		t.Fatalf("workstations = %s while the plan is not confirmed, want 12/0 kept", q)
	}
	code, body = a.call("POST", "/api/v1/plans", e2eAdmin, fmt.Sprintf(`{"scope":{"companyIds":[%d]}}`, litware), nil)
	if code != 201 || !strings.Contains(fmt.Sprint(body["_raw"]), "quota below usage") {
		t.Fatalf("preview = %d %v", code, body["_raw"])
	}
	if code, body = a.call("POST", fmt.Sprintf("/api/v1/plans/%s/apply", body["id"]), e2eAdmin, "", nil); code != 200 {
		t.Fatalf("apply = %d %v", code, body["_raw"])
	}
	eventually(t, 60*time.Second, "the confirmed quota is written", func() (bool, string) {
		q := quota(s, "Litware Inc", "pw_base_workstations", "")
		return q == "5/0", q
	})

	// A self-service tenant is refused with the reason.
	code, body = a.call("PUT", fmt.Sprintf("/api/v1/customers/%d/mapping", prose), e2eAdmin, fmt.Sprintf(`{"tenantId":%q}`, acsandbox.ProsewareID), nil)
	if (code != 409 && code != 422) || !strings.Contains(fmt.Sprint(body["detail"]), "self-service") {
		t.Fatalf("map Proseware = %d %v; want 409/422 naming self-service", code, body["_raw"])
	}
	s.recordHistories("lifecycle", "customer-101", "customer-104", "customer-107", "contract-sync")
}

func countCustomers(s *stack) int {
	n := 0
	for _, name := range []string{"Contoso Ltd", "Fabrikam Inc", "Northwind Traders", "Blue Yonder Airlines", "Litware Inc", "Proseware Inc",
		"Fourth Coffee", "Woodgrove Retail Banking", "Woodgrove Wealth Management"} {
		if _, ok := s.acronis.TenantByName(name); ok {
			n++
		}
	}
	return n
}

func TestE2E_WorkerKilledDuringProvisioningCreatesOneTenantAndOneUser(t *testing.T) {
	s := newStack(t, true)
	s.seed(nil)
	// The first tenant creation is applied but its answer is lost, and user
	// creation is slow, so the worker dies with provisioning in flight.
	s.acronis.Faults().Add(sandbox.Rule{Method: "POST", PathPrefix: "/api/2/tenants", DropRate: 1, Times: 1})
	s.acronis.Faults().Add(sandbox.Rule{Method: "POST", PathPrefix: "/api/2/users", Latency: 5 * time.Second})

	first := s.start()
	eventually(t, 60*time.Second, "a tenant is being provisioned", func() (bool, string) {
		ten, ok := s.acronis.TenantByName("Contoso Ltd")
		return ok, fmt.Sprintf("exists %v users %d", ok, ten.Users)
	})
	if ten, _ := s.acronis.TenantByName("Contoso Ltd"); ten.Users != 0 {
		t.Fatalf("Contoso already has %d users: the worker was not killed mid-provisioning", ten.Users)
	}
	first.stop() // kill the worker mid-provisioning
	s.acronis.Faults().Reset()

	second := s.start()
	eventually(t, 90*time.Second, "provisioning completes after the restart", func() (bool, string) {
		st := status(second, contoso)
		ten, _ := s.acronis.TenantByName("Contoso Ltd")
		return st["state"] == "active" && ten.Users == 1, fmt.Sprintf("phase %v users %d", st["state"], ten.Users)
	})
	for _, name := range []string{"Contoso Ltd", "Fabrikam Inc", "Northwind Traders", "Blue Yonder Airlines"} {
		eventually(t, 60*time.Second, name+" provisioned once", func() (bool, string) {
			ten, ok := s.acronis.TenantByName(name)
			return ok && ten.Users == 1, fmt.Sprintf("exists %v users %d", ok, ten.Users)
		})
	}
	if n := s.acronis.CountTenants("customer"); n != countCustomers(s) {
		t.Fatalf("customer tenants = %d, want %d: a duplicate was created", n, countCustomers(s))
	}
	// The lost answer was recovered by looking the tenant up by its internal tag.
	if n := s.acronis.RequestLog().Count("GET /api/2/tenants"); n == 0 {
		t.Fatal("no tenant lookup happened: the lost create answer was not exercised")
	}
}

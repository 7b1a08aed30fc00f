package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
)

// faultRestarts is how many times the worker is killed; FAULT_RESTARTS raises
// it for `make faults`, CI runs the small default.
func faultRestarts() int {
	if n, err := strconv.Atoi(os.Getenv("FAULT_RESTARTS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// TestFaults_ProvisioningConvergesUnderFaultsAndRestarts injects 429s with
// Retry-After, 5xx, latency and "write applied but response lost" at 20% on
// both APIs while the worker is killed and restarted at random moments; once
// the faults stop, every customer must converge to exactly one tenant with
// one admin and the quotas of its contract.
func TestFaults_ProvisioningConvergesUnderFaultsAndRestarts(t *testing.T) {
	s := newStack(t, true)
	s.seed(nil)
	rng := rand.New(rand.NewPCG(7, 11))
	for _, f := range []*sandbox.Faults{s.acronis.Faults(), s.autotask.Faults()} {
		f.Add(sandbox.Rule{ErrorRate: 0.1, Status: 429, RetryAfter: 1})
		f.Add(sandbox.Rule{ErrorRate: 0.1, Status: 503, RetryAfter: 1})
		f.Add(sandbox.Rule{Method: "POST", DropRate: 0.2})
		f.Add(sandbox.Rule{Method: "PUT", DropRate: 0.2})
		f.Add(sandbox.Rule{Latency: 20 * time.Millisecond})
	}
	a := s.start()
	for i := range faultRestarts() {
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
		a.stop()
		t.Logf("worker killed (%d)", i+1)
		a = s.start()
	}
	if s.acronis.Faults().Fired() < 5 || s.autotask.Faults().Fired() < 5 {
		t.Fatalf("faults fired: Acronis %d, Autotask %d; the run did not exercise them", s.acronis.Faults().Fired(), s.autotask.Faults().Fired())
	}
	t.Logf("faults fired: Acronis %d, Autotask %d", s.acronis.Faults().Fired(), s.autotask.Faults().Fired())
	s.acronis.Faults().Reset()
	s.autotask.Faults().Reset()
	a.call("POST", "/api/v1/sync", e2eAdmin, "", nil)
	// After an outage an admin asks each customer to retry now instead of after its backoff.
	for _, id := range []int{101, 102, 103, 110} {
		a.call("POST", fmt.Sprintf("/api/v1/customers/%d/sync", id), e2eAdmin, "", nil)
	}

	want := map[string]string{"Contoso Ltd": "25/0", "Northwind Traders": "", "Fabrikam Inc": "unlimited", "Blue Yonder Airlines": ""}
	for name, q := range want {
		eventually(t, 3*time.Minute, name+" converged", func() (bool, string) {
			ten, ok := s.acronis.TenantByName(name)
			got := quota(s, name, "pw_base_workstations", "")
			return ok && ten.Users == 1 && (q == "" || got == q), fmt.Sprintf("exists %v users %d workstations %s", ok, ten.Users, got)
		})
	}
	if n := s.acronis.CountTenants("customer"); n != countCustomers(s) {
		t.Fatalf("customer tenants = %d, want %d: a duplicate was created under faults", n, countCustomers(s))
	}
	for _, name := range []string{"Contoso Ltd", "Fabrikam Inc", "Northwind Traders", "Blue Yonder Airlines"} {
		ten, _ := s.acronis.TenantByName(name)
		if ten.Users != 1 {
			t.Errorf("%s has %d users, want 1", name, ten.Users)
		}
	}
}

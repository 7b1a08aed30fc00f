package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
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
// Retry-After, 5xx, latency, "write applied but response lost" at 20% and cut
// connections (timeouts, with and without the write applied) at 5% on
// both APIs while the worker is killed and restarted at random moments, during
// provisioning, ticket creation and pay-as-you-go reporting. Once the faults
// stop, every customer must converge to exactly one tenant with one admin and
// the quotas of its contract, every alert to exactly one ticket, and a second
// usage report must find nothing left to write.
func TestFaults_ProvisioningConvergesUnderFaultsAndRestarts(t *testing.T) {
	s := newStack(t, true)
	s.seed(nil)
	s.seedTickets()
	rng := rand.New(rand.NewPCG(7, 11))
	for _, f := range []*sandbox.Faults{s.acronis.Faults(), s.autotask.Faults()} {
		f.Add(sandbox.Rule{ErrorRate: 0.1, Status: 429, RetryAfter: 1})
		f.Add(sandbox.Rule{ErrorRate: 0.1, Status: 503, RetryAfter: 1})
		f.Add(sandbox.Rule{Method: "POST", DropRate: 0.2})
		f.Add(sandbox.Rule{Method: "PUT", DropRate: 0.2})
		f.Add(sandbox.Rule{TimeoutRate: 0.05})
		f.Add(sandbox.Rule{Latency: 20 * time.Millisecond})
	}
	// Billing reports: a lost answer to the creation (the report exists in
	// Acronis, the worker does not know its id) and failing polls and
	// downloads, on top of the general rules.
	s.acronis.Faults().Add(sandbox.Rule{Method: "POST", PathPrefix: "/api/2/reports", DropRate: 0.5})
	s.acronis.Faults().Add(sandbox.Rule{Method: "GET", PathPrefix: "/api/2/reports/", ErrorRate: 0.3, Status: 503, RetryAfter: 1})
	a := s.start()
	t.Cleanup(func() {
		if t.Failed() {
			logs := a.logs.String()
			t.Logf("last app's logs (tail):\n%s", logs[max(0, len(logs)-20000):])
		}
	})
	for i := range faultRestarts() {
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
		a.stop()
		t.Logf("worker killed (%d)", i+1)
		a = s.start()
	}
	// A run in which either API answered no fault tested nothing; how many
	// fired by now depends on the machine's speed, so any is enough here.
	if s.acronis.Faults().Fired() == 0 || s.autotask.Faults().Fired() == 0 {
		t.Fatalf("faults fired: Acronis %d, Autotask %d; the run did not exercise them", s.acronis.Faults().Fired(), s.autotask.Faults().Fired())
	}
	t.Logf("faults fired: Acronis %d, Autotask %d", s.acronis.Faults().Fired(), s.autotask.Faults().Fired())
	reportCalls := func() string {
		l := s.acronis.RequestLog()
		return fmt.Sprintf("report creations %d, polls %d, downloads %d", l.Count("POST /api/2/reports"),
			l.Count("GET /api/2/reports/{id}/stored"), l.Count("GET /api/2/reports/{id}/stored/{id}"))
	}
	t.Logf("billing reports under faults: %s", reportCalls())
	s.acronis.Faults().Reset()
	s.autotask.Faults().Reset()
	// Whether or not a billing report was asked for while the faults ran, the
	// next one's creation answer is lost (the report exists in Acronis, the
	// worker does not know its id) and its first polls or download fail.
	createdUnderFaults := s.acronis.RequestLog().Count("POST /api/2/reports")
	s.acronis.Faults().Add(sandbox.Rule{Method: "POST", PathPrefix: "/api/2/reports", DropRate: 1, Times: 1})
	s.acronis.Faults().Add(sandbox.Rule{Method: "GET", PathPrefix: "/api/2/reports/", ErrorRate: 1, Status: 503, RetryAfter: 1, Times: 2})
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

	// Every active Litware alert has exactly one ticket, found by its external id.
	a.call("POST", "/api/v1/alerts/sync", e2eAdmin, "", nil)
	for _, al := range s.acronis.Alerts(acsandbox.LitwareID) {
		if al.Dismissed {
			continue
		}
		// An alert whose ticket step failed through every restart waits out its first backoff (2 min).
		eventually(t, 4*time.Minute, "one ticket for alert "+al.ID, func() (bool, string) {
			n := len(s.autotask.TicketsByExternalID(al.ID)) + len(s.autotask.TicketsByExternalID(strings.ToLower(al.ID)))
			return n == 1, fmt.Sprintf("%d tickets", n)
		})
	}

	// Pay-as-you-go usage: once reported, reporting again writes nothing new.
	runs := func() int {
		_, body := a.call("GET", "/api/v1/audit?kind=usage.report.run&limit=500", e2eRead, "", nil)
		items, _ := body["items"].([]any)
		return len(items)
	}
	reportNow := func(what string) {
		n := runs()
		a.call("POST", "/api/v1/usage/report-now", e2eAdmin, "", nil)
		eventually(t, 3*time.Minute, what, func() (bool, string) { return runs() > n, fmt.Sprintf("%d usage runs recorded", runs()) })
	}
	// A "run now" that arrives while a run is in progress is answered by that
	// run, which may have started before Fabrikam converged: ask again until
	// a run reports it.
	reported := func() (bool, string) {
		_, body := a.call("GET", "/api/v1/usage?companyId=102&state=reported", e2eRead, "", nil)
		items, _ := body["items"].([]any)
		return len(items) >= 2, fmt.Sprint(body["_raw"])
	}
	for i := 0; ; i++ {
		reportNow("a usage run after the faults")
		ok, last := reported()
		if ok {
			break
		}
		if i == 3 {
			t.Fatalf("Fabrikam's usage is not reported after %d usage runs: %s", i+1, last)
		}
	}
	// The month before is settled from exactly one billing report, however
	// many creations lost their answer (no second report, no lost period).
	if now := time.Now().UTC(); now.Day() >= 2 {
		prev := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format(time.DateOnly)
		eventually(t, 2*time.Minute, "the month before settled from one report", func() (bool, string) {
			var reports []string
			saved := 0
			for _, r := range s.acronis.Reports() {
				if r.Start == prev {
					reports = append(reports, r.ID+" "+r.Status)
					if r.Status == "saved" {
						saved++
					}
				}
			}
			return len(reports) == 1 && saved == 1, fmt.Sprintf("reports for %s: %v", prev, reports)
		})
	}
	t.Logf("billing reports in all: %s; report faults fired after the outage: %d", reportCalls(), s.acronis.Faults().Fired())
	if createdUnderFaults == 0 && s.acronis.Faults().Fired() == 0 {
		t.Error("no billing report was created under faults: the run did not exercise report creation")
	}
	reportNow("the usage run after that")
	adjustments := s.autotask.Count("ContractServiceAdjustments")
	_, before := a.call("GET", "/api/v1/usage?companyId=102", e2eRead, "", nil)
	reportNow("a second usage run")
	_, after := a.call("GET", "/api/v1/usage?companyId=102", e2eRead, "", nil)
	if n := s.autotask.Count("ContractServiceAdjustments"); n != adjustments {
		t.Fatalf("a second report wrote %d more adjustments: double billing", n-adjustments)
	}
	if before["_raw"] != after["_raw"] {
		t.Fatalf("a second report changed the ledger:\nbefore %v\nafter  %v", before["_raw"], after["_raw"])
	}
}

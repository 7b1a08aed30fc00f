package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

const adventureWorks = 106 // no contract in the demo data

// quiet waits until the other customers' work is done (no write for 5 s) and
// returns the number of writes so far.
func quiet(t *testing.T, log *sandbox.RequestLog) int {
	t.Helper()
	n, since := writes(log), time.Now()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if m := writes(log); m != n {
			n, since = m, time.Now()
		} else if time.Since(since) > 5*time.Second {
			return n
		}
	}
	t.Fatal("the sandbox never went quiet")
	return 0
}

// writes counts the requests of a sandbox's log that may change something
// (everything but reads and token requests).
func writes(log *sandbox.RequestLog) int {
	n := 0
	for _, e := range log.Snapshot() {
		if !strings.HasPrefix(e.Endpoint, "GET ") && !strings.Contains(e.Endpoint, "/idp/token") && !strings.HasSuffix(e.Endpoint, "/query") {
			n += e.Count
		}
	}
	return n
}

func TestE2E_MappingATenantInUseNeedsTheConfirmedPlanAndUnmapLeavesItAlone(t *testing.T) {
	s := newStack(t, true)
	s.seed(nil)
	a := s.start()
	eventually(t, 60*time.Second, "Contoso provisioned (the first sync's work is done)", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "25/0", q
	})
	acronisWrites := quiet(t, s.acronis.RequestLog())
	before := quota(s, acsandbox.WoodgroveRetail, "pw_base_workstations", "")

	// Adventure Works has no contract: mapping it to Woodgrove Retail (25
	// workstations, 600 GiB in use) would zero the quotas and deprovision it.
	path := fmt.Sprintf("/api/v1/customers/%d/mapping", adventureWorks)
	code, body := a.call("PUT", path, e2eAdmin, fmt.Sprintf(`{"tenantId":%q}`, acsandbox.WoodgroveRetailID), nil)
	if code != 409 || body["_contentType"] != "application/problem+json" {
		t.Fatalf("map without a plan = %d %v, want 409 with the plan", code, body["_raw"])
	}
	var refused struct {
		Plan struct {
			ID       string   `json:"id"`
			Warnings []string `json:"warnings"`
			Items    []struct {
				Item         string  `json:"item"`
				CurrentQuota string  `json:"currentQuota"`
				CurrentUsage float64 `json:"currentUsage"`
				NewQuota     string  `json:"newQuota"`
			} `json:"items"`
			Steps []struct {
				Action string    `json:"action"`
				At     time.Time `json:"at"`
			} `json:"steps"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(body["_raw"].(string)), &refused); err != nil || refused.Plan.ID == "" {
		t.Fatalf("no plan in the 409: %v %s", err, body["_raw"])
	}
	p := refused.Plan
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "quota below usage: pw_base_workstations") {
		t.Errorf("warnings %q do not name workstations going below usage", p.Warnings)
	}
	var ws bool
	for _, it := range p.Items {
		if it.Item == "pw_base_workstations" {
			ws = it.CurrentUsage == 25 && it.NewQuota == "0"
		}
	}
	if !ws || len(p.Steps) == 0 {
		t.Errorf("plan items %+v steps %+v: want workstations 25 used → 0 and the deprovisioning steps", p.Items, p.Steps)
	}
	time.Sleep(2 * time.Second)
	if n := writes(s.acronis.RequestLog()); n != acronisWrites {
		t.Fatalf("%d writes reached Acronis before the plan was confirmed", n-acronisWrites)
	}
	if q := quota(s, acsandbox.WoodgroveRetail, "pw_base_workstations", ""); q != before {
		t.Fatalf("Woodgrove Retail workstations = %s, was %s: changed without a confirmed plan", q, before)
	}

	// Confirmed: the plan's writes happen.
	code, body = a.call("PUT", path, e2eAdmin, fmt.Sprintf(`{"tenantId":%q,"planId":%q}`, acsandbox.WoodgroveRetailID, p.ID), nil)
	if code != 200 || !strings.Contains(fmt.Sprint(body["message"]), p.ID) {
		t.Fatalf("map with the plan = %d %v", code, body["_raw"])
	}
	eventually(t, 60*time.Second, "the confirmed plan applied", func() (bool, string) {
		q := quota(s, acsandbox.WoodgroveRetail, "pw_base_workstations", "")
		return q == "0/0", q
	})

	// Unmap: the tenant stays exactly as it is, and the audit log says so.
	after := quota(s, acsandbox.WoodgroveRetail, "pw_base_workstations", "")
	acronisWrites = writes(s.acronis.RequestLog())
	if code, body := a.call("DELETE", path, e2eAdmin, `{"reason":"wrong tenant"}`, nil); code != 200 {
		t.Fatalf("unmap = %d %v", code, body["_raw"])
	}
	time.Sleep(3 * time.Second)
	if n := writes(s.acronis.RequestLog()); n != acronisWrites {
		t.Errorf("%d writes reached Acronis after the unmap", n-acronisWrites)
	}
	if q := quota(s, acsandbox.WoodgroveRetail, "pw_base_workstations", ""); q != after {
		t.Errorf("workstations = %s after the unmap, was %s", q, after)
	}
	if ten, _ := s.acronis.Tenant(acsandbox.WoodgroveRetailID); !ten.Enabled || ten.Deleted {
		t.Errorf("tenant enabled %v deleted %v after the unmap", ten.Enabled, ten.Deleted)
	}
	_, audit := a.call("GET", fmt.Sprintf("/api/v1/audit?companyId=%d", adventureWorks), e2eRead, "", nil)
	if raw := fmt.Sprint(audit["_raw"]); !strings.Contains(raw, "leaves it exactly as it is") || !strings.Contains(raw, p.ID) {
		t.Errorf("audit log lacks the unmap's promise or the confirmed plan: %s", raw)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// putSettingsChange reads the settings through the API, lets change edit the
// document and saves it whole with the version read, as an admin's screen does.
func putSettingsChange(t *testing.T, a *app, change func(doc map[string]any)) {
	t.Helper()
	code, body := a.call("GET", "/api/v1/settings", e2eAdmin, "", nil)
	if code != 200 {
		t.Fatalf("GET /settings = %d %v", code, body["_raw"])
	}
	doc, _ := body["settings"].(map[string]any)
	change(doc)
	raw, _ := json.Marshal(map[string]any{"version": body["version"], "settings": doc})
	if code, body := a.call("PUT", "/api/v1/settings", e2eAdmin, string(raw), nil); code != 200 {
		t.Fatalf("PUT /settings = %d %v", code, body["_raw"])
	}
}

func TestE2E_ProvisioningSwitchedOnAfterTheFirstSyncProvisionsWithoutAnotherCall(t *testing.T) {
	s := newStack(t, true)
	s.seed(func(doc map[string]any) { doc["provisioning"].(map[string]any)["autoCreateCustomers"] = false })
	a := s.start()
	eventually(t, 60*time.Second, "Contoso planned and waiting without a tenant", func() (bool, string) {
		st := status(a, contoso)
		return st["state"] == "unmapped", fmt.Sprint(st["_raw"])
	})
	if _, ok := s.acronis.TenantByName("Contoso Ltd"); ok {
		t.Fatal("a tenant was provisioned while automatic provisioning was off")
	}
	companyReads := s.autotask.RequestLog().Count("POST /ATServicesRest/v1.0/Companies/query")

	saved := time.Now()
	putSettingsChange(t, a, func(doc map[string]any) { doc["provisioning"].(map[string]any)["autoCreateCustomers"] = true })
	eventually(t, 60*time.Second, "Contoso provisioned after the settings change alone", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "25/0", q
	})
	t.Logf("provisioned %s after the settings were saved", time.Since(saved).Round(time.Second))
	// The re-plan used the stored snapshots: no company was read from Autotask again.
	if n := s.autotask.RequestLog().Count("POST /ATServicesRest/v1.0/Companies/query"); n != companyReads {
		t.Errorf("companies read from Autotask during the re-plan: %d, want 0", n-companyReads)
	}
}

func TestE2E_FreeMappingReachesEveryExistingTenant(t *testing.T) {
	s := newStack(t, true)
	s.seed(nil)
	a := s.start()
	tenants := []string{"Contoso Ltd", "Fabrikam Inc", "Northwind Traders", "Blue Yonder Airlines"}
	for _, name := range tenants {
		eventually(t, 60*time.Second, name+" provisioned without mobile devices (none in its contract)", func() (bool, string) {
			q := quota(s, name, "pw_base_mobiles", "")
			return q == "off", q
		})
	}

	// Mobile devices become free: mapped to their service still, but given for nothing.
	code, body := a.call("GET", "/api/v1/service-mappings", e2eAdmin, "", nil)
	if code != 200 {
		t.Fatalf("GET /service-mappings = %d %v", code, body["_raw"])
	}
	var in []map[string]any
	for _, m := range body["mappings"].([]any) {
		m := m.(map[string]any)
		row := map[string]any{"offeringItem": m["offeringItem"], "free": m["free"], "serviceId": m["serviceId"]}
		if id, _ := m["infraId"].(string); id != "" {
			row["infraId"] = id
		}
		if m["offeringItem"] == "pw_base_mobiles" {
			row["free"] = true
		}
		in = append(in, row)
	}
	raw, _ := json.Marshal(map[string]any{"mappings": in})
	if code, body := a.call("PUT", "/api/v1/service-mappings", e2eAdmin, string(raw), nil); code != 200 {
		t.Fatalf("PUT /service-mappings = %d %v", code, body["_raw"])
	}
	for _, name := range tenants {
		eventually(t, 60*time.Second, name+" has mobile devices for free", func() (bool, string) {
			q := quota(s, name, "pw_base_mobiles", "")
			return q == "unlimited", q
		})
	}
}

func TestE2E_ChangedNumberOfDaysMovesThePendingFireTimes(t *testing.T) {
	s := newStack(t, true)
	s.day = time.Hour // long enough that nothing fires during the test
	s.seed(func(doc map[string]any) {
		doc["deprovisioning"] = map[string]any{"zeroQuotas": true,
			"disable": map[string]any{"enabled": true, "afterDays": 3}, "delete": map[string]any{"enabled": true, "afterDays": 6}}
	})
	a := s.start()
	eventually(t, 60*time.Second, "Contoso provisioned", func() (bool, string) {
		q := quota(s, "Contoso Ltd", "pw_base_workstations", "")
		return q == "25/0", q
	})
	endContoso(t, s, a)
	var disableAt, deleteAt time.Time
	eventually(t, 60*time.Second, "the deprovisioning steps pending with their times", func() (bool, string) {
		disableAt, deleteAt = pendingAt(status(a, contoso))
		return !disableAt.IsZero() && !deleteAt.IsZero(), fmt.Sprint(status(a, contoso)["pending"])
	})

	putSettingsChange(t, a, func(doc map[string]any) {
		doc["deprovisioning"] = map[string]any{"zeroQuotas": true,
			"disable": map[string]any{"enabled": true, "afterDays": 5}, "delete": map[string]any{"enabled": true, "afterDays": 9}}
	})
	eventually(t, 60*time.Second, "the fire times moved by the changed days", func() (bool, string) {
		dis, del := pendingAt(status(a, contoso))
		return dis.Sub(disableAt) == 2*s.day && del.Sub(deleteAt) == 3*s.day,
			fmt.Sprintf("disable %s → %s, delete %s → %s", disableAt, dis, deleteAt, del)
	})
}

// pendingAt reads the disable and delete times from a customer's pending actions.
func pendingAt(st map[string]any) (disable, del time.Time) {
	pending, _ := st["pending"].([]any)
	for _, p := range pending {
		p, _ := p.(map[string]any)
		at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(p["at"]))
		switch {
		case strings.HasPrefix(fmt.Sprint(p["action"]), "disable"):
			disable = at
		case strings.HasPrefix(fmt.Sprint(p["action"]), "delete"):
			del = at
		}
	}
	return disable, del
}

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunWithDB(m)) }

func TestE2E_SettingsThroughTheRealStack(t *testing.T) {
	a := newStack(t, false).start()

	// Auth: no token → 401, read-only token cannot write.
	if code, _ := a.call("GET", "/api/v1/settings", "", "", nil); code != 401 {
		t.Fatalf("no token: %d, want 401", code)
	}
	if code, _ := a.call("PUT", "/api/v1/settings", e2eRead, `{"version":0,"settings":{}}`, nil); code != 403 {
		t.Fatalf("read-only PUT: %d, want 403", code)
	}

	// PUT then GET.
	code, body := a.call("PUT", "/api/v1/settings", e2eAdmin,
		`{"settings":{"billingEnabled":true,"deprovisioning":{"zeroQuotas":true,"disable":{"enabled":true,"afterDays":14}}}}`,
		map[string]string{"If-Match": `"0"`})
	if code != 200 || body["version"] != float64(1) {
		t.Fatalf("PUT: %d %v", code, body["_raw"])
	}
	code, body = a.call("GET", "/api/v1/settings", e2eRead, "", nil)
	st, _ := body["settings"].(map[string]any)
	if code != 200 || st["billingEnabled"] != true || body["updatedBy"] != "ops" {
		t.Fatalf("GET: %d %v", code, body["_raw"])
	}
	stored := body["_raw"]

	// A bad PUT: 400 problem+json naming each bad field; nothing changes.
	code, body = a.call("PUT", "/api/v1/settings", e2eAdmin,
		`{"version":1,"settings":{"twoWaySync":true,"usageReporting":{"billingDay":0,"storage":["class9"]},"syncIntervalSeconds":1}}`, nil)
	if code != 400 || body["_contentType"] != "application/problem+json" {
		t.Fatalf("bad PUT: %d %v %v", code, body["_contentType"], body["_raw"])
	}
	var fields []string
	for _, e := range body["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	want := "newServices.allocationCodeId,syncIntervalSeconds,usageReporting.billingDay,usageReporting.storage.0"
	if strings.Join(fields, ",") != want {
		t.Fatalf("bad fields = %v, want %s", fields, want)
	}
	if _, body = a.call("GET", "/api/v1/settings", e2eRead, "", nil); body["_raw"] != stored {
		t.Fatalf("settings changed after a rejected PUT:\n%v\n%v", stored, body["_raw"])
	}

	// Readiness covers both dependencies.
	code, body = a.call("GET", "/readyz", "", "", nil)
	checks, _ := body["checks"].(map[string]any)
	if code != 200 || checks["postgres"] != "ok" || checks["temporal"] != "ok" {
		t.Fatalf("readyz: %d %v", code, body["_raw"])
	}
	if strings.Contains(a.logs.String(), e2eAdmin) {
		t.Fatal("a token reached the log")
	}
}

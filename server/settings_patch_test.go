package server

import (
	"slices"
	"testing"
)

func TestSettings_PatchChangesOnlyTheNamedFields(t *testing.T) {
	h := newHarness(t)
	r := h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{"billingEnabled":true,"syncIntervalSeconds":120,
		"deprovisioning":{"zeroQuotas":true,"disable":{"enabled":true,"afterDays":10},"delete":{"enabled":false,"afterDays":60}}}}`, "If-Match", `"0"`)
	if r.code != 200 {
		t.Fatalf("PUT = %d %s", r.code, r.body)
	}
	patch := `{"deprovisioning":{"disable":{"afterDays":12}},"ticketCreationEnabled":true,"syncIntervalSeconds":null}`
	r = h.do("PATCH", "/api/v1/settings", adminToken, patch, "If-Match", `"1"`, "Content-Type", mergePatchType)
	if r.code != 200 {
		t.Fatalf("PATCH = %d %s", r.code, r.body)
	}
	if got := r.header.Get("ETag"); got != `"2"` {
		t.Errorf("ETag = %s, want \"2\"", got)
	}
	got := decode[SettingsDocument](t, h.do("GET", "/api/v1/settings", readToken, nil))
	s := got.Settings
	switch {
	case got.Version != 2:
		t.Errorf("version = %d, want 2", got.Version)
	case !s.BillingEnabled || !s.Deprovisioning.ZeroQuotas || !s.Deprovisioning.Disable.Enabled:
		t.Errorf("fields the patch did not name changed: %+v", s)
	case s.Deprovisioning.Disable.AfterDays != 12 || !s.TicketCreationEnabled:
		t.Errorf("patched fields: disable after %d (want 12), tickets %v (want true)", s.Deprovisioning.Disable.AfterDays, s.TicketCreationEnabled)
	case s.SyncIntervalSeconds != 30:
		t.Errorf("syncIntervalSeconds = %d, want the default 30 after null", s.SyncIntervalSeconds)
	}
}

func TestSettings_BadPatchIsRejectedAndSavesNothing(t *testing.T) {
	h := newHarness(t)
	h.do("PUT", "/api/v1/settings", adminToken, `{"settings":{"billingEnabled":true}}`, "If-Match", `"0"`)
	before := h.do("GET", "/api/v1/settings", readToken, nil)
	mp := []string{"Content-Type", mergePatchType}
	cases := []struct {
		name   string
		body   string
		header []string
		code   int
		field  string
	}{
		{"unknown field", `{"billingEnabld":false}`, append([]string{"If-Match", `"1"`}, mp...), 400, "settings.billingEnabld"},
		{"invalid value", `{"usageReporting":{"billingDay":40}}`, append([]string{"If-Match", `"1"`}, mp...), 400, "usageReporting.billingDay"},
		{"not an object", `[1]`, append([]string{"If-Match", `"1"`}, mp...), 400, "body"},
		{"stale version", `{"billingEnabled":false}`, append([]string{"If-Match", `"0"`}, mp...), 412, ""},
		{"no version", `{"billingEnabled":false}`, mp, 428, "version"},
		{"plain JSON", `{"billingEnabled":false}`, []string{"If-Match", `"1"`, "Content-Type", "application/json"}, 415, "Content-Type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("PATCH", "/api/v1/settings", adminToken, c.body, c.header...)
			if r.code != c.code {
				t.Fatalf("PATCH %s = %d %s, want %d", c.body, r.code, r.body, c.code)
			}
			if fields := problemFields(t, r); c.field != "" && !slices.Contains(fields, c.field) {
				t.Errorf("problem names %v, want %s", fields, c.field)
			}
		})
	}
	if after := h.do("GET", "/api/v1/settings", readToken, nil); string(after.body) != string(before.body) {
		t.Fatalf("a rejected PATCH changed the settings:\nbefore %s\nafter  %s", before.body, after.body)
	}
}

package acronis_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

// samplesDir holds Acronis' published JSON examples, kept with the client.
const samplesDir = "../../acronis/testdata/acronis-samples"

func sample(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "?"
}

// sameShape checks that got has every field of want with the same JSON type,
// recursively; null on either side matches any type (nullable fields).
// Objects listed in free are type-specific and compared only as objects.
func sameShape(t *testing.T, path string, want, got any, free map[string]bool) {
	t.Helper()
	wt, gt := jsonType(want), jsonType(got)
	if wt == "null" || gt == "null" {
		return
	}
	if wt != gt {
		t.Errorf("%s: sandbox has %s (%v), sample has %s (%v)", path, gt, got, wt, want)
		return
	}
	if free[path] {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s.%s: missing in the sandbox's answer (sample has %v)", path, k, wv)
				continue
			}
			sameShape(t, path+"."+k, wv, gv, free)
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			sameShape(t, path+"[]", w[0], g[0], free)
		}
	}
}

func TestShapes_SandboxAnswersLikeSamples(t *testing.T) {
	h := start(t, acsandbox.Options{})
	t.Run("tenant", func(t *testing.T) {
		sameShape(t, "$", sample(t, "tenant.json"), h.must("GET", "/api/2/tenants/"+acsandbox.LitwareID, nil, 200), nil)
	})
	t.Run("offering item", func(t *testing.T) {
		var storage any
		for _, it := range items(h.must("GET", "/api/2/tenants/"+acsandbox.LitwareID+"/offering_items?edition=*", nil, 200)) {
			if obj(it)["name"] == "pw_base_storage" && obj(it)["status"] == 1.0 {
				storage = it
			}
		}
		if storage == nil {
			t.Fatal("Litware has no pw_base_storage item")
		}
		sameShape(t, "$", sample(t, "offering-item.json"), storage, nil)
	})
	t.Run("pricing", func(t *testing.T) {
		sameShape(t, "$", sample(t, "tenant-pricing.json"), h.must("GET", "/api/2/tenants/"+acsandbox.LitwareID+"/pricing", nil, 200), nil)
	})
	t.Run("usages batch", func(t *testing.T) {
		got := h.must("GET", "/api/2/tenants/usages?tenants="+acsandbox.LitwareID+"&usage_names=storage,immutable_storage", nil, 200)
		want := sample(t, "usages-batch-response.json")
		sameShape(t, "$", want, got, nil)
		us := obj(items(got)[0])["usages"].([]any)
		if len(us) != 2 || obj(us[0])["usage_name"] != "storage" || obj(us[1])["usage_name"] != "immutable_storage" {
			t.Fatalf("usages = %v, want storage then immutable_storage like the sample", us)
		}
		if _, ok := obj(us[1])["offering_item"]; ok {
			t.Errorf("immutable_storage carries offering_item, the sample's does not")
		}
		sameShape(t, "$.usage[1]", obj(items(want)[0])["usages"].([]any)[1], us[1], nil)
	})
	t.Run("alerts list", func(t *testing.T) {
		got := h.must("GET", "/api/alert_manager/v1/alerts?type="+acsandbox.MalwareAlertType, nil, 200)
		if n := len(items(got)); n != 1 {
			t.Fatalf("malware alerts = %d, want 1", n)
		}
		sameShape(t, "$", sample(t, "alerts-list-response.json"), got, nil)
		bf := h.must("GET", "/api/alert_manager/v1/alerts/"+acsandbox.AlertBackupFailedID, nil, 200)
		sameShape(t, "$", obj(sample(t, "alerts-list-response.json"))["items"].([]any)[0], bf, map[string]bool{"$.details": true})
	})
	t.Run("error", func(t *testing.T) {
		status, b := h.call("DELETE", "/api/2/tenants/"+acsandbox.LitwareID+"?version=1", nil)
		if status != 400 {
			t.Fatalf("delete enabled tenant: status %d, want 400", status)
		}
		var got any
		_ = json.Unmarshal(b, &got)
		want := sample(t, "error-response.json")
		sameShape(t, "$", want, got, nil)
		// Apart from the tenant's id the body is the sample's, word for word.
		v1 := obj(obj(obj(got)["error"])["context"])["id"].(string)
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if strings.ReplaceAll(string(wb), "1415032", v1) != string(gb) {
			t.Errorf("error body\n got %s\nwant %s (with id %s)", gb, wb, v1)
		}
	})
	t.Run("events", func(t *testing.T) {
		h.must("PUT", "/api/2/tenants/"+acsandbox.ProsewareID, map[string]any{"version": 1, "enabled": false}, 200)
		got := h.must("GET", "/api/event_manager/v1/events?subscription_id=s&consumer_id=c&offset=0", nil, 200)
		sameShape(t, "$", sample(t, "event-manager-events-response.json"), got, nil)
		if typ := obj(obj(got)["events"].([]any)[0])["type"]; typ != "cti.a.p.em.event.v1.0~a.p.tenant.disabled.v1.0" {
			t.Errorf("event type = %v, want the sample's tenant.disabled", typ)
		}
	})
	t.Run("token", func(t *testing.T) {
		res, b := h.tokenRequest(h.sb.ClientID(), h.sb.ClientSecret(), "grant_type=client_credentials")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		var got any
		_ = json.Unmarshal(b, &got)
		sameShape(t, "$", sample(t, "token-response.json"), got, nil)
		if exp := obj(got)["expires_on"].(float64); int64(exp) != h.clock.Now().Add(2*3600e9).Unix() {
			t.Errorf("expires_on = %v, want now + 2 h", exp)
		}
	})
}

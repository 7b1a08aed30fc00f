package acronis_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
)

// samplesDir holds Acronis' published JSON examples (see its README).
const samplesDir = "testdata/acronis-samples"

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	return b
}

// decodeStrict decodes a sample refusing unknown fields, so a field Acronis
// sends that the client would drop fails the test.
func decodeStrict(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
}

// assertRoundTrip re-encodes v and checks every non-empty value of the sample
// survived (empty strings, false, 0 and null may be omitted).
func assertRoundTrip(t *testing.T, sample []byte, v any) {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(sample, &want)
	_ = json.Unmarshal(out, &got)
	compareValues(t, "$", want, got)
}

func compareValues(t *testing.T, path string, want, got any) {
	t.Helper()
	if want == nil || want == "" || want == false || want == float64(0) {
		return // empty in the sample: the client may omit it
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			if len(w) > 0 {
				t.Errorf("%s: got %v, want object %v", path, got, w)
			}
			return
		}
		for k, wv := range w {
			compareValues(t, path+"."+k, wv, g[k])
		}
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			t.Errorf("%s: got %d elements, want %d", path, len(g), len(w))
			return
		}
		for i := range w {
			compareValues(t, path+"["+strconv.Itoa(i)+"]", w[i], g[i])
		}
	case string:
		if g, ok := got.(string); ok && g != w {
			// Timestamps are re-rendered; compare them as instants.
			wt, werr := acronis.ParseTime(w)
			gt, gerr := acronis.ParseTime(g)
			if werr == nil && gerr == nil && wt.Equal(gt) {
				return
			}
		}
		if got != want {
			t.Errorf("%s: got %v, want %q", path, got, w)
		}
	default:
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", path, got, want)
		}
	}
}

func TestSample_Tenant(t *testing.T) {
	b := readSample(t, "tenant.json")
	var tn acronis.Tenant
	decodeStrict(t, b, &tn)
	assertRoundTrip(t, b, tn)
	if tn.ID != "0fcd4a69-8a40-4de8-b711-d9c83dc000f7" || tn.Version != 1 || tn.Kind != "customer" || !tn.AncestralAccess ||
		tn.ParentID != "ede9f834-70b3-476c-83d9-736f9f8c7dae" || *tn.InternalTag != "some.unique.tag.value" || tn.CustomerID != nil {
		t.Fatalf("tenant = %+v, want the sample's id, version 1, customer, ancestral access, parent, tag", tn)
	}
	if got := tn.Contact.UpdatedAt.Time; !got.Equal(time.Date(2023, 12, 1, 11, 7, 50, 0, time.UTC)) {
		t.Fatalf("contact.updated_at = %v, want 2023-12-01T11:07:50Z", got)
	}
}

func TestSample_OfferingItem(t *testing.T) {
	b := readSample(t, "offering-item.json")
	var it acronis.OfferingItem
	decodeStrict(t, b, &it)
	assertRoundTrip(t, b, it)
	if it.Name != "dr_storage" || it.Type != "infra" || it.InfraID != "debe7865-fa8d-4c16-8e26-adcf8d7fd23d" ||
		it.Quota == nil || !it.Quota.Unlimited() || it.Quota.Version != 0 || !it.Enabled() || *it.Edition != "standard" {
		t.Fatalf("item = %+v quota %+v, want dr_storage infra unlimited version 0 enabled", it, it.Quota)
	}
}

func TestSample_Pricing(t *testing.T) {
	b := readSample(t, "tenant-pricing.json")
	var p acronis.Pricing
	decodeStrict(t, b, &p)
	assertRoundTrip(t, b, p)
	if p.Mode != "trial" || p.Version != 1596545222672 || *p.ProductionStartDate != "2020-08-04T12:47:03" {
		t.Fatalf("pricing = %+v, want trial version 1596545222672", p)
	}
}

func TestSample_UsagesBatch(t *testing.T) {
	b := readSample(t, "usages-batch-response.json")
	var r struct {
		Items []acronis.TenantUsages `json:"items"`
	}
	decodeStrict(t, b, &r)
	assertRoundTrip(t, b, r)
	u := r.Items[0].Usages[0]
	if r.Items[0].Tenant != "d8515984-648a-4a38-9aeb-c91ec704ccda" || u.Name != "pw_base_storage" || u.UsageName != "storage" ||
		u.AbsoluteValue != 344064 || u.Value != 344064 || u.TenantID != 6492521 || u.InfraID != "019097a6-114f-4418-bd54-e01ef049f209" ||
		u.OfferingItem == nil || u.OfferingItem.Status != 1 || !u.RangeStart.Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("usage = %+v, want the sample's storage usage", u)
	}
	if r.Items[0].Usages[1].OfferingItem != nil {
		t.Fatalf("immutable_storage has an offering item %+v, want none", r.Items[0].Usages[1].OfferingItem)
	}
}

func TestSample_AlertsList(t *testing.T) {
	b := readSample(t, "alerts-list-response.json")
	var p acronis.AlertPage
	decodeStrict(t, b, &p)
	assertRoundTrip(t, b, p)
	a := p.Items[0]
	if a.ID != "887E19F7-59F5-44DC-9721-64B1C48B4117" || a.Severity != "warning" || a.Tenant.UUID != "1d1e5a08-1139-4c25-9a26-e9fc1b76460c" ||
		a.Tenant.ID != "286" || a.Tenant.Locator != "/1/281/282/285/286/" || a.Title() != "Malware Detected" || a.Dismissed() {
		t.Fatalf("alert = %+v, want the sample's malware alert", a)
	}
	if got, want := a.UpdatedAt.UnixNano(), time.Date(2023, 11, 7, 14, 39, 57, 556577425, time.UTC).UnixNano(); got != want {
		t.Fatalf("updatedAt = %d ns, want %d (nanoseconds kept for updated_at=gt())", got, want)
	}
	if p.Paging.Cursors.After != "" {
		t.Fatalf("after = %q, want none", p.Paging.Cursors.After)
	}
}

func TestSample_EventManagerEvents(t *testing.T) {
	b := readSample(t, "event-manager-events-response.json")
	var eb acronis.EventBatch
	decodeStrict(t, b, &eb)
	assertRoundTrip(t, b, eb)
	if eb.Offset != 93376478 || len(eb.Events) != 1 || eb.Events[0].Type != "cti.a.p.em.event.v1.0~a.p.tenant.disabled.v1.0" || eb.Events[0].Sequence != 93376478 {
		t.Fatalf("events = %+v, want the sample's tenant.disabled event at 93376478", eb)
	}
}

func TestSample_ErrorResponse(t *testing.T) {
	b := readSample(t, "error-response.json")
	e := acronis.DecodeError(http.StatusBadRequest, http.Header{}, b)
	if e.Kind != acronis.KindInvalid || e.Code != acronis.CodeDeleteEnabledTenant || e.Message != "It is prohibited to delete a non-disabled tenant." ||
		e.Info != "It is prohibited to delete a non-disabled tenant \"1415032\"" || e.Domain != "PlatformAccountServer" || e.Context["id"] != "1415032" {
		t.Fatalf("error = %+v, want invalid 1006 with the sample's message, info, domain and context", e)
	}
	if _, ok := e.Details["addition"]; !ok {
		t.Fatalf("details = %v, want addition kept", e.Details)
	}
}

// TestSample_TokenResponse serves the sample token answer and checks the
// client reads expires_on (Unix seconds) as the expiry.
func TestSample_TokenResponse(t *testing.T) {
	b := readSample(t, "token-response.json")
	var tokenCalls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case acronis.TokenPath:
			tokenCalls++
			if id, secret, ok := r.BasicAuth(); !ok || id != "cid" || secret != "sec" {
				t.Errorf("token request Basic auth = %q/%q (%v), want cid/sec", id, secret, ok)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
		case "/api/2/clients/cid":
			if got := r.Header.Get("Authorization"); got != "Bearer encoded.jwt.struct" {
				t.Errorf("Authorization = %q, want the sample's token", got)
			}
			_, _ = w.Write([]byte(`{"client_id":"cid","tenant_id":"ede9f834-70b3-476c-83d9-736f9f8c7dae"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	// The sample expires at 1560523337 (2019-06-14T14:42:17Z); a clock 20 min
	// earlier uses it, a clock 10 min earlier renews it.
	exp := time.Unix(1560523337, 0)
	now := exp.Add(-20 * time.Minute)
	c, err := acronis.New(ctx(t), acronis.Config{BaseURL: srv.URL, ClientID: "cid", ClientSecret: "sec", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if c.PartnerTenantID() != "ede9f834-70b3-476c-83d9-736f9f8c7dae" {
		t.Fatalf("partner = %q", c.PartnerTenantID())
	}
	if _, err := c.GetAPIClient(ctx(t), "cid"); err != nil {
		t.Fatal(err)
	}
	if tokenCalls != 1 {
		t.Fatalf("token fetched %d times before expiry margin, want 1", tokenCalls)
	}
	now = exp.Add(-10 * time.Minute)
	if _, err := c.GetAPIClient(ctx(t), "cid"); err != nil {
		t.Fatal(err)
	}
	if tokenCalls != 2 {
		t.Fatalf("token fetched %d times within 15 min of expires_on, want 2", tokenCalls)
	}
}

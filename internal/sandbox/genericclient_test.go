package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// These tests call both sandboxes the way a generic, typed third-party client
// does: every failure body is decoded as the vendor's JSON error envelope,
// usage figures are decoded into integer fields, and the documented list
// endpoints are used as documented. They guard the deviations real clients
// found (issue 13, item 4).

// genericCall sends one request and returns the status, headers and body.
func genericCall(t *testing.T, method, u string, hdr map[string]string, body any) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// strictDecode decodes like a typed client: unknown fields are allowed, but a
// value of the wrong JSON type (a fraction into an integer) is an error.
func strictDecode(t *testing.T, what string, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: a typed client cannot decode the answer: %v\n%s", what, err, b)
	}
}

// acronisError is the platform's error envelope (sample error-response.json).
type acronisError struct {
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Domain  string `json:"domain"`
		Details struct {
			Info string `json:"info"`
		} `json:"details"`
	} `json:"error"`
}

func TestGenericClient_Acronis(t *testing.T) {
	sb, err := acsandbox.New(acsandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()

	// Token, as every client gets it (client credentials, Basic auth).
	req, _ := http.NewRequest("POST", srv.URL+"/api/2/idp/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sb.ClientID(), sb.ClientSecret())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresOn   int64  `json:"expires_on"`
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	strictDecode(t, "token", b, &tok)
	auth := map[string]string{"Authorization": "Bearer " + tok.AccessToken}

	// Whole bytes: give the storage an odd byte count, so a tenth of it (the
	// sandbox's immutable share) is fractional unless rounded.
	items, err := sb.OfferingItems(acsandbox.LitwareID)
	if err != nil {
		t.Fatal(err)
	}
	infra := ""
	for _, it := range items {
		if it.Name == "pw_base_storage" && it.Enabled {
			infra = it.InfraID
		}
	}
	if infra == "" {
		t.Fatal("Litware has no enabled pw_base_storage")
	}
	if err := sb.SetUsage(acsandbox.LitwareID, "pw_base_storage", infra, 1073741831.4, 1073741837); err != nil {
		t.Fatal(err)
	}
	status, _, b := genericCall(t, "GET", srv.URL+"/api/2/tenants/usages?tenants="+acsandbox.LitwareID, auth, nil)
	if status != 200 {
		t.Fatalf("batch usages: %d %s", status, b)
	}
	var batch struct {
		Items []struct {
			Tenant string `json:"tenant"`
			Usages []struct {
				UsageName     string `json:"usage_name"`
				Unit          string `json:"measurement_unit"`
				Value         int64  `json:"value"`
				AbsoluteValue int64  `json:"absolute_value"`
			} `json:"usages"`
		} `json:"items"`
	}
	strictDecode(t, "batch usages", b, &batch)
	got := map[string]int64{}
	for _, u := range batch.Items[0].Usages {
		got[u.UsageName] = u.AbsoluteValue
	}
	if got["storage"] != 1073741837 || got["immutable_storage"] != 107374183 {
		t.Fatalf("storage %d immutable %d; want 1073741837 and 107374183 (whole bytes)", got["storage"], got["immutable_storage"])
	}

	// JSON error bodies: an unknown path, a known path with another method,
	// and a domain error all decode as the platform envelope.
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/2/no_such_collection", 404},
		{"PATCH", "/api/2/tenants/" + acsandbox.LitwareID, 405},
		{"GET", "/api/alert_manager/v1/nothing_here", 404},
		{"GET", "/api/2/tenants/00000000-0000-4000-8000-00000000dead", 404},
	} {
		status, hdr, b := genericCall(t, c.method, srv.URL+c.path, auth, nil)
		var e acronisError
		if status != c.status || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %q, want %d application/json: %s", c.method, c.path, status, hdr.Get("Content-Type"), c.status, b)
			continue
		}
		strictDecode(t, c.method+" "+c.path, b, &e)
		if e.Error == nil || e.Error.Code == 0 || e.Error.Message == "" || e.Error.Domain == "" {
			t.Errorf("%s %s: body %s is not the platform error envelope", c.method, c.path, b)
		}
		if status == 405 && hdr.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", c.method, c.path)
		}
	}

	// Documented list endpoint: GET /api/2/users?tenant_id= with cursor paging.
	var created []string
	for _, login := range []string{"generic.one", "generic.two"} {
		status, _, b := genericCall(t, "POST", srv.URL+"/api/2/users", auth, map[string]any{
			"tenant_id": acsandbox.LitwareID, "login": login, "contact": map[string]any{"email": login + "@litware.example"}})
		if status != 200 {
			t.Fatalf("create user %s: %d %s", login, status, b)
		}
		var u struct {
			ID string `json:"id"`
		}
		strictDecode(t, "user", b, &u)
		created = append(created, u.ID)
	}
	type userPage struct {
		Items []struct {
			ID       string `json:"id"`
			TenantID string `json:"tenant_id"`
			Login    string `json:"login"`
			Version  int64  `json:"version"`
		} `json:"items"`
		Paging struct {
			Cursors struct {
				After string `json:"after"`
			} `json:"cursors"`
		} `json:"paging"`
		Timestamp string `json:"timestamp"`
	}
	seen := map[string]bool{}
	next := srv.URL + "/api/2/users?limit=1&tenant_id=" + acsandbox.LitwareID
	for pages := 0; next != ""; pages++ {
		if pages > 20 {
			t.Fatal("users paging does not end")
		}
		status, _, b := genericCall(t, "GET", next, auth, nil)
		if status != 200 {
			t.Fatalf("list users: %d %s", status, b)
		}
		var p userPage
		strictDecode(t, "users page", b, &p)
		if len(p.Items) > 1 {
			t.Fatalf("page has %d users, limit was 1", len(p.Items))
		}
		for _, u := range p.Items {
			if u.TenantID != acsandbox.LitwareID || seen[u.ID] {
				t.Fatalf("user %+v: wrong tenant or served twice", u)
			}
			seen[u.ID] = true
		}
		next = ""
		if a := p.Paging.Cursors.After; a != "" {
			next = srv.URL + "/api/2/users?limit=1&after=" + url.QueryEscape(a)
		}
	}
	for _, id := range created {
		if !seen[id] {
			t.Errorf("created user %s is not listed", id)
		}
	}
	if status, _, b := genericCall(t, "GET", srv.URL+"/api/2/users", auth, nil); status != 400 || !json.Valid(b) {
		t.Errorf("users without a filter: %d %s, want a 400 JSON error", status, b)
	}
}

func TestGenericClient_Autotask(t *testing.T) {
	sb, err := atsandbox.New(atsandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()

	// Zone discovery, then every call goes to the zone URL verbatim + "v1.0/".
	status, _, b := genericCall(t, "GET", srv.URL+"/atservicesrest/v1.0/zoneInformation?user="+url.QueryEscape(atsandbox.DefaultUsername), nil, nil)
	if status != 200 {
		t.Fatalf("zoneInformation: %d %s", status, b)
	}
	var zone struct {
		ZoneName string `json:"zoneName"`
		URL      string `json:"url"`
		WebURL   string `json:"webUrl"`
		CI       int32  `json:"ci"`
	}
	strictDecode(t, "zone", b, &zone)
	if want := srv.URL + "/atservicesrest/"; zone.URL != want {
		t.Fatalf("zone url %q, want %q (real zones answer lower case)", zone.URL, want)
	}
	auth := map[string]string{"UserName": atsandbox.DefaultUsername, "Secret": atsandbox.DefaultSecret, "ApiIntegrationCode": atsandbox.DefaultIntegrationCode}
	status, _, b = genericCall(t, "GET", zone.URL+"v1.0/Companies/query?search="+url.QueryEscape(`{"filter":[{"op":"exist","field":"id"}]}`), auth, nil)
	if status != 200 {
		t.Fatalf("companies query at the zone url: %d %s", status, b)
	}
	var page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
		PageDetails struct {
			Count int `json:"count"`
		} `json:"pageDetails"`
	}
	strictDecode(t, "companies", b, &page)
	if len(page.Items) == 0 || page.PageDetails.Count != len(page.Items) {
		t.Fatalf("companies: %d items, pageDetails.count %d", len(page.Items), page.PageDetails.Count)
	}

	// Failures decode as Autotask's {"errors": [...]} everywhere.
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "v1.0/NoSuchEntities/query", 404},
		{"DELETE", "v1.0/Companies/0", 405},
		{"PUT", "v1.0/Companies/query", 405},
	} {
		status, hdr, b := genericCall(t, c.method, zone.URL+c.path, auth, nil)
		var e struct {
			Errors []string `json:"errors"`
		}
		if status != c.status || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %q, want %d application/json: %s", c.method, c.path, status, hdr.Get("Content-Type"), c.status, b)
			continue
		}
		strictDecode(t, c.method+" "+c.path, b, &e)
		if len(e.Errors) == 0 || e.Errors[0] == "" {
			t.Errorf("%s %s: body %s is not Autotask's errors envelope", c.method, c.path, b)
		}
	}
}

package autotask_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask/openapicheck"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// TestRoutes_EveryRouteValidatesAgainstOpenAPI exercises each route the
// sandbox serves; the harness validates requests and 200 answers (SPEC F13).
func TestRoutes_EveryRouteValidatesAgainstOpenAPI(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	entities := []string{"Companies", "Contacts", "Contracts", "ContractServices", "ContractServiceUnits", "ContractServiceBundles",
		"ContractServiceBundleUnits", "Services", "ServiceBundles", "ServiceBundleServices", "BillingCodes",
		"UserDefinedFieldDefinitions", "UserDefinedFieldListItems", "Tickets", "TicketNotes"}
	for _, e := range entities {
		page := h.must200(h.do("POST", e+"/query", all()), e+" query").json(t)
		items, _ := page["items"].([]any)
		h.must200(h.do("POST", e+"/query/count", all()), e+" count")
		h.must200(h.do("GET", e+"/query?search="+url.QueryEscape(`{"filter":[{"op":"gte","field":"id","value":0}]}`), nil), e+" GET query")
		h.must200(h.do("GET", e+"/query/count?search="+url.QueryEscape(`{"filter":[{"op":"gte","field":"id","value":0}]}`), nil), e+" GET count")
		h.must200(h.do("GET", e+"/entityInformation", nil), e+" entityInformation")
		h.must200(h.do("GET", e+"/entityInformation/fields", nil), e+" fields")
		h.must200(h.do("GET", e+"/entityInformation/userDefinedFields", nil), e+" userDefinedFields")
		if len(items) > 0 {
			id := items[0].(map[string]any)["id"]
			h.must200(h.do("GET", fmt.Sprintf("%s/%v", e, id), nil), e+" get")
		}
	}
	for _, p := range []string{"Companies/101/Contacts", "Contracts/2101/Services", "Contracts/2101/ServiceUnits",
		"Contracts/2103/ServiceBundles", "Contracts/2103/ServiceBundleUnits", "ServiceBundles/401/Services", "UserDefinedFields/501/ListItems"} {
		page := h.must200(h.do("GET", p, nil), p).json(t)
		items, _ := page["items"].([]any)
		if len(items) == 0 {
			t.Errorf("GET %s: no items, want the demo's", p)
			continue
		}
		id := items[0].(map[string]any)["id"]
		h.must200(h.do("GET", fmt.Sprintf("%s/%v", p, id), nil), p+" by id")
	}
	h.must200(h.do("GET", "ThresholdInformation", nil), "ThresholdInformation")
	zone := h.must200(h.request(h.hc, "GET", h.srv.URL+"/atservicesrest/v1.0/zoneInformation?user="+url.QueryEscape(atsandbox.DefaultUsername), nil, nil), "zone").json(t)
	if zone["url"] != h.srv.URL+"/atservicesrest/" {
		t.Errorf("zone url = %v, want %s", zone["url"], h.srv.URL+"/atservicesrest/")
	}

	// Writes.
	created := h.must200(h.do("POST", "Tickets", map[string]any{"companyID": 101, "title": "T", "status": 1, "priority": 2, "externalID": "a-1"}), "create ticket").json(t)
	tid := created["itemId"]
	h.must200(h.do("PATCH", "Tickets", map[string]any{"id": tid, "status": 5}), "patch ticket")
	note := h.must200(h.do("POST", fmt.Sprintf("Tickets/%v/Notes", tid), map[string]any{"title": "n", "description": "d", "noteType": 1, "publish": 1}), "create note").json(t)
	h.must200(h.do("PATCH", fmt.Sprintf("Tickets/%v/Notes", tid), map[string]any{"id": note["itemId"], "description": "d2"}), "patch note")
	h.must200(h.do("GET", fmt.Sprintf("Tickets/%v/Notes", tid), nil), "list notes")
	h.must200(h.do("POST", "Services", map[string]any{"name": "S", "billingCodeID": atsandbox.BillingCodeAcronis, "periodType": 1, "unitPrice": 1.5}), "create service")
	h.must200(h.do("PATCH", "Services", map[string]any{"id": atsandbox.ServiceWorkstations, "unitPrice": 7}), "patch service")
	h.must200(h.do("POST", "ContractServiceAdjustments", map[string]any{"contractID": 2101, "serviceID": atsandbox.ServiceServers, "unitChange": 1, "effectiveDate": "2026-11-24T00:00:00Z"}), "root adjustment")
	h.must200(h.do("POST", "Contracts/2101/ServiceAdjustments", map[string]any{"contractID": 2101, "serviceID": atsandbox.ServiceServers, "unitChange": 1, "effectiveDate": "2026-11-24T00:00:00Z"}), "child adjustment")
	h.must200(h.do("POST", "Contracts/2103/ServiceBundleAdjustments", map[string]any{"contractID": 2103, "serviceBundleID": atsandbox.ServiceBundleServer, "unitChange": 1, "effectiveDate": "2026-11-24T00:00:00Z"}), "bundle adjustment")
	h.must200(h.do("POST", "Contracts/2107/Services", map[string]any{"contractID": 2107, "serviceID": atsandbox.ServiceMobileDevices}), "add contract service")
	h.must200(h.do("PATCH", "Contracts", map[string]any{"id": 2107, "userDefinedFields": []any{map[string]any{"name": "Acronis PAYG", "value": "No"}}}), "patch contract UDF")
	udf := h.must200(h.do("POST", "UserDefinedFieldDefinitions", map[string]any{"name": "Acronis Tenant", "udfType": 1, "dataType": 1}), "create UDF").json(t)
	h.must200(h.do("POST", "UserDefinedFieldDefinitions", map[string]any{"name": "Tier", "udfType": 3, "dataType": 5}), "create list UDF")
	_ = udf
	h.must200(h.do("POST", "UserDefinedFields/501/ListItems", map[string]any{"valueForDisplay": "Maybe", "valueForExport": "M"}), "create list item")
	h.must200(h.do("POST", "Companies/106/Contacts", map[string]any{"firstName": "A", "lastName": "B", "emailAddress": "a@b.example"}), "create contact")
	h.must200(h.do("PATCH", "Companies", map[string]any{"id": 106, "phone": "+1"}), "patch company")
	h.must200(h.request(h.hc, "GET", h.srv.URL+"/atservicesrest/versioninformation", nil, nil), "versioninformation")
}

func TestRoutes_CaseInsensitivePaths(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	for _, p := range []string{"/atservicesrest/v1.0/companies/101", "/ATSERVICESREST/V1.0/COMPANIES/101", "/ATServicesRest/V1.0/Companies/101"} {
		r := h.request(h.raw, "GET", h.srv.URL+p, nil, creds())
		if r.status != 200 || !strings.Contains(string(r.body), `"companyName":"Contoso Ltd"`) {
			t.Errorf("GET %s = %d %s, want 200 with Contoso Ltd", p, r.status, r.body)
		}
	}
}

func TestRoutes_UnknownAndWrongMethod(t *testing.T) {
	h := newHarness(t, atsandbox.Options{})
	cases := []struct {
		method, path string
		want         int
	}{
		{"POST", "Tasks", 404},                            // only /Projects/{id}/Tasks exists
		{"POST", "ContractServiceAdjustments/query", 404}, // adjustments cannot be queried
		{"DELETE", "Companies/101", 405},
		{"POST", "ContractServiceUnits", 405},
		{"PUT", "Tickets", 405},
	}
	for _, c := range cases {
		r := h.request(h.raw, c.method, h.base+c.path, all(), creds())
		if r.status != c.want {
			t.Errorf("%s %s = %d %s, want %d", c.method, c.path, r.status, r.body, c.want)
		}
	}
	r := h.request(h.raw, "GET", h.base+"Companies/query", nil, creds())
	if r.status != 500 {
		t.Errorf("GET query without search = %d, want 500", r.status)
	}
	var body map[string][]string
	if json.Unmarshal(r.body, &body) != nil || len(body["errors"]) != 1 {
		t.Errorf("error body = %s, want {\"errors\":[...]}", r.body)
	}
	if r := h.request(h.raw, "GET", h.base+"Companies/query/next?paging=!!", nil, creds()); r.status != http.StatusInternalServerError {
		t.Errorf("bad paging token = %d, want 500", r.status)
	}
}

func TestRoutes_AllExistInAutotasksDocument(t *testing.T) {
	spec, err := openapicheck.Load()
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	routes := atsandbox.RoutesForTest()
	if len(routes) < 100 {
		t.Fatalf("only %d routes listed, want the full table", len(routes))
	}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		if !spec.HasRoute(method, "/ATServicesRest/V1.0/"+path) {
			t.Errorf("sandbox serves %s /V1.0/%s, which Autotask's document does not have", method, path)
		}
	}
}

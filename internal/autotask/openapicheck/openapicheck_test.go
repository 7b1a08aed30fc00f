package openapicheck

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLoadAndRoute(t *testing.T) {
	start := time.Now()
	s, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Logf("loaded in %s", time.Since(start))
	cases := []struct{ method, path, want string }{
		{"POST", "/atservicesrest/v1.0/Companies/query", "/V1.0/Companies/query"},
		{"GET", "/ATServicesRest/V1.0/companies/174", "/V1.0/Companies/{id}"},
		{"POST", "/ATServicesRest/V1.0/Tickets/12/Notes", "/V1.0/Tickets/{parentId}/Notes"},
		{"POST", "/ATServicesRest/V1.0/Companies/query/next", "/V1.0/Companies/query"},
		{"GET", "/atservicesrest/v1.0/zoneInformation", "/V1.0/ZoneInformation"},
		{"POST", "/atservicesrest/v1.0/Contracts/query/count", "/V1.0/Contracts/query/count"},
	}
	for _, c := range cases {
		r, _, err := s.route(c.method, c.path)
		if err != nil {
			t.Errorf("route(%s %s): %v", c.method, c.path, err)
			continue
		}
		if r.Path != c.want {
			t.Errorf("route(%s %s) = %s, want %s", c.method, c.path, r.Path, c.want)
		}
	}
	if _, _, err := s.route("POST", "/atservicesrest/v1.0/Tasks"); err == nil {
		t.Errorf("route(POST /Tasks) succeeded, want ErrNoRoute (Autotask has only /Projects/{id}/Tasks)")
	}
}

func TestValidate_RejectsMisspeltFieldAndWrongType(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	u, _ := url.Parse("https://x/atservicesrest/v1.0/Tickets")
	h := http.Header{"Apiintegrationcode": {"c"}, "Username": {"u"}, "Secret": {"s"}, "Content-Type": {"application/json"}}
	ok := Exchange{Method: "POST", URL: u, Header: h, Body: []byte(`{"title":"x","status":1,"priority":2,"companyID":5}`),
		Status: 200, RespHeader: http.Header{"Content-Type": {"application/json"}}, RespBody: []byte(`{"itemId":128926}`)}
	if err := s.Validate(context.Background(), ok); err != nil {
		t.Fatalf("valid ticket create refused: %v", err)
	}
	bad := ok
	bad.Body = []byte(`{"titel":"x","status":"1"}`)
	err = s.Validate(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "titel") {
		t.Fatalf("Validate(misspelt field) = %v, want an error naming titel", err)
	}
	badResp := ok
	badResp.RespBody = []byte(`{"itemId":1,"items":[]}`)
	if err := s.Validate(context.Background(), badResp); err == nil {
		t.Fatalf("Validate(answer with unknown property items) = nil, want an error")
	}
}

package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

func TestShadowReport_ListsRecordedWritesAndWaitingStepsPerCustomer(t *testing.T) {
	h := newAPIHarness(t, benchCustomers{})
	h.srv.deps.Shadow = h.store
	ctx := context.Background()
	_, err := h.store.SaveSettings(ctx, json.RawMessage(`{"mode":"shadow"}`), 0, store.Actor{Name: "test"})
	require.NoError(t, err)
	for _, w := range []shadow.Write{
		{CompanyID: 102, Vendor: shadow.VendorAutotask, Operation: "POST Tickets", Target: "Tickets", Payload: json.RawMessage(`{"companyID":102}`)},
		{CompanyID: 101, Vendor: shadow.VendorAcronis, Operation: "POST /api/2/tenants", Target: "tenants", Warnings: []string{"no mapping for service 7"}},
		{CompanyID: 101, Vendor: shadow.VendorAcronis, Operation: "POST /api/2/tenants", Target: "tenants", Warnings: []string{"no mapping for service 7"}},
	} {
		require.NoError(t, h.store.RecordShadowWrite(ctx, w))
	}

	first := decode[ShadowReport](t, h.do("GET", "/api/v1/shadow/report?limit=1", readToken, nil))
	if first.Mode != "shadow" || len(first.Customers) != 1 || first.NextCursor == "" {
		t.Fatalf("first page = %+v, want mode shadow, one customer and a next cursor", first)
	}
	c := first.Customers[0]
	if c.CompanyID != 101 || c.CompanyName != "Company 101" || len(c.Writes) != 1 || c.Writes[0].Operation != "POST /api/2/tenants" ||
		len(c.Writes[0].Warnings) != 1 {
		t.Errorf("customer 101 = %+v, want its one tenant creation (recorded twice, listed once) with the plan's warning", c)
	}
	if len(c.Waiting) != 1 || c.Waiting[0].Action != "disable-tenant" {
		t.Errorf("waiting = %+v, want the pending disable, which shadow mode holds for live mode", c.Waiting)
	}
	second := decode[ShadowReport](t, h.do("GET", "/api/v1/shadow/report?limit=1&cursor="+first.NextCursor, readToken, nil))
	if len(second.Customers) != 1 || second.Customers[0].CompanyID != 102 || second.NextCursor != "" {
		t.Errorf("second page = %+v, want company 102 and no further page", second)
	}

	if p := wantProblem(t, h.do("GET", "/api/v1/shadow/report?cursor=x", readToken, nil), http.StatusBadRequest); len(p.Errors) == 0 || p.Errors[0].Field != "cursor" {
		t.Errorf("malformed cursor problem = %+v, want the field cursor named", p)
	}
	if p := wantProblem(t, h.do("GET", "/api/v1/shadow/report?limit=0", readToken, nil), http.StatusBadRequest); len(p.Errors) == 0 || p.Errors[0].Field != "limit" {
		t.Errorf("limit 0 problem = %+v, want the field limit named", p)
	}
	if r := h.do("GET", "/api/v1/shadow/report", "", nil); r.code != http.StatusUnauthorized {
		t.Errorf("without a token = %d, want 401", r.code)
	}
}

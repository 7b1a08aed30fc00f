package server

import (
	"context"
	"reflect"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

func companyIDs(l CustomerList) []int64 {
	out := []int64{}
	for _, it := range l.Items {
		out = append(out, it.CompanyID)
	}
	return out
}

func mapCompany(t *testing.T, h *apiHarness, companyID int64, tenantID string) {
	t.Helper()
	if _, err := h.store.MapCustomer(context.Background(), store.CustomerMapping{CompanyID: companyID, TenantID: tenantID}, store.Actor{Name: "test"}); err != nil {
		t.Fatalf("map %d: %v", companyID, err)
	}
}

func TestOpenAPI_DocumentsTheCustomerListParameters(t *testing.T) {
	h := newHarness(t)
	op := h.srv.openapi.Paths.Find("/api/v1/customers").Get
	var names []string
	for _, p := range op.Parameters {
		names = append(names, p.Value.In+":"+p.Value.Name)
	}
	if want := []string{"query:filter", "query:mapped", "query:type", "query:q", "query:sort", "query:page", "query:pageSize", "query:suggestions"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("parameters = %v, want %v", names, want)
	}
	if op := h.srv.openapi.Paths.Find("/api/v1/customers/{companyID}/mapping").Put; op.RequestBody == nil || op.Responses.Status(422) == nil {
		t.Fatalf("mapping operation lacks its body or 422 answer: %+v", op)
	}
}

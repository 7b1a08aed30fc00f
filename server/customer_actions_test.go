package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/mocks"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/planner"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	appworker "github.com/acronis-autotask/acronis-autotask/worker"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// withTemporal runs a real Temporal dev server and an in-process worker with
// the customer workflow and its activities built as the binary builds them,
// against the harness's sandboxes and database.
func withTemporal(t testing.TB) *apiHarness {
	t.Helper()
	return withTemporalOn(t, newAPIHarness(t, nil))
}

// withTemporalOn starts a Temporal dev server and the customer workers for h.
func withTemporalOn(t testing.TB, h *apiHarness) *apiHarness {
	t.Helper()
	quiet := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	dev := testenv.StartTemporal(t, client.Options{Logger: quiet}, workflows.SearchAttributes())
	c := dev.Client()
	const queue = "server-test"
	acr := &activities.Acronis{Client: func(ctx context.Context) (activities.AcronisAPI, error) { return h.vendors.Acronis(ctx) }, Store: h.store}
	acts := []any{
		acr,
		&activities.Autotask{Client: func(ctx context.Context) (*autotask.Client, error) { return h.vendors.Autotask(ctx) }},
		&activities.Store{DB: h.store, Catalog: acr.Catalog, Day: 24 * time.Hour},
	}
	for _, w := range appworker.Pools(c, queue, []any{workflows.CustomerWorkflow}, acts) {
		if err := w.Start(); err != nil {
			t.Fatalf("start worker: %v", err)
		}
		t.Cleanup(w.Stop)
	}
	cust := workflows.Customers{Client: c, TaskQueue: queue}
	h.srv.deps.Customers = cust
	h.srv.deps.Plans = &planner.Service{DB: h.store, Decide: activities.Planner{Store: acts[2].(*activities.Store)}, Customers: cust, Items: func(ctx context.Context, ids []string) (map[string][]plan.ItemState, map[string]error, error) {
		return activities.TenantsItems(ctx, acr, ids)
	}, Now: time.Now}
	return h
}

// eventually polls the customer's status until ok holds (at most 20 s).
func eventually(t *testing.T, h *apiHarness, companyID string, what string, ok func(CustomerStatus) bool) CustomerStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := h.do("GET", "/api/v1/customers/"+companyID, readToken, nil)
		if r.code == 200 {
			st := decode[CustomerStatus](t, r)
			if ok(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("customer %s never %s; last status %s", companyID, what, r.body)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("customer %s never %s; last answer %d %s", companyID, what, r.code, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantMessage(t *testing.T, r response, status int, contains string) {
	t.Helper()
	if r.code != status {
		t.Fatalf("status = %d, want %d: %s", r.code, status, r.body)
	}
	if msg := decode[ActionAnswer](t, r).Message; !strings.Contains(msg, contains) {
		t.Fatalf("message %q does not contain %q", msg, contains)
	}
}

func wantRefusal(t *testing.T, r response, status int, contains string) {
	t.Helper()
	if p := wantProblem(t, r, status); !strings.Contains(p.Detail, contains) {
		t.Fatalf("detail %q does not contain %q", p.Detail, contains)
	}
}

// TestCustomerActions_ThroughTemporal drives every customer endpoint against
// a real Temporal server, real workflows and both sandboxes; the steps share
// one server because starting it dominates the cost.
func TestCustomerActions_ThroughTemporal(t *testing.T) {
	h := withTemporal(t)
	r := h.do("PUT", "/api/v1/settings", adminToken, map[string]any{"version": 0, "settings": map[string]any{
		"billingEnabled": true, "deprovisioning": map[string]any{"disable": map[string]any{"enabled": true, "afterDays": 30}}}})
	if r.code != 200 {
		t.Fatalf("PUT settings = %d %s", r.code, r.body)
	}
	fillReadModel(t, h) // the customers list reads the contract sync's copy of the companies

	t.Run("StatusOfACompanyWithoutWorkflowIs404", func(t *testing.T) {
		p := wantProblem(t, h.do("GET", "/api/v1/customers/101", readToken, nil), 404)
		if p.Type != problemTypeBase+"workflow-not-found" {
			t.Fatalf("problem = %+v", p)
		}
		wantProblem(t, h.do("GET", "/api/v1/customers/0x1", readToken, nil), 400)
	})

	t.Run("MapToExistingTenant", func(t *testing.T) {
		wantMessage(t, mapConfirmed(t, h, 107, acsandbox.LitwareID), 200, "mapped to tenant")
		st := eventually(t, h, "107", "shows its tenant", func(s CustomerStatus) bool { return s.TenantID == acsandbox.LitwareID })
		if st.MappedHow != "manual" || st.CompanyID != 107 {
			t.Fatalf("status = %+v", st)
		}
		list := decode[CustomerList](t, h.do("GET", "/api/v1/customers?mapped=mapped", readToken, nil))
		if len(list.Items) != 1 || list.Items[0].CompanyID != 107 || list.Items[0].Mapping.MappedBy != "ops" {
			t.Fatalf("mapped list = %+v", list)
		}
	})

	t.Run("MapToNewTenant", func(t *testing.T) {
		wantMessage(t, h.do("PUT", "/api/v1/customers/106/mapping", adminToken, `{"new": true}`), 200, "new customer tenant will be created")
		st := eventually(t, h, "106", "is provisioned", func(s CustomerStatus) bool { return s.TenantID != "" })
		if tn, ok := h.ac.Tenant(st.TenantID); !ok || tn.Name != "Adventure Works" || st.MappedHow != "automatic" {
			t.Fatalf("provisioned tenant = %+v (status %+v)", tn, st)
		}
	})

	t.Run("RejectionsAndRefusalsCarryTheReason", func(t *testing.T) {
		// Validator: the company is already mapped.
		wantRefusal(t, h.do("PUT", "/api/v1/customers/107/mapping", adminToken, MappingRequest{New: true}), 409, "already mapped")
		// Handler refusals from Acronis: self-service and support access disabled.
		wantRefusal(t, h.do("PUT", "/api/v1/customers/108/mapping", adminToken, MappingRequest{TenantID: acsandbox.ProsewareID}), 422, "self-service")
		wantRefusal(t, h.do("PUT", "/api/v1/customers/110/mapping", adminToken, MappingRequest{TenantID: acsandbox.FourthCoffeeID}), 422, "support access disabled")
		// A tenant Acronis does not know: refused by type (the vendor's 404), never by its text.
		wantRefusal(t, h.do("PUT", "/api/v1/customers/109/mapping", adminToken, MappingRequest{TenantID: "00000000-0000-4000-8000-00000000dead"}), 422, "00000000-0000-4000-8000-00000000dead")
		// The tenant is mapped to another company.
		wantRefusal(t, h.do("PUT", "/api/v1/customers/109/mapping", adminToken, MappingRequest{TenantID: acsandbox.LitwareID}), 409, "company 107")
		// Deprovisioning actions on a company (unmapped, after the refusal) without pending deprovisioning.
		for _, action := range []string{"hold", "release", "deprovision-now"} {
			wantRefusal(t, h.do("POST", "/api/v1/customers/108/"+action, adminToken, nil), 409, "no pending deprovisioning")
		}
	})

	t.Run("BadRequestsNeverReachTemporal", func(t *testing.T) {
		wantFields(t, h.do("PUT", "/api/v1/customers/107/mapping", adminToken, `{}`), "new", "tenantId")
		wantFields(t, h.do("PUT", "/api/v1/customers/107/mapping", adminToken, `{"tenantId":"x","new":true}`), "new", "tenantId")
		wantFields(t, h.do("PUT", "/api/v1/customers/107/mapping", adminToken, `{"tenant":"x"}`), "tenant")
		wantFields(t, h.do("POST", "/api/v1/customers/107/hold", adminToken, `{"why":"x"}`), "why")
		wantFields(t, h.do("PUT", "/api/v1/customers/-3/mapping", adminToken, MappingRequest{New: true}), "companyID")
		wantFields(t, h.do("POST", "/api/v1/customers/abc/sync", adminToken, nil), "companyID")
		for _, path := range []string{"/api/v1/customers/999/mapping", "/api/v1/customers/999/hold", "/api/v1/customers/999/sync"} {
			method, body := "POST", any(nil)
			if strings.HasSuffix(path, "mapping") {
				method, body = "PUT", MappingRequest{New: true}
			}
			if p := wantProblem(t, h.do(method, path, adminToken, body), 404); p.Type != problemTypeBase+"company-not-found" {
				t.Errorf("%s: %+v", path, p)
			}
		}
		if r := h.do("POST", "/api/v1/customers/107/hold", readToken, nil); r.code != 403 {
			t.Fatalf("read-only hold = %d, want 403", r.code)
		}
	})

	t.Run("UnmapThenUnmapAgain", func(t *testing.T) {
		wantMessage(t, h.do("DELETE", "/api/v1/customers/107/mapping", adminToken, ActionBody{Reason: "moving the tenant"}), 200, "mapping to tenant")
		wantRefusal(t, h.do("DELETE", "/api/v1/customers/107/mapping", adminToken, nil), 409, "not mapped")
		list := decode[CustomerList](t, h.do("GET", "/api/v1/customers?mapped=unmapped&q=Litware", readToken, nil))
		if len(list.Items) != 1 || list.Items[0].CompanyID != 107 {
			t.Fatalf("unmapped list after unmap = %+v", list.Items)
		}
	})

	t.Run("HoldReleaseAndDeprovisionNow", func(t *testing.T) {
		// Wide World's contract ended: once mapped, it has no active services.
		wantMessage(t, mapConfirmed(t, h, 105, acsandbox.LitwareID), 200, "mapped")
		st := eventually(t, h, "105", "has a pending deprovisioning step", func(s CustomerStatus) bool { return len(s.Pending) > 0 })
		if st.Pending[0].Action != "disable-tenant" || st.Deprovision == nil || !st.Pending[0].At.After(time.Now().Add(29*24*time.Hour)) {
			t.Fatalf("status = %+v", st)
		}
		wantMessage(t, h.do("POST", "/api/v1/customers/105/hold", adminToken, ActionBody{Reason: "customer is renewing"}), 200, "on hold")
		st = eventually(t, h, "105", "shows the hold", func(s CustomerStatus) bool { return s.Deprovision != nil && s.Deprovision.Hold })
		if !st.Pending[0].Held {
			t.Fatalf("pending after hold = %+v", st.Pending)
		}
		wantMessage(t, h.do("POST", "/api/v1/customers/105/release", adminToken, nil), 200, "resumed")
		wantRefusal(t, h.do("POST", "/api/v1/customers/105/release", adminToken, nil), 409, "not on hold")
		wantMessage(t, h.do("POST", "/api/v1/customers/105/deprovision-now", adminToken, ActionBody{Reason: "contract cancelled"}), 200, "disable-tenant will run now")
		st = eventually(t, h, "105", "is disabled", func(s CustomerStatus) bool { return s.Deprovision != nil && s.Deprovision.Disabled })
		if st.State != "disabled" {
			t.Fatalf("state = %q, want disabled", st.State)
		}
		if tn, _ := h.ac.Tenant(acsandbox.LitwareID); tn.Enabled {
			t.Fatal("the Acronis tenant is still enabled")
		}
	})

	t.Run("SyncNowAndRefresh", func(t *testing.T) {
		r := h.do("POST", "/api/v1/sync", adminToken, nil)
		if r.code != 202 {
			t.Fatalf("sync = %d %s", r.code, r.body)
		}
		r = h.do("POST", "/api/v1/customers/101/sync", adminToken, nil)
		if r.code != 202 {
			t.Fatalf("customer sync = %d %s", r.code, r.body)
		}
		eventually(t, h, "101", "exists", func(CustomerStatus) bool { return true })
	})
}

// TestCustomerActions_TemporalFailuresAreTranslated checks the answers when
// Temporal itself fails, which a healthy dev server cannot show.
func TestCustomerActions_TemporalFailuresAreTranslated(t *testing.T) {
	mc := mocks.NewClient(t)
	h := newAPIHarness(t, workflows.Customers{Client: mc, TaskQueue: "test"})
	mc.On("QueryWorkflow", mock.Anything, workflows.CustomerWorkflowID(101), "", workflows.QueryStatus).
		Return(nil, serviceerror.NewUnavailable("connection refused")).Once()
	if p := wantProblem(t, h.do("GET", "/api/v1/customers/101", readToken, nil), 503); p.Type != problemTypeBase+"temporal-unavailable" {
		t.Fatalf("unavailable: %+v", p)
	}
	mc.On("QueryWorkflow", mock.Anything, workflows.CustomerWorkflowID(102), "", workflows.QueryStatus).
		Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
	wantProblem(t, h.do("GET", "/api/v1/customers/102", readToken, nil), 404)

	mc.On("NewWithStartWorkflowOperation", mock.Anything, mock.Anything, mock.Anything).Return(nil)
	mc.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, errors.New("boom")).Once()
	if p := wantProblem(t, h.do("POST", "/api/v1/customers/101/hold", adminToken, nil), 500); strings.Contains(p.Detail, "boom") {
		t.Fatalf("an internal error leaked its cause: %+v", p)
	}
	mc.On("SignalWithStartWorkflow", mock.Anything, workflows.CustomerWorkflowID(101), workflows.SignalRefresh, nil, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewDeadlineExceeded("slow")).Once()
	wantProblem(t, h.do("POST", "/api/v1/customers/101/sync", adminToken, nil), 503)
}

// mapConfirmed maps a company to a tenant in use as an admin does: the first
// answer is 409 with the plan, the second sends the plan's id back.
func mapConfirmed(t *testing.T, h interface {
	do(method, path, token string, body any, header ...string) response
}, companyID int64, tenantID string) response {
	t.Helper()
	path := fmt.Sprintf("/api/v1/customers/%d/mapping", companyID)
	first := h.do("PUT", path, adminToken, MappingRequest{TenantID: tenantID})
	if first.code == 200 {
		return first // nothing to confirm: billing is off, or the plan writes nothing below usage
	}
	if first.code != 409 {
		t.Fatalf("map %d to %s without a plan = %d %s, want 409 with the plan (the tenant is in use)", companyID, tenantID, first.code, first.body)
	}
	p := decode[Problem](t, first)
	if p.Plan == nil || p.Plan.ID == "" || len(p.Plan.Warnings) == 0 {
		t.Fatalf("409 without a plan with warnings: %s", first.body)
	}
	return h.do("PUT", path, adminToken, MappingRequest{TenantID: tenantID, PlanID: p.Plan.ID})
}

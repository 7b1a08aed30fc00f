package activities

import (
	"context"
	"testing"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

func TestTenantSync_CopiesTenantsProbesSupportAccessAndMarksDeletions(t *testing.T) {
	h := newAcronisHarness(t)
	api, err := h.act.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ts := &TenantSync{Acronis: func(context.Context) (TenantSyncAcronis, error) { return api.(*acronis.Client), nil }, Store: h.st}
	h.env.RegisterActivity(ts)
	run := func(n int64) TenantSyncResult {
		t.Helper()
		var res TenantSyncResult
		if err := h.exec(ts.SyncTenants, n, &res); err != nil {
			t.Fatalf("SyncTenants run %d: %v", n, err)
		}
		return res
	}
	first := run(1)
	if first.Tenants != 6 || first.Deleted != 0 {
		t.Fatalf("first run = %+v, want the 6 demo tenants under the partner", first)
	}
	// Every tenant that is not self-service gets a probe; Proseware is self-service.
	if first.Probed != 5 {
		t.Errorf("probed %d tenants, want 5", first.Probed)
	}
	fc, err := h.st.ReadTenant(context.Background(), acsandbox.FourthCoffeeID)
	if err != nil || fc.SupportAccess == nil || *fc.SupportAccess || fc.Manageable() || fc.ContactEmail != "it@fourthcoffee.example" {
		t.Fatalf("Fourth Coffee = %+v (%v), want support access refused", fc, err)
	}
	lw, err := h.st.ReadTenant(context.Background(), acsandbox.LitwareID)
	if err != nil || !lw.Manageable() || lw.Kind != "customer" || lw.Name != acsandbox.LitwareName {
		t.Fatalf("Litware = %+v (%v)", lw, err)
	}
	// Delete Litware in Acronis: the next complete listing marks it.
	cur, err := api.(*acronis.Client).GetTenant(context.Background(), acsandbox.LitwareID)
	if err != nil {
		t.Fatal(err)
	}
	if cur, err = api.(*acronis.Client).SetTenantEnabled(context.Background(), cur.ID, cur.Version, false); err != nil {
		t.Fatal(err)
	}
	if err := api.(*acronis.Client).DeleteTenant(context.Background(), cur.ID, cur.Version); err != nil {
		t.Fatal(err)
	}
	second := run(2)
	if second.Tenants != 5 || second.Deleted != 1 || second.Probed != 0 {
		t.Fatalf("second run = %+v, want 5 tenants, Litware gone, no probe repeated within a day", second)
	}
	if lw, err := h.st.ReadTenant(context.Background(), acsandbox.LitwareID); err != nil || !lw.Deleted || lw.Manageable() {
		t.Fatalf("Litware after deletion = %+v (%v), want deleted", lw, err)
	}
}

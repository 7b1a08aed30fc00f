package activities

import (
	"context"
	"testing"

	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestSetContractUnits_WritesTheDifferenceOnceAndIsAudited(t *testing.T) {
	h := newSyncHarness(t) // demo Autotask sandbox and a client
	st := testenv.MustOpenDB(t)
	at := &Autotask{Client: h.sync.Autotask, Audit: st}
	h.env.RegisterActivity(at)
	in := SetUnitsInput{CompanyID: 101, ContractID: atsandbox.DemoContractID(101), ServiceID: atsandbox.ServiceWorkstations, Units: 40, Reason: "test"}
	for i, want := range []int64{15, 0} { // 25 → 40, then nothing left to write
		v, err := h.env.ExecuteActivity(at.SetContractUnits, in)
		if err != nil {
			t.Fatal(err)
		}
		var res SetUnitsResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		if res.UnitChange != want {
			t.Fatalf("call %d: unit change %d, want %d", i+1, res.UnitChange, want)
		}
	}
	if got, _ := h.sb.CurrentUnits(atsandbox.DemoContractID(101), atsandbox.ServiceWorkstations); got != 40 {
		t.Fatalf("Autotask units = %d, want 40", got)
	}
	page, err := st.ListAudit(context.Background(), store.AuditFilter{KindPrefix: "autotask.contract_service"})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("audit entries = %d (%v), want 1", len(page.Entries), err)
	}
}

package activities

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// Litware (107) has a prepaid contract (2107) of 12 workstations.
var prepaidLitware = UsageCustomer{CompanyID: 107, TenantID: acsandbox.LitwareID}

// withWorkstationOverage adds an Autotask overage service, puts it on
// Litware's prepaid contract with 0 units, and maps workstations with it.
func (h *usageHarness) withWorkstationOverage() int64 {
	h.t.Helper()
	id := h.withWorkstationOverageOffContract()
	if err := h.at.AddServiceUnits(atsandbox.DemoContractID(prepaidLitware.CompanyID), id, 0); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// withWorkstationOverageOffContract is withWorkstationOverage with the
// overage service left off Litware's contract.
func (h *usageHarness) withWorkstationOverageOffContract() int64 {
	h.t.Helper()
	id, err := h.at.AddService(autotask.Service{Name: "Acronis Workstations overage", BillingCodeID: int(atsandbox.BillingCodeAcronis),
		PeriodType: 1, UnitPrice: autotask.Ptr(12.5), IsActive: autotask.Ptr(true)}) // 1: Monthly
	if err != nil {
		h.t.Fatal(err)
	}
	ws := atsandbox.ServiceWorkstations
	if _, err := h.db.UpsertServiceMapping(context.Background(), store.ServiceMapping{ApplicationID: acsandbox.CyberProtectionAppID,
		OfferingItem: "pw_base_workstations", ServiceID: &ws, ServiceName: "Workstations", RawUnit: "quantity", BilledUnit: "unit",
		Divisor: "1", Rounding: store.RoundUp, OverageServiceID: &id}, store.Actor{Name: "test"}); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// settleOverage settles p from its billing report as the workflow does
// (collect with Overage, then write); the write's error is returned.
func (h *usageHarness) settleOverage(p usage.Period, prev usage.Setting) (UsageCustomerResult, error) {
	h.t.Helper()
	st := h.savedReport(p)
	ref := st.Ref
	out := h.collect(UsageBatchInput{Period: p, EffectiveDate: usage.EffectiveDate(prev, p, h.clock.Now()), Customers: []UsageCustomer{prepaidLitware},
		Storage: []settings.StorageReport{settings.StorageClass2Billed}, ObservedAt: h.clock.Now(), Report: &ref, Overage: true})
	r := out.Customers[0]
	if r.Error != "" {
		h.t.Fatalf("collect %s: %s", p, r.Error)
	}
	_, err := h.report(nil, r.Pending)
	return r, err
}

// TestUsage_PrepaidOverageIsWrittenIntoTheContractOnce: Litware's 12 prepaid
// workstations with overage. October (10 used) writes nothing; November (15
// used, from its billing report) writes 3 units of the overage service into
// contract 2107 once, although the first write's ledger update fails and the
// period is settled again; live estimates never bill overage; December (10
// used) brings the overage service back to 0.
func TestUsage_PrepaidOverageIsWrittenIntoTheContractOnce(t *testing.T) {
	h := newUsageHarness(t)
	overageID := h.withWorkstationOverage()
	contract := atsandbox.DemoContractID(prepaidLitware.CompanyID)
	prev := usage.Setting{Period: settings.PeriodPreviousMonth}
	month := func(y int, m time.Month) usage.Period {
		s := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return usage.Period{Start: s, End: s.AddDate(0, 1, 0)}
	}
	overageUnits := func() int {
		t.Helper()
		n, ok := h.at.CurrentUnits(contract, overageID)
		if !ok {
			t.Fatalf("contract %d has no service %d", contract, overageID)
		}
		return n
	}
	adjustments := h.at.Count("ContractServiceAdjustments")

	// October: 10 of 12 used.
	h.clock.Set(time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 10, 20)
	if r, err := h.settleOverage(month(2026, 10), prev); err != nil || len(r.Pending) != 0 || r.Recorded != 0 {
		t.Fatalf("October = %+v, %v; want nothing recorded or written", r, err)
	}
	if n := h.at.Count("ContractServiceAdjustments"); n != adjustments {
		t.Fatalf("October wrote %d adjustments; want none", n-adjustments)
	}

	// Live estimates of the current month never bill overage.
	h.clock.Set(time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 15, 20)
	nov := month(2026, 11)
	est := h.collect(UsageBatchInput{Period: nov, EffectiveDate: h.clock.Now().Truncate(24 * time.Hour), Customers: []UsageCustomer{prepaidLitware},
		ObservedAt: h.clock.Now(), Estimate: true, Overage: true})
	if r := est.Customers[0]; len(r.Pending) != 0 {
		t.Fatalf("live estimate = %+v; want no overage row", r)
	}

	// November: 15 used; the Autotask write succeeds but recording it fails.
	h.clock.Set(time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC))
	h.marks.fails = 1
	r, err := h.settleOverage(nov, prev)
	if err == nil || len(r.Pending) != 1 || r.Pending[0].ServiceID != overageID || r.Pending[0].Billed != 3 {
		t.Fatalf("November = %+v, %v; want one overage row of 3 whose write failed after Autotask took it", r, err)
	}
	if got := overageUnits(); got != 3 {
		t.Fatalf("overage units = %d; want 3", got)
	}
	// The retry (a new worker, no heartbeat) and a second settling find the units in effect.
	for i := range 2 {
		if _, err := h.settleOverage(nov, prev); err != nil {
			t.Fatalf("settling again (%d): %v", i, err)
		}
	}
	if n := h.at.Count("ContractServiceAdjustments") - adjustments; n != 1 || overageUnits() != 3 {
		t.Fatalf("%d adjustments, %d overage units; want exactly one adjustment of 3", n, overageUnits())
	}
	row := h.current(r.Pending[0].ContractServiceID, usage.OveragePrefix+"pw_base_workstations", nov)
	src := decodeSource(t, row)
	if row.BilledValue != "3" || row.RawValue != "3" || row.Revision != 1 || row.Estimate || src.Kind != usage.SourceReport ||
		!strings.Contains(row.Rounding, "overage: usage 15 quantity − prepaid 12 units (contract 2107) = 3 quantity") {
		t.Fatalf("ledger row = billed %s raw %s rev %d estimate %v source %+v rounding %q", row.BilledValue, row.RawValue, row.Revision, row.Estimate, src, row.Rounding)
	}
	if ws, _ := h.at.CurrentUnits(contract, atsandbox.ServiceWorkstations); ws != 12 {
		t.Fatalf("prepaid workstations = %d; want 12, untouched", ws)
	}

	// December: back under the units; the overage level returns to 0.
	h.clock.Set(time.Date(2027, 1, 2, 7, 0, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 10, 20)
	if _, err := h.settleOverage(month(2026, 12), prev); err != nil {
		t.Fatal(err)
	}
	if got := overageUnits(); got != 0 {
		t.Fatalf("overage units after December = %d; want 0", got)
	}
	if row := h.current(r.Pending[0].ContractServiceID, usage.OveragePrefix+"pw_base_workstations", nov); row.BilledValue != "3" {
		t.Fatalf("November's row = %s after December; want it kept at 3", row.BilledValue)
	}
}

// TestUsage_OverageServiceIsAddedToTheContractOnce: the overage service is
// not on Litware's prepaid contract; settling November (15 of 12 used) adds
// it once, at its own price, audited, and writes the 3 units into it; settling
// again adds nothing more.
func TestUsage_OverageServiceIsAddedToTheContractOnce(t *testing.T) {
	h := newUsageHarness(t)
	overageID := h.withWorkstationOverageOffContract()
	contract := atsandbox.DemoContractID(prepaidLitware.CompanyID)
	prev := usage.Setting{Period: settings.PeriodPreviousMonth}
	nov := usage.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	h.clock.Set(time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC))
	h.setUsage(acsandbox.LitwareID, 15, 20)
	services := h.at.Count("ContractServices")
	for i := range 2 {
		r, err := h.settleOverage(nov, prev)
		if err != nil || len(r.Problems) != 0 {
			t.Fatalf("settle %d = %+v, %v", i, r, err)
		}
	}
	if n := h.at.Count("ContractServices") - services; n != 1 {
		t.Fatalf("%d contract services added; want exactly one", n)
	}
	if got, ok := h.at.CurrentUnits(contract, overageID); !ok || got != 3 {
		t.Fatalf("overage units = %d (on contract: %v); want 3", got, ok)
	}
	page, err := h.db.ListAudit(context.Background(), store.AuditFilter{KindPrefix: auditContractServiceAdd})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].ContractID == nil || *page.Entries[0].ContractID != contract {
		t.Fatalf("audit = %+v, %v; want one entry for contract %d", page.Entries, err, contract)
	}
}

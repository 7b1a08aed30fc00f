package store_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestStats_EmptyDatabaseIsAllZero(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	got, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Stats{ByState: map[string]int64{}, Cursors: map[string]time.Time{}, ByHealth: map[string]int64{}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stats = %+v, want %+v", got, want)
	}
}

func TestStats_CountsCustomersTicketsUsageAndLastSyncTimes(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	observed := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for i, id := range []int64{101, 102, 103} {
		if err := st.SaveSnapshotFingerprint(ctx, id, "fp", nil, observed.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []store.CustomerMapping{
		{CompanyID: 101, TenantID: "t1"},
		{CompanyID: 102, TenantID: "t2", How: store.MappedAutomatically},
		{CompanyID: 103, TenantID: "t3", How: store.MappedAutomatically},
	} {
		if _, err := st.MapCustomer(ctx, m, admin); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetCustomerState(ctx, 102, "deprovisioning", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCustomerState(ctx, 103, "error", "apply quotas: Acronis refused"); err != nil {
		t.Fatal(err)
	}
	open, err := st.OpenAlertTicket(ctx, store.AlertTicket{AlertID: "a1", CompanyID: 101, AlertType: "BackupFailed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpenAlertTicket(ctx, store.AlertTicket{AlertID: "a2", CompanyID: 101, AlertType: "BackupFailed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CloseAlertTicket(ctx, open.ID, observed); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordUsage(ctx, usage(7, "1", "1")); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCursor(ctx, "autotask.contracts", json.RawMessage(`{"since":"x"}`)); err != nil {
		t.Fatal(err)
	}
	run := time.Now()
	if err := st.AppendAudit(ctx, store.AuditEntry{Actor: "usage-report", Kind: store.AuditKindUsageRun, System: "admin"}); err != nil {
		t.Fatal(err)
	}

	got, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.CompaniesWithContracts != 3 || got.Mapped != 3 || got.ProvisionedAutomatically != 2 || got.WithError != 1 {
		t.Errorf("customers = %d with contracts, %d mapped, %d automatic, %d with error; want 3 3 2 1",
			got.CompaniesWithContracts, got.Mapped, got.ProvisionedAutomatically, got.WithError)
	}
	if want := map[string]int64{"mapped": 1, "deprovisioning": 1, "error": 1}; !reflect.DeepEqual(got.ByState, want) {
		t.Errorf("by state = %v, want %v", got.ByState, want)
	}
	if got.TicketsCreated != 2 || got.TicketsOpen != 1 || got.TicketsClosed != 1 {
		t.Errorf("tickets = %d created %d open %d closed, want 2 1 1", got.TicketsCreated, got.TicketsOpen, got.TicketsClosed)
	}
	if got.UsagePending != 1 {
		t.Errorf("usage pending = %d, want 1", got.UsagePending)
	}
	if want := observed.Add(2 * time.Hour); !got.LastContractSync.Equal(want) {
		t.Errorf("last contract sync = %v, want %v", got.LastContractSync, want)
	}
	if d := got.LastUsageReport.Sub(run); d < -time.Minute || d > time.Minute {
		t.Errorf("last usage report = %v, want about %v", got.LastUsageReport, run)
	}
	if at, ok := got.Cursors["autotask.contracts"]; !ok || at.IsZero() {
		t.Errorf("cursors = %v, want autotask.contracts", got.Cursors)
	}
	if got.LastCustomerUpdate.IsZero() {
		t.Error("last customer update is zero")
	}
}

func TestSearchUsage_SelectsSeveralContractServicesAndHistoryFollowsCorrections(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	first, err := st.RecordUsage(ctx, usage(7, "1073741824", "1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := st.CorrectUsage(ctx, usage(7, "1610612736", "2"), "usage grew")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordUsage(ctx, usage(8, "5", "1")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordUsage(ctx, usage(9, "5", "1")); err != nil {
		t.Fatal(err)
	}
	rows, err := st.SearchUsage(ctx, store.UsageQuery{ContractServiceIDs: []int64{7, 8}})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range rows {
		got = append(got, r.ContractServiceID)
	}
	if want := []int64{7, 7, 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("contract services = %v, want %v", got, want)
	}
	if rows, _ := st.SearchUsage(ctx, store.UsageQuery{ContractServiceIDs: []int64{}}); len(rows) != 0 {
		t.Errorf("empty id list = %d rows, want none", len(rows))
	}
	if rows, _ := st.SearchUsage(ctx, store.UsageQuery{State: store.UsageSuperseded}); len(rows) != 1 || rows[0].ID != first.ID {
		t.Errorf("superseded rows = %+v, want only %d", rows, first.ID)
	}

	for _, id := range []int64{first.ID, second.ID} {
		hist, err := st.UsageHistory(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].ID != first.ID || hist[1].ID != second.ID || hist[1].Reason != "usage grew" {
			t.Errorf("history of %d = %+v, want revisions %d then %d", id, hist, first.ID, second.ID)
		}
	}
	if _, err := st.UsageHistory(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("history of a missing row: %v, want ErrNotFound", err)
	}
}

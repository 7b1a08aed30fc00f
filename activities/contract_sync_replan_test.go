package activities

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

func TestContractSync_SavedSettingsTellEveryKnownCustomerToReplanOnce(t *testing.T) {
	h := newSyncHarness(t)
	h.run(0)
	h.notes.take()
	if got := h.notes.replans; len(got) != 0 {
		t.Fatalf("first run signalled re-plans to %v; its snapshots already carry the configuration", got)
	}
	h.run(time.Minute)
	if got := h.notes.replans; len(got) != 0 {
		t.Fatalf("an unchanged configuration signalled re-plans to %v", got)
	}

	db := h.sync.Store.(*store.Store)
	if _, err := db.SaveSettings(context.Background(), json.RawMessage(`{"billingEnabled":true}`), 0, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	res := h.run(time.Minute)
	want := []int64{101, 102, 103, 104, 105, 107, 108, 109, 110} // every company the sync delivered a snapshot of
	got := slices.Clone(h.notes.replans)
	slices.Sort(got)
	if !slices.Equal(got, want) || res.Replanned != len(want) {
		t.Fatalf("re-planned %v (count %d), want %v", got, res.Replanned, want)
	}
	if len(h.notes.take()) != 0 {
		t.Error("a configuration change re-read companies from Autotask; the stored snapshots suffice")
	}

	h.notes.replans = nil
	h.run(time.Minute)
	if len(h.notes.replans) != 0 {
		t.Errorf("the same configuration was signalled again: %v", h.notes.replans)
	}
}

package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestUnitRows_SaveCompareAndRemoveUnseen(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	a := store.UnitRow{ID: 1, ContractID: 10, ItemID: 301, Units: 25, Start: start, End: start.AddDate(2, 0, 0)}
	b := store.UnitRow{ID: 2, ContractID: 11, ItemID: 302, Units: 3, Start: start, End: start.AddDate(2, 0, 0)}
	require.NoError(t, st.SaveUnitRows(ctx, store.UnitRowService, []store.UnitRow{a, b}, 1))

	got, err := st.UnitRows(ctx, store.UnitRowService, []int64{1, 2, 3})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.True(t, got[1].Same(a), "stored row 1 = %+v, want %+v", got[1], a)
	changed := a
	changed.Units = 30
	assert.False(t, got[1].Same(changed), "a unit change must be seen")

	bundles, err := st.UnitRows(ctx, store.UnitRowBundle, []int64{1})
	require.NoError(t, err)
	assert.Empty(t, bundles, "kinds are separate")

	// Cycle 2 sees only row 1: row 2 is gone and is returned for re-reading.
	require.NoError(t, st.SaveUnitRows(ctx, store.UnitRowService, []store.UnitRow{changed}, 2))
	gone, err := st.RemoveUnseenUnitRows(ctx, store.UnitRowService, 2)
	require.NoError(t, err)
	require.Len(t, gone, 1)
	assert.Equal(t, int64(11), gone[0].ContractID)
	got, err = st.UnitRows(ctx, store.UnitRowService, []int64{1, 2})
	require.NoError(t, err)
	assert.Len(t, got, 1)
	assert.Equal(t, int64(30), got[1].Units)
}

func TestSnapshotFingerprints_Upsert(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	now := time.Now().UTC()
	require.NoError(t, st.SaveSnapshotFingerprint(ctx, 101, "aaa", json.RawMessage(`[{"id":1}]`), now))
	require.NoError(t, st.SaveSnapshotFingerprint(ctx, 101, "bbb", json.RawMessage(`[{"id":2}]`), now))
	require.NoError(t, st.SaveSnapshotFingerprint(ctx, 102, "ccc", nil, now))
	got, err := st.SnapshotFingerprints(ctx, []int64{101, 102, 103})
	require.NoError(t, err)
	assert.Equal(t, map[int64]string{101: "bbb", 102: "ccc"}, got)

	contracts, err := st.CompanyContracts(ctx, 101)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"id":2}]`, string(contracts), "the newest snapshot's contracts")
	_, err = st.CompanyContracts(ctx, 102)
	assert.ErrorIs(t, err, store.ErrNotFound, "a snapshot saved without contracts")
	_, err = st.CompanyContracts(ctx, 103)
	assert.ErrorIs(t, err, store.ErrNotFound, "a company the sync never saw")
}

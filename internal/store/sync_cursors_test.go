package store_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestCursor_SetAndGet(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	_, err := st.Cursor(ctx, "autotask.contracts")
	assert.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, st.SetCursor(ctx, "autotask.contracts", json.RawMessage(`{"since": "2026-11-01T00:00:00Z", "maxId": 10}`)))
	require.NoError(t, st.SetCursor(ctx, "autotask.contracts", json.RawMessage(`{"since": "2026-11-02T00:00:00Z", "maxId": 12}`)))
	got, err := st.Cursor(ctx, "autotask.contracts")
	require.NoError(t, err)
	assert.Equal(t, "autotask.contracts", got.Name)
	assert.JSONEq(t, `{"since": "2026-11-02T00:00:00Z", "maxId": 12}`, string(got.Value))
	assert.False(t, got.UpdatedAt.IsZero())

	assert.ErrorIs(t, st.SetCursor(ctx, "x", json.RawMessage(`{`)), store.ErrInvalid)
	assert.ErrorIs(t, st.SetCursor(ctx, "", json.RawMessage(`1`)), store.ErrInvalid)
}

func TestSwapCursor_OnlyFromTheExpectedValue(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	require.NoError(t, st.SwapCursor(ctx, "acronis.alerts", nil, json.RawMessage(`"page-1"`)), "create")
	assert.ErrorIs(t, st.SwapCursor(ctx, "acronis.alerts", nil, json.RawMessage(`"page-x"`)), store.ErrConflict, "create again")
	assert.ErrorIs(t, st.SwapCursor(ctx, "acronis.alerts", json.RawMessage(`"page-0"`), json.RawMessage(`"page-x"`)),
		store.ErrConflict, "stale expected value")
	require.NoError(t, st.SwapCursor(ctx, "acronis.alerts", json.RawMessage(`"page-1"`), json.RawMessage(`{"a": 1, "b": 2}`)))
	// JSON equality, not text equality.
	require.NoError(t, st.SwapCursor(ctx, "acronis.alerts", json.RawMessage(`{"b":2,"a":1}`), json.RawMessage(`"page-3"`)))
	assert.ErrorIs(t, st.SwapCursor(ctx, "missing", json.RawMessage(`1`), json.RawMessage(`2`)), store.ErrConflict)

	got, err := st.Cursor(ctx, "acronis.alerts")
	require.NoError(t, err)
	assert.JSONEq(t, `"page-3"`, string(got.Value))
}

package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestUnverified_SaveReplacesAndRecheckClears(t *testing.T) {
	st := testenv.MustOpenDB(t)
	ctx := context.Background()
	src := store.UnverifiedValue{Field: "tickets.sourceId", Value: "4", Message: "Autotask could not be reached"}
	_, err := st.SaveCheckedSettings(ctx, json.RawMessage(`{"tickets": {"sourceId": 4}}`), 0, admin, []store.UnverifiedValue{src})
	require.NoError(t, err)
	got, err := st.ListUnverified(ctx, store.ScopeSettings)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, store.StateUnverified, got[0].State)

	// A check of an older value changes nothing; a check of the saved value removes it.
	old := got[0]
	old.Value = "3"
	require.NoError(t, st.Rechecked(ctx, old, true))
	got, _ = st.ListUnverified(ctx, store.ScopeSettings)
	require.Len(t, got, 1)
	require.NoError(t, st.Rechecked(ctx, got[0], true))
	got, _ = st.ListUnverified(ctx, store.ScopeSettings)
	require.Empty(t, got)

	// A failed save (stale version) keeps the rows as they were.
	_, err = st.SaveCheckedSettings(ctx, json.RawMessage(`{}`), 0, admin, []store.UnverifiedValue{src})
	require.ErrorIs(t, err, store.ErrConflict)
	got, _ = st.ListUnverified(ctx, store.ScopeSettings)
	require.Empty(t, got)

	// Alert mappings replace the rows of the listed types only.
	_, err = st.ReplaceCheckedAlertMappings(ctx, []store.AlertMapping{{AlertType: "A"}, {AlertType: "B"}}, admin, []store.UnverifiedValue{
		{Key: "A", Field: "priority", Value: "1"}, {Key: "B", Field: "queueId", Value: "8"}})
	require.NoError(t, err)
	_, err = st.ReplaceCheckedAlertMappings(ctx, []store.AlertMapping{{AlertType: "A"}}, admin, nil)
	require.NoError(t, err)
	got, _ = st.ListUnverified(ctx, store.ScopeAlertMappings)
	require.Len(t, got, 1)
	require.Equal(t, "B", got[0].Key)
}

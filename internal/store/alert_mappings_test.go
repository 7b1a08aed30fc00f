package store_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestUpsertAlertMapping_CreatesReplacesAndLists(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	m := store.AlertMapping{AlertType: "BackupFailed", CreateTicket: true, Priority: ptr(int64(2)),
		Status: ptr(int64(1)), QueueID: ptr(int64(29683482)), IssueType: ptr(int64(3)), SubIssueType: ptr(int64(4))}
	got, err := st.UpsertAlertMapping(ctx, m, admin)
	require.NoError(t, err)
	assert.Equal(t, m.QueueID, got.QueueID)
	assert.Nil(t, got.TicketType)

	m.CreateTicket, m.Priority = false, nil
	_, err = st.UpsertAlertMapping(ctx, m, admin)
	require.NoError(t, err)
	got, err = st.AlertMapping(ctx, "BackupFailed")
	require.NoError(t, err)
	assert.False(t, got.CreateTicket)
	assert.Nil(t, got.Priority)

	_, err = st.UpsertAlertMapping(ctx, store.AlertMapping{AlertType: "AgentOffline"}, admin)
	require.NoError(t, err)
	list, err := st.ListAlertMappings(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"AgentOffline", "BackupFailed"}, []string{list[0].AlertType, list[1].AlertType})

	_, err = st.AlertMapping(ctx, "Unknown")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.UpsertAlertMapping(ctx, store.AlertMapping{AlertType: "X", SubIssueType: ptr(int64(1))}, admin)
	assert.ErrorIs(t, err, store.ErrInvalid, "a sub-issue type needs an issue type")
	assert.Equal(t, 3, countRows(t, st, "audit_log"), "audit rows")
}

func TestEnsureAlertMapping_AddsDefaultOnceNeverOverwrites(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	def := store.AlertMapping{CreateTicket: true, Priority: ptr(int64(3))}

	const callers = 5
	created := make([]bool, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, c, err := st.EnsureAlertMapping(ctx, "NewAlertType", def)
			assert.NoError(t, err)
			assert.True(t, m.IsDefault)
			created[i] = c
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range created {
		if c {
			n++
		}
	}
	assert.Equal(t, 1, n, "callers that created it")

	// An admin edit is never overwritten by a later default.
	_, err := st.UpsertAlertMapping(ctx, store.AlertMapping{AlertType: "NewAlertType", CreateTicket: false}, admin)
	require.NoError(t, err)
	m, c, err := st.EnsureAlertMapping(ctx, "NewAlertType", def)
	require.NoError(t, err)
	assert.False(t, c)
	assert.False(t, m.IsDefault)
	assert.False(t, m.CreateTicket)
}

func TestReplaceAlertMappings_IsAllOrNothing(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	_, err := st.ReplaceAlertMappings(ctx, []store.AlertMapping{{AlertType: "BackupFailed", CreateTicket: true}}, admin)
	require.NoError(t, err)
	// A NUL byte is refused by PostgreSQL only after the first row is written.
	_, err = st.ReplaceAlertMappings(ctx, []store.AlertMapping{{AlertType: "BackupFailed"}, {AlertType: "Bad\x00Type"}}, admin)
	require.ErrorIs(t, err, store.ErrInvalid)
	got, err := st.AlertMapping(ctx, "BackupFailed")
	require.NoError(t, err)
	assert.True(t, got.CreateTicket, "the first mapping was changed by a failed replace")
	all, err := st.ListAlertMappings(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 1)
}

package store_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestCurrentSettings_NotFoundBeforeFirstSave(t *testing.T) {
	st := testenv.MustOpenDB(t)
	_, err := st.CurrentSettings(testContext(t))
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestSaveSettings_AppendsVersionsAndAudits(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)

	v1, err := st.SaveSettings(ctx, json.RawMessage(`{"billingEnabled": false}`), 0, admin)
	require.NoError(t, err)
	assert.Equal(t, int64(1), v1.Version)
	assert.Equal(t, admin.Name, v1.UpdatedBy)
	assert.False(t, v1.UpdatedAt.IsZero(), "updated_at set")

	v2, err := st.SaveSettings(ctx, json.RawMessage(`{"billingEnabled": true}`), 1, admin)
	require.NoError(t, err)
	assert.Equal(t, int64(2), v2.Version)

	cur, err := st.CurrentSettings(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), cur.Version)
	assert.JSONEq(t, `{"billingEnabled": true}`, string(cur.Document))

	hist, err := st.SettingsHistory(ctx, 10)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, []int64{2, 1}, []int64{hist[0].Version, hist[1].Version}, "newest first")

	page, err := st.ListAudit(ctx, store.AuditFilter{KindPrefix: store.KindSettingsUpdate})
	require.NoError(t, err)
	require.Len(t, page.Entries, 2)
	last := page.Entries[0]
	assert.Equal(t, admin.Name, last.Actor)
	assert.Equal(t, admin.RequestID, last.RequestID)
	assert.Equal(t, admin.Reason, last.Reason)
	assert.Equal(t, store.SystemAdmin, last.System)
	assert.JSONEq(t, `{"billingEnabled": false}`, string(last.Before))
	assert.JSONEq(t, `{"billingEnabled": true}`, string(last.After))
	assert.Nil(t, page.Entries[1].Before, "first save has no before document")
}

func TestSaveSettings_StaleVersionConflictsAndWritesNothing(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	_, err := st.SaveSettings(ctx, json.RawMessage(`{"a": 1}`), 0, admin)
	require.NoError(t, err)

	for _, expected := range []int64{0, 2, 7} {
		_, err := st.SaveSettings(ctx, json.RawMessage(`{"a": 2}`), expected, admin)
		assert.ErrorIs(t, err, store.ErrConflict, "expected version %d", expected)
	}
	cur, err := st.CurrentSettings(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), cur.Version)
	assert.JSONEq(t, `{"a": 1}`, string(cur.Document))
	assert.Equal(t, 1, countRows(t, st, "settings_versions"), "settings rows")
	assert.Equal(t, 1, countRows(t, st, "audit_log"), "audit rows")
}

func TestSaveSettings_RejectedDocumentWritesNoAuditRow(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	_, err := st.SaveSettings(ctx, json.RawMessage(`[1, 2]`), 0, admin)
	assert.ErrorIs(t, err, store.ErrInvalid, "a JSON array is not a settings document")
	_, err = st.SaveSettings(ctx, json.RawMessage(`{"a": 1}`), 0, store.Actor{})
	assert.ErrorIs(t, err, store.ErrInvalid, "an anonymous save")
	_, err = st.SaveSettings(ctx, json.RawMessage(`{not json`), 0, admin)
	assert.ErrorIs(t, err, store.ErrInvalid, "malformed JSON")

	assert.Equal(t, 0, countRows(t, st, "settings_versions"), "settings rows")
	assert.Equal(t, 0, countRows(t, st, "audit_log"), "audit rows")
}

func TestSaveSettings_FailedAuditRollsBackTheSave(t *testing.T) {
	ctx := testContext(t)
	// A database of its own, whose audit log refuses one reason: the settings
	// row is written first, so only a shared transaction can undo it.
	u := testenv.NewTestDatabase(t)
	st, err := store.Open(ctx, u, testenv.Keyring(t))
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Pool().Exec(ctx, `ALTER TABLE audit_log ADD CONSTRAINT test_refuse CHECK (reason <> 'refused')`)
	require.NoError(t, err)

	refused := admin
	refused.Reason = "refused"
	_, err = st.SaveSettings(ctx, json.RawMessage(`{"a": 1}`), 0, refused)
	require.ErrorIs(t, err, store.ErrInvalid)

	_, err = st.CurrentSettings(ctx)
	assert.ErrorIs(t, err, store.ErrNotFound, "settings after a save whose audit row failed")
	assert.Equal(t, 0, countRows(t, st, "settings_versions"), "settings rows")

	_, err = st.SaveSettings(ctx, json.RawMessage(`{"a": 1}`), 0, admin)
	require.NoError(t, err, "the same save with an accepted audit row")
}

func TestSaveSettings_ConcurrentSavesOfSameVersionOneWins(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	_, err := st.SaveSettings(ctx, json.RawMessage(`{"n": 0}`), 0, admin)
	require.NoError(t, err)

	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = st.SaveSettings(ctx, json.RawMessage(`{"n": 1}`), 1, admin)
		}()
	}
	close(start)
	wg.Wait()

	wins := 0
	for i, err := range errs {
		if err == nil {
			wins++
			continue
		}
		assert.ErrorIs(t, err, store.ErrConflict, "writer %d", i)
	}
	assert.Equal(t, 1, wins, "winners")
	assert.Equal(t, 2, countRows(t, st, "settings_versions"), "settings rows")
	assert.Equal(t, 2, countRows(t, st, "audit_log"), "audit rows: one per successful save")
}

func TestSettingsVersions_AreAppendOnly(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	_, err := st.SaveSettings(ctx, json.RawMessage(`{"a": 1}`), 0, admin)
	require.NoError(t, err)
	_, err = st.Pool().Exec(ctx, `UPDATE settings_versions SET document = '{}'`)
	assert.Error(t, err, "update of a saved version")
	_, err = st.Pool().Exec(ctx, `DELETE FROM audit_log`)
	assert.Error(t, err, "delete from the audit log")
}

package store_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

var (
	octStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	novStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// usage is October's storage usage of a contract service.
func usage(contractServiceID int64, raw, billed string) store.UsageRecord {
	return store.UsageRecord{
		ContractServiceID: contractServiceID,
		PeriodStart:       octStart,
		PeriodEnd:         novStart,
		Metric:            "class2_billed",
		RawValue:          raw,
		RawUnit:           "bytes",
		BilledValue:       billed,
		BilledUnit:        "GB",
		Rounding:          "bytes/2^30, up",
		Samples:           json.RawMessage(`[{"value": 1}]`),
	}
}

func TestRecordUsage_SameValuesTwiceKeepsOneRow(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	first, err := st.RecordUsage(ctx, usage(7, "1610612736", "2"))
	require.NoError(t, err)
	assert.Equal(t, 1, first.Revision)
	assert.Equal(t, store.UsagePending, first.State)
	assert.Equal(t, "1610612736", first.RawValue)
	assert.Equal(t, "2", first.BilledValue)
	assert.Nil(t, first.Supersedes)

	// The same numbers written differently are the same value.
	again, err := st.RecordUsage(ctx, usage(7, "1610612736.0", "2.00"))
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID, "the existing row is returned")
	assert.Equal(t, 1, countRows(t, st, "usage_ledger"), "ledger rows")
}

func TestRecordUsage_DifferentValueConflicts(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	_, err := st.RecordUsage(ctx, usage(7, "1073741824", "1"))
	require.NoError(t, err)
	_, err = st.RecordUsage(ctx, usage(7, "2147483648", "2"))
	assert.ErrorIs(t, err, store.ErrConflict)
	assert.Equal(t, 1, countRows(t, st, "usage_ledger"), "ledger rows")

	// Other periods, services and metrics are other keys.
	other := usage(7, "5", "1")
	other.PeriodStart, other.PeriodEnd = novStart, novStart.AddDate(0, 1, 0)
	_, err = st.RecordUsage(ctx, other)
	require.NoError(t, err)
	_, err = st.RecordUsage(ctx, usage(8, "5", "1"))
	require.NoError(t, err)
	m := usage(7, "5", "1")
	m.Metric = "class1_free"
	_, err = st.RecordUsage(ctx, m)
	require.NoError(t, err)
	assert.Equal(t, 4, countRows(t, st, "usage_ledger"), "ledger rows")
}

func TestCorrectUsage_NewRevisionSupersedesTheOld(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	orig, err := st.RecordUsage(ctx, usage(7, "1073741824", "1"))
	require.NoError(t, err)
	_, err = st.MarkReported(ctx, orig.ID, 9001)
	require.NoError(t, err)

	_, err = st.CorrectUsage(ctx, usage(7, "3221225472", "3"), "")
	assert.ErrorIs(t, err, store.ErrInvalid, "a correction without a reason")

	fixed, err := st.CorrectUsage(ctx, usage(7, "3221225472", "3"), "Acronis re-counted storage")
	require.NoError(t, err)
	assert.Equal(t, 2, fixed.Revision)
	assert.Equal(t, store.UsagePending, fixed.State)
	assert.Equal(t, "Acronis re-counted storage", fixed.Reason)
	require.NotNil(t, fixed.Supersedes)
	assert.Equal(t, orig.ID, *fixed.Supersedes)

	old, err := st.GetUsage(ctx, orig.ID)
	require.NoError(t, err)
	assert.Equal(t, store.UsageSuperseded, old.State)
	require.NotNil(t, old.AdjustmentID, "a superseded row keeps its adjustment")
	assert.Equal(t, int64(9001), *old.AdjustmentID)

	// The same correction again changes nothing.
	again, err := st.CorrectUsage(ctx, usage(7, "3221225472", "3"), "Acronis re-counted storage")
	require.NoError(t, err)
	assert.Equal(t, fixed.ID, again.ID)
	// Recording the corrected value is idempotent; the original one conflicts.
	_, err = st.RecordUsage(ctx, usage(7, "3221225472", "3"))
	require.NoError(t, err)
	_, err = st.RecordUsage(ctx, usage(7, "1073741824", "1"))
	assert.ErrorIs(t, err, store.ErrConflict)

	all, err := st.ListUsage(ctx, store.UsageFilter{ContractServiceID: ptr(int64(7))})
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, []int{1, 2}, []int{all[0].Revision, all[1].Revision})
	pending, err := st.ListUsage(ctx, store.UsageFilter{State: store.UsagePending})
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, fixed.ID, pending[0].ID)
}

func TestRecordUsage_ConcurrentWritersOneRow(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	const writers = 8
	ids := make([]int64, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var u store.UsageRecord
			u, errs[i] = st.RecordUsage(ctx, usage(7, "42", "1"))
			ids[i] = u.ID
		}()
	}
	wg.Wait()
	for i := range writers {
		require.NoError(t, errs[i], "writer %d", i)
		assert.Equal(t, ids[0], ids[i], "writer %d got the same row", i)
	}
	assert.Equal(t, 1, countRows(t, st, "usage_ledger"), "ledger rows")
}

func TestUsageLedger_ConstraintsForbidDuplicates(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	u, err := st.RecordUsage(ctx, usage(7, "1", "1"))
	require.NoError(t, err)
	insert := `INSERT INTO usage_ledger (contract_service_id, period_start, period_end, metric, revision, raw_value,
		raw_unit, billed_value, billed_unit, reason, supersedes) VALUES ($1, $2, $3, $4, $5, 1, 'bytes', 1, 'GB', $6, $7)`
	// Same natural key and revision.
	_, err = st.Pool().Exec(ctx, insert, 7, octStart, novStart, "class2_billed", 1, "", nil)
	assert.Error(t, err, "a second revision 1")
	// A second current row for the key, even as another revision.
	_, err = st.Pool().Exec(ctx, insert, 7, octStart, novStart, "class2_billed", 2, "why", u.ID)
	assert.Error(t, err, "two current rows for one period")
	// A correction without a reason, and a period that ends before it starts.
	_, err = st.Pool().Exec(ctx, insert, 8, octStart, novStart, "m", 2, "", u.ID)
	assert.Error(t, err, "a revision without a reason")
	_, err = st.Pool().Exec(ctx, insert, 9, novStart, octStart, "m", 1, "", nil)
	assert.Error(t, err, "a reversed period")
	bad := usage(7, "-1", "0")
	bad.Metric = "other"
	_, err = st.RecordUsage(ctx, bad)
	assert.ErrorIs(t, err, store.ErrInvalid, "a negative value")
	bad = usage(7, "1.5e", "0")
	bad.Metric = "other"
	_, err = st.RecordUsage(ctx, bad)
	assert.ErrorIs(t, err, store.ErrInvalid, "a malformed decimal")
	assert.Equal(t, 1, countRows(t, st, "usage_ledger"), "ledger rows")
}

func TestMarkReported_IdempotentAndExclusive(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	a, err := st.RecordUsage(ctx, usage(7, "1", "1"))
	require.NoError(t, err)
	b, err := st.RecordUsage(ctx, usage(8, "1", "1"))
	require.NoError(t, err)

	got, err := st.MarkReported(ctx, a.ID, 500)
	require.NoError(t, err)
	assert.Equal(t, store.UsageReported, got.State)
	require.NotNil(t, got.ReportedAt)

	_, err = st.MarkReported(ctx, a.ID, 500)
	assert.NoError(t, err, "the same adjustment again")
	_, err = st.MarkReported(ctx, a.ID, 501)
	assert.ErrorIs(t, err, store.ErrConflict, "another adjustment for a reported row")
	_, err = st.MarkReported(ctx, b.ID, 500)
	assert.ErrorIs(t, err, store.ErrConflict, "one adjustment for two rows")
	_, err = st.MarkReported(ctx, 999999, 502)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.GetUsage(ctx, 999999)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

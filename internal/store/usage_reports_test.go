package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

// TestUsageReports_OneLiveReportPerPeriod: claiming a period twice returns
// the same row; once its report failed, the next claim gets a new row and
// the failed report's id is listed so it is never adopted again.
func TestUsageReports_OneLiveReportPerPeriod(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	start, end := time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)
	a, err := st.ClaimUsageReport(ctx, start, end, "partner")
	require.NoError(t, err)
	assert.Equal(t, store.ReportCreating, a.Status)
	b, err := st.ClaimUsageReport(ctx, start, end, "partner")
	require.NoError(t, err)
	assert.Equal(t, a.ID, b.ID, "a second claim of the period returns the same row")

	_, err = st.UpdateUsageReport(ctx, a.ID, "", "", store.ReportSaved, "")
	assert.Error(t, err, "saved without a report id or stored copy is refused")
	a, err = st.UpdateUsageReport(ctx, a.ID, "rep-1", "", store.ReportInProgress, "")
	require.NoError(t, err)
	a, err = st.UpdateUsageReport(ctx, a.ID, "", "", store.ReportFailed, "generation failed")
	require.NoError(t, err)
	assert.Equal(t, "rep-1", a.ReportID, "an empty id keeps the stored one")

	c, err := st.ClaimUsageReport(ctx, start, end, "partner")
	require.NoError(t, err)
	assert.NotEqual(t, a.ID, c.ID, "a failed report is replaced by a new row")
	failed, err := st.FailedUsageReportIDs(ctx, start, end)
	require.NoError(t, err)
	assert.Equal(t, []string{"rep-1"}, failed)

	c, err = st.UpdateUsageReport(ctx, c.ID, "rep-2", "st-2", store.ReportSaved, "")
	require.NoError(t, err)
	_, err = st.UpdateUsageReport(ctx, c.ID, "", "", store.ReportSettled, "")
	require.NoError(t, err)
	rows, err := st.ListUsageReports(ctx, start)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{store.ReportFailed, store.ReportSettled}, []string{rows[0].Status, rows[1].Status})
}

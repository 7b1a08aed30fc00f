package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

const alertID = "3f2a9c1e-0d4b-4e8a-9f1c-2b7d5e6a8c90"

func newAlertTicket() store.AlertTicket {
	return store.AlertTicket{AlertID: alertID, CompanyID: 29683, TenantID: "tenant-a", AlertType: "BackupFailed",
		Resource: "srv-01"}
}

func TestOpenAlertTicket_OneTicketPerAlert(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	first, err := st.OpenAlertTicket(ctx, newAlertTicket())
	require.NoError(t, err)
	assert.Equal(t, 1, first.Generation)
	assert.Equal(t, alertID, first.ExternalID)
	assert.Equal(t, store.TicketOpen, first.State)
	assert.Equal(t, 1, first.Occurrences)
	assert.Nil(t, first.TicketID)

	_, err = st.OpenAlertTicket(ctx, newAlertTicket())
	assert.ErrorIs(t, err, store.ErrConflict, "a second open generation")
	again := newAlertTicket()
	again.Generation = 1
	_, err = st.OpenAlertTicket(ctx, again)
	assert.ErrorIs(t, err, store.ErrConflict, "generation 1 twice")
	assert.Equal(t, 1, countRows(t, st, "alert_tickets"), "rows")

	got, err := st.SetAlertTicketID(ctx, first.ID, 128926)
	require.NoError(t, err)
	require.NotNil(t, got.TicketID)
	assert.Equal(t, int64(128926), *got.TicketID)
	_, err = st.SetAlertTicketID(ctx, first.ID, 128926)
	assert.NoError(t, err, "the same ticket again")
	_, err = st.SetAlertTicketID(ctx, first.ID, 128927)
	assert.ErrorIs(t, err, store.ErrConflict, "another ticket")
	_, err = st.SetAlertTicketID(ctx, 999999, 1)
	assert.ErrorIs(t, err, store.ErrNotFound)

	other := newAlertTicket()
	other.AlertID = "other-alert"
	o, err := st.OpenAlertTicket(ctx, other)
	require.NoError(t, err)
	_, err = st.SetAlertTicketID(ctx, o.ID, 128926)
	assert.ErrorIs(t, err, store.ErrConflict, "one Autotask ticket for two alerts")

	bad := newAlertTicket()
	bad.AlertID = "has#hash"
	_, err = st.OpenAlertTicket(ctx, bad)
	assert.ErrorIs(t, err, store.ErrInvalid, "an alert id that could clash with a generation suffix")
}

func TestAlertTicket_CloseReopenAndNewGeneration(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	first, err := st.OpenAlertTicket(ctx, newAlertTicket())
	require.NoError(t, err)

	counted, err := st.RecordAlertOccurrence(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, counted.Occurrences)

	closedAt := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	closed, err := st.CloseAlertTicket(ctx, first.ID, closedAt)
	require.NoError(t, err)
	assert.Equal(t, store.TicketClosed, closed.State)
	require.NotNil(t, closed.ClosedAt)
	assert.True(t, closedAt.Equal(*closed.ClosedAt), "closed at %v, want %v", *closed.ClosedAt, closedAt)
	_, err = st.CloseAlertTicket(ctx, first.ID, time.Time{})
	assert.ErrorIs(t, err, store.ErrConflict, "closing a closed ticket")
	_, err = st.RecordAlertOccurrence(ctx, first.ID)
	assert.ErrorIs(t, err, store.ErrConflict, "counting on a closed ticket")

	reopened, err := st.ReopenAlertTicket(ctx, first.ID, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, store.TicketOpen, reopened.State)
	assert.Equal(t, 3, reopened.Occurrences)
	require.NotNil(t, reopened.ReopenedAt)
	_, err = st.ReopenAlertTicket(ctx, first.ID, time.Time{})
	assert.ErrorIs(t, err, store.ErrConflict, "re-opening an open ticket")

	// Closed longer ago than the re-open window: a new generation.
	_, err = st.CloseAlertTicket(ctx, first.ID, time.Time{})
	require.NoError(t, err)
	second, err := st.OpenAlertTicket(ctx, newAlertTicket())
	require.NoError(t, err)
	assert.Equal(t, 2, second.Generation)
	assert.Equal(t, alertID+"#2", second.ExternalID)
	assert.Equal(t, store.AlertExternalID(alertID, 2), second.ExternalID, "Go and SQL agree on the external id")
	assert.Equal(t, store.AlertExternalID(alertID, 1), first.ExternalID)

	latest, err := st.LatestAlertTicket(ctx, alertID)
	require.NoError(t, err)
	assert.Equal(t, second.ID, latest.ID)
	byExt, err := st.AlertTicketByExternalID(ctx, alertID)
	require.NoError(t, err)
	assert.Equal(t, first.ID, byExt.ID)
	byID, err := st.AlertTicket(ctx, second.ID)
	require.NoError(t, err)
	assert.Equal(t, second, byID)
	_, err = st.LatestAlertTicket(ctx, "never-seen")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.CloseAlertTicket(ctx, 999999, time.Time{})
	assert.ErrorIs(t, err, store.ErrNotFound)

	open, err := st.QueryAlertTickets(ctx, store.AlertTicketQuery{State: store.TicketOpen})
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, second.ID, open[0].ID)
	all, err := st.QueryAlertTickets(ctx, store.AlertTicketQuery{CompanyID: ptr(int64(29683)), AlertID: alertID})
	require.NoError(t, err)
	assert.Len(t, all, 2)
}

func TestAlertTicketCreateAttempts_CountedBeforeTheCreateAndOnlyWithoutATicket(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	row, err := st.OpenAlertTicket(ctx, newAlertTicket())
	require.NoError(t, err)
	assert.Equal(t, 0, row.CreateAttempts, "a new generation: no create sent yet")
	joined, _, err := st.OpenOrJoinAlertTicket(ctx, store.AlertTicket{AlertID: "other", CompanyID: 29683, TenantID: "tenant-b",
		AlertType: "BackupFailed", Resource: "srv-02"})
	require.NoError(t, err)
	assert.Equal(t, 0, joined.CreateAttempts, "a new generation through storm control")

	for want := 1; want <= 2; want++ {
		got, err := st.MarkAlertTicketCreateAttempt(ctx, row.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got.CreateAttempts)
	}
	_, err = st.SetAlertTicketID(ctx, row.ID, 128926)
	require.NoError(t, err)
	got, err := st.MarkAlertTicketCreateAttempt(ctx, row.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.CreateAttempts, "a row with a ticket is not counted again")
	require.NotNil(t, got.TicketID)
	_, err = st.MarkAlertTicketCreateAttempt(ctx, 999999)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestAlertTicketCreateAttempts_RowsFromOlderCodeKeepTheLookup(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	// A worker that predates the column inserts without naming it.
	_, err := st.Pool().Exec(ctx, `INSERT INTO alert_tickets (alert_id, company_id, alert_type) VALUES ('old-worker', 1, 'BackupFailed')`)
	require.NoError(t, err)
	row, err := st.LatestAlertTicket(ctx, "old-worker")
	require.NoError(t, err)
	assert.Equal(t, 1, row.CreateAttempts, "a create may have been sent: the next attempt must look the ticket up")
}

func TestOpenAlertTicketsByTicketID_MatchesOpenTicketsAndRecordsReportedCompletions(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	_, err := st.OldestOpenAlertTicket(ctx)
	assert.ErrorIs(t, err, store.ErrNotFound, "no open ticket")

	opened := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var rows []store.AlertTicket
	for i, id := range []string{"a", "b", "c"} {
		in := newAlertTicket()
		in.AlertID, in.Resource, in.OpenedAt = id, id, opened.Add(time.Duration(i)*time.Hour)
		r, err := st.OpenAlertTicket(ctx, in)
		require.NoError(t, err)
		rows = append(rows, r)
	}
	_, err = st.OldestOpenAlertTicket(ctx)
	assert.ErrorIs(t, err, store.ErrNotFound, "open rows without a ticket yet do not count")
	for i, r := range rows {
		_, err := st.SetAlertTicketID(ctx, r.ID, int64(500+i))
		require.NoError(t, err)
	}
	_, err = st.CloseAlertTicket(ctx, rows[0].ID, time.Time{})
	require.NoError(t, err)

	oldest, err := st.OldestOpenAlertTicket(ctx)
	require.NoError(t, err)
	assert.True(t, oldest.Equal(opened.Add(time.Hour)), "oldest open = %v, want the second row's %v", oldest, opened.Add(time.Hour))

	got, err := st.OpenAlertTicketsByTicketID(ctx, []int64{500, 501, 502, 999})
	require.NoError(t, err)
	require.Len(t, got, 2, "the closed row and the unknown ticket are not matched")
	assert.Equal(t, []string{"b", "c"}, []string{got[0].AlertID, got[1].AlertID})
	assert.Nil(t, got[0].CompletionReported)
	none, err := st.OpenAlertTicketsByTicketID(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, none)

	done := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	require.NoError(t, st.MarkAlertTicketCompletionReported(ctx, rows[1].ID, done))
	again, err := st.AlertTicket(ctx, rows[1].ID)
	require.NoError(t, err)
	require.NotNil(t, again.CompletionReported)
	assert.True(t, again.CompletionReported.Equal(done), "reported %v, want %v", *again.CompletionReported, done)
	assert.ErrorIs(t, st.MarkAlertTicketCompletionReported(ctx, 999999, done), store.ErrNotFound)
}

func TestClearAlert_TicketIsIdleOnlyWhenEveryJoinedAlertCleared(t *testing.T) {
	ctx := testContext(t)
	st := testenv.MustOpenDB(t)
	owner, joined, err := st.OpenOrJoinAlertTicket(ctx, newAlertTicket())
	require.NoError(t, err)
	require.False(t, joined)
	other := newAlertTicket()
	other.AlertID = "joined-alert"
	row, joined, err := st.OpenOrJoinAlertTicket(ctx, other)
	require.NoError(t, err)
	require.True(t, joined)
	assert.Equal(t, []string{alertID, "joined-alert"}, row.ActiveAlerts)

	idle, err := st.ClearAlert(ctx, newAlertTicket())
	require.NoError(t, err)
	assert.Empty(t, idle, "the joined alert is still active: the ticket must stay open")

	// The owner recurs and clears again: still not idle while the joined alert is active.
	got, err := st.RecordAlertOccurrence(ctx, owner.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"joined-alert", alertID}, got.ActiveAlerts)
	idle, err = st.ClearAlert(ctx, newAlertTicket())
	require.NoError(t, err)
	assert.Empty(t, idle)

	for range 2 { // a retried call finds the same ticket
		idle, err = st.ClearAlert(ctx, other)
		require.NoError(t, err)
		require.Len(t, idle, 1, "the last alert cleared")
		assert.Equal(t, owner.ID, idle[0].ID)
		assert.Empty(t, idle[0].ActiveAlerts)
	}
	// Another group's clear does not touch this ticket.
	stranger := newAlertTicket()
	stranger.AlertID, stranger.Resource = "stranger", "srv-99"
	idle, err = st.ClearAlert(ctx, stranger)
	require.NoError(t, err)
	assert.Empty(t, idle)

	// Closed, then re-opened by its owner: the owner counts again.
	_, err = st.CloseAlertTicket(ctx, owner.ID, time.Time{})
	require.NoError(t, err)
	idle, err = st.ClearAlert(ctx, other)
	require.NoError(t, err)
	assert.Empty(t, idle, "a closed ticket is not idle")
	re, err := st.ReopenAlertTicket(ctx, owner.ID, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, []string{alertID}, re.ActiveAlerts)
}

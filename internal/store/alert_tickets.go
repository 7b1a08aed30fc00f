package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Alert ticket states.
const (
	TicketOpen   = "open"
	TicketClosed = "closed"
)

// AlertTicket links an Acronis alert to the Autotask ticket opened for it.
// A recurring alert whose ticket was closed longer ago than the re-open window
// gets a new generation, that is a new ticket with a new external id.
type AlertTicket struct {
	ID          int64
	AlertID     string
	Generation  int
	ExternalID  string // what the Autotask ticket carries in externalID; see AlertExternalID
	TicketID    *int64 // nil until the Autotask ticket exists
	CompanyID   int64
	TenantID    string
	AlertType   string
	Resource    string
	State       string // TicketOpen or TicketClosed
	OpenedAt    time.Time
	ClosedAt    *time.Time // last time the ticket was closed
	ReopenedAt  *time.Time // last time it was re-opened
	Occurrences int
	UpdatedAt   time.Time
	// CreateAttempts counts the Autotask creates sent for this generation
	// (MarkAlertTicketCreateAttempt); while it is 0 no ticket can exist, so
	// the look-up by external id is skipped.
	CreateAttempts int
	// CompletionReported is the Autotask completion time last reported to the
	// alert's workflow (MarkAlertTicketCompletionReported), nil when none.
	CompletionReported *time.Time
	// ActiveAlerts are the alerts counted on the ticket (its owner and the
	// alerts that joined it) that have not cleared since; auto-close waits
	// until it is empty (ClearAlert).
	ActiveAlerts []string
}

// AlertExternalID is the Autotask externalID of an alert's ticket: the alert id
// for the first generation, "<alert id>#<generation>" after that. The schema
// computes the same value and keeps it unique.
func AlertExternalID(alertID string, generation int) string {
	if generation <= 1 {
		return alertID
	}
	return alertID + "#" + strconv.Itoa(generation)
}

const alertTicketColumns = `id, alert_id, generation, external_id, ticket_id, company_id, tenant_id, alert_type,
	resource, state, opened_at, closed_at, reopened_at, occurrences, updated_at, create_attempts, completion_reported,
	active_alerts`

func scanAlertTicket(r pgx.Row) (AlertTicket, error) {
	var t AlertTicket
	err := r.Scan(&t.ID, &t.AlertID, &t.Generation, &t.ExternalID, &t.TicketID, &t.CompanyID, &t.TenantID,
		&t.AlertType, &t.Resource, &t.State, &t.OpenedAt, &t.ClosedAt, &t.ReopenedAt, &t.Occurrences, &t.UpdatedAt,
		&t.CreateAttempts, &t.CompletionReported, &t.ActiveAlerts)
	return t, err
}

// OpenAlertTicket records a new ticket generation for t.AlertID before the
// Autotask ticket is created (no create attempted yet). Generation 0 means
// "the next one". It returns ErrConflict when that generation exists or
// another generation is still open, which is what makes a duplicate ticket
// impossible.
func (s *Store) OpenAlertTicket(ctx context.Context, t AlertTicket) (AlertTicket, error) {
	var gen any
	if t.Generation > 0 {
		gen = t.Generation
	}
	var opened any
	if !t.OpenedAt.IsZero() {
		opened = t.OpenedAt
	}
	saved, err := scanAlertTicket(s.pool.QueryRow(ctx, `
		INSERT INTO alert_tickets (alert_id, generation, ticket_id, company_id, tenant_id, alert_type, resource, opened_at,
			create_attempts, active_alerts)
		VALUES ($1, COALESCE($2::int, (SELECT COALESCE(max(generation), 0) + 1 FROM alert_tickets WHERE alert_id = $1)),
			$3, $4, $5, $6, $7, COALESCE($8::timestamptz, now()), 0, ARRAY[$1::text])
		RETURNING `+alertTicketColumns,
		t.AlertID, gen, t.TicketID, t.CompanyID, t.TenantID, t.AlertType, t.Resource, opened))
	if err != nil {
		return AlertTicket{}, wrap(fmt.Sprintf("open ticket for alert %s", t.AlertID), err)
	}
	return saved, nil
}

// SetAlertTicketID records the Autotask ticket created for a generation. Setting
// the same id again is harmless; a different one is ErrConflict.
func (s *Store) SetAlertTicketID(ctx context.Context, id, ticketID int64) (AlertTicket, error) {
	what := fmt.Sprintf("set ticket %d on alert ticket %d", ticketID, id)
	t, err := scanAlertTicket(s.pool.QueryRow(ctx, `
		UPDATE alert_tickets SET ticket_id = $2, updated_at = now()
		WHERE id = $1 AND (ticket_id IS NULL OR ticket_id = $2)
		RETURNING `+alertTicketColumns, id, ticketID))
	if noRows(err) {
		if _, err := s.alertTicketBy(ctx, "id = $1", id); err != nil {
			return AlertTicket{}, wrap(what, err)
		}
		return AlertTicket{}, fmt.Errorf("%s: %w: it already has another ticket", what, ErrConflict)
	}
	if err != nil {
		return AlertTicket{}, wrap(what, err)
	}
	return t, nil
}

// MarkAlertTicketCreateAttempt counts one more Autotask create for a
// generation that has no ticket yet; it is recorded before the create is
// sent, so an attempt that follows a crash or a lost answer knows to look the
// ticket up by external id first. A row with a ticket is returned unchanged.
func (s *Store) MarkAlertTicketCreateAttempt(ctx context.Context, id int64) (AlertTicket, error) {
	t, err := scanAlertTicket(s.pool.QueryRow(ctx, `
		UPDATE alert_tickets SET create_attempts = create_attempts + CASE WHEN ticket_id IS NULL THEN 1 ELSE 0 END,
			updated_at = now()
		WHERE id = $1 RETURNING `+alertTicketColumns, id))
	if err != nil {
		return AlertTicket{}, wrap(fmt.Sprintf("count a create attempt on alert ticket %d", id), err)
	}
	return t, nil
}

// OldestOpenAlertTicket returns when the oldest open generation with an
// Autotask ticket was opened, or ErrNotFound when no ticket is open: no
// completion before it can concern an open ticket.
func (s *Store) OldestOpenAlertTicket(ctx context.Context) (time.Time, error) {
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT min(opened_at) FROM alert_tickets WHERE state = 'open' AND ticket_id IS NOT NULL`).Scan(&oldest)
	if err != nil {
		return time.Time{}, wrap("read the oldest open alert ticket", err)
	}
	if oldest == nil {
		return time.Time{}, fmt.Errorf("read the oldest open alert ticket: %w", ErrNotFound)
	}
	return *oldest, nil
}

// OpenAlertTicketsByTicketID returns the open generations whose Autotask
// ticket is one of ticketIDs, in ticket id order.
func (s *Store) OpenAlertTicketsByTicketID(ctx context.Context, ticketIDs []int64) ([]AlertTicket, error) {
	if len(ticketIDs) == 0 {
		return nil, nil
	}
	return s.queryAlertTickets(ctx, "read open alert tickets by ticket id", `SELECT `+alertTicketColumns+` FROM alert_tickets
		WHERE state = 'open' AND ticket_id = ANY($1) ORDER BY ticket_id`, ticketIDs)
}

// MarkAlertTicketCompletionReported records that the completion of the
// ticket at completedAt was reported to the alert's workflow, so the next
// (overlapping) check does not report it again; a later completion (the
// ticket was re-opened and completed again) has another time and is reported.
func (s *Store) MarkAlertTicketCompletionReported(ctx context.Context, id int64, completedAt time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE alert_tickets SET completion_reported = $2, updated_at = now() WHERE id = $1`, id, completedAt)
	what := fmt.Sprintf("record the completion of alert ticket %d reported", id)
	if err != nil {
		return wrap(what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// activeWithOwner is the SQL of active_alerts with the ticket's owner (once) in it.
const activeWithOwner = `array_append(array_remove(active_alerts, alert_id), alert_id)`

// RecordAlertOccurrence counts one more occurrence of the alert on its open
// ticket, which makes its owner active again; ErrConflict when the ticket is
// closed (re-open it instead).
func (s *Store) RecordAlertOccurrence(ctx context.Context, id int64) (AlertTicket, error) {
	return s.transitionAlertTicket(ctx, fmt.Sprintf("count occurrence on alert ticket %d", id), id, `
		UPDATE alert_tickets SET occurrences = occurrences + 1, active_alerts = `+activeWithOwner+`, updated_at = now()
		WHERE id = $1 AND state = 'open' RETURNING `+alertTicketColumns, id)
}

// CloseAlertTicket marks the ticket closed at at (now when zero). Closing a
// closed ticket is ErrConflict, so a retried close is detectable.
func (s *Store) CloseAlertTicket(ctx context.Context, id int64, at time.Time) (AlertTicket, error) {
	return s.transitionAlertTicket(ctx, fmt.Sprintf("close alert ticket %d", id), id, `
		UPDATE alert_tickets SET state = 'closed', closed_at = COALESCE($2::timestamptz, now()), updated_at = now()
		WHERE id = $1 AND state = 'open' RETURNING `+alertTicketColumns, id, timeOrNil(at))
}

// ReopenAlertTicket re-opens a closed ticket at at (now when zero) because its
// alert recurred within the re-open window, counts the occurrence and makes
// its owner active again (joined alerts still active stay counted).
func (s *Store) ReopenAlertTicket(ctx context.Context, id int64, at time.Time) (AlertTicket, error) {
	return s.transitionAlertTicket(ctx, fmt.Sprintf("reopen alert ticket %d", id), id, `
		UPDATE alert_tickets SET state = 'open', reopened_at = COALESCE($2::timestamptz, now()),
			occurrences = occurrences + 1, active_alerts = `+activeWithOwner+`, updated_at = now()
		WHERE id = $1 AND state = 'closed' RETURNING `+alertTicketColumns, id, timeOrNil(at))
}

// transitionAlertTicket runs a guarded UPDATE and tells a missing row
// (ErrNotFound) from one in the wrong state (ErrConflict).
func (s *Store) transitionAlertTicket(ctx context.Context, what string, id int64, sql string, args ...any) (AlertTicket, error) {
	t, err := scanAlertTicket(s.pool.QueryRow(ctx, sql, args...))
	if noRows(err) {
		cur, err := s.alertTicketBy(ctx, "id = $1", id)
		if err != nil {
			return AlertTicket{}, wrap(what, err)
		}
		return AlertTicket{}, fmt.Errorf("%s: %w: it is %s", what, ErrConflict, cur.State)
	}
	if err != nil {
		return AlertTicket{}, wrap(what, err)
	}
	return t, nil
}

// AlertTicket returns one alert ticket by id, or ErrNotFound.
func (s *Store) AlertTicket(ctx context.Context, id int64) (AlertTicket, error) {
	t, err := s.alertTicketBy(ctx, "id = $1", id)
	if err != nil {
		return AlertTicket{}, wrap(fmt.Sprintf("read alert ticket %d", id), err)
	}
	return t, nil
}

// LatestAlertTicket returns the newest generation for an alert, or ErrNotFound
// when the alert never had a ticket; this is the look-up before create.
func (s *Store) LatestAlertTicket(ctx context.Context, alertID string) (AlertTicket, error) {
	t, err := s.alertTicketBy(ctx, "alert_id = $1 ORDER BY generation DESC LIMIT 1", alertID)
	if err != nil {
		return AlertTicket{}, wrap(fmt.Sprintf("read latest ticket of alert %s", alertID), err)
	}
	return t, nil
}

// AlertTicketByExternalID returns the generation whose Autotask externalID is
// externalID, or ErrNotFound.
func (s *Store) AlertTicketByExternalID(ctx context.Context, externalID string) (AlertTicket, error) {
	t, err := s.alertTicketBy(ctx, "external_id = $1", externalID)
	if err != nil {
		return AlertTicket{}, wrap(fmt.Sprintf("read alert ticket %s", externalID), err)
	}
	return t, nil
}

func (s *Store) alertTicketBy(ctx context.Context, cond string, arg any) (AlertTicket, error) {
	t, err := scanAlertTicket(s.pool.QueryRow(ctx, `SELECT `+alertTicketColumns+` FROM alert_tickets WHERE `+cond, arg))
	if noRows(err) {
		return AlertTicket{}, ErrNotFound
	}
	return t, err
}

// queryAlertTickets runs a SELECT of alertTicketColumns and scans every row.
func (s *Store) queryAlertTickets(ctx context.Context, what, sql string, args ...any) ([]AlertTicket, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap(what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlertTicket, error) { return scanAlertTicket(r) })
	if err != nil {
		return nil, wrap(what, err)
	}
	return out, nil
}

// timeOrNil passes a zero time as SQL NULL so the database supplies now().
func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

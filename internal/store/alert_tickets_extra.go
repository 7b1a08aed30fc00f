package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// OpenOrJoinAlertTicket is storm control: it returns the alert's own open
// generation when there is one (a retried call), else the open ticket of
// another alert with the same tenant, type and resource (joined, with its
// occurrence counted), else a new generation as OpenAlertTicket does. An
// advisory lock on the group serialises concurrent first sightings, so a
// group never gets two open tickets.
func (s *Store) OpenOrJoinAlertTicket(ctx context.Context, t AlertTicket) (saved AlertTicket, joined bool, err error) {
	what := fmt.Sprintf("open or join a ticket for alert %s", t.AlertID)
	err = s.inTx(ctx, what, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`,
			t.TenantID+"\n"+t.AlertType+"\n"+t.Resource); err != nil {
			return err
		}
		own, err := scanAlertTicket(tx.QueryRow(ctx, `SELECT `+alertTicketColumns+`
			FROM alert_tickets WHERE alert_id = $1 AND state = 'open'`, t.AlertID))
		if err == nil {
			saved = own
			return nil
		}
		if !noRows(err) {
			return err
		}
		if t.Resource != "" {
			other, err := scanAlertTicket(tx.QueryRow(ctx, `
				UPDATE alert_tickets SET occurrences = occurrences + 1,
					active_alerts = array_append(array_remove(active_alerts, $4), $4), updated_at = now()
				WHERE id = (SELECT id FROM alert_tickets WHERE tenant_id = $1 AND alert_type = $2 AND resource = $3
					AND state = 'open' AND alert_id <> $4 ORDER BY id LIMIT 1)
				RETURNING `+alertTicketColumns, t.TenantID, t.AlertType, t.Resource, t.AlertID))
			if err == nil {
				saved, joined = other, true
				return nil
			}
			if !noRows(err) {
				return err
			}
		}
		var gen any
		if t.Generation > 0 {
			gen = t.Generation
		}
		saved, err = scanAlertTicket(tx.QueryRow(ctx, `
			INSERT INTO alert_tickets (alert_id, generation, company_id, tenant_id, alert_type, resource, opened_at,
				create_attempts, active_alerts)
			VALUES ($1, COALESCE($2::int, (SELECT COALESCE(max(generation), 0) + 1 FROM alert_tickets WHERE alert_id = $1)),
				$3, $4, $5, $6, COALESCE($7::timestamptz, now()), 0, ARRAY[$1::text])
			RETURNING `+alertTicketColumns,
			t.AlertID, gen, t.CompanyID, t.TenantID, t.AlertType, t.Resource, timeOrNil(t.OpenedAt)))
		return err
	})
	if err != nil {
		return AlertTicket{}, false, err
	}
	return saved, joined, nil
}

// ClearAlert records that the alert t.AlertID cleared: it leaves the active
// alerts of every ticket it was counted on. It returns the open tickets that
// are now left with no active alert: its own, or the open ticket of its storm
// group (same tenant, type and resource) that it joined. Those are the tickets
// auto-close may close; a ticket another alert is still active on is not
// among them. A retried call finds the same tickets.
func (s *Store) ClearAlert(ctx context.Context, t AlertTicket) ([]AlertTicket, error) {
	what := fmt.Sprintf("record alert %s cleared", t.AlertID)
	var out []AlertTicket
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE alert_tickets SET active_alerts = array_remove(active_alerts, $1), updated_at = now()
			WHERE active_alerts @> ARRAY[$1::text]`, t.AlertID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+alertTicketColumns+` FROM alert_tickets
			WHERE state = 'open' AND cardinality(active_alerts) = 0
				AND (alert_id = $1 OR ($4 <> '' AND tenant_id = $2 AND alert_type = $3 AND resource = $4))
			ORDER BY id`, t.AlertID, t.TenantID, t.AlertType, t.Resource)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlertTicket, error) { return scanAlertTicket(r) })
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AlertTicketQuery selects alert tickets for the tickets list; zero fields do not filter.
type AlertTicketQuery struct {
	CompanyID *int64
	AlertID   string
	AlertType string
	State     string
	Limit     int // default 100, at most 1000
}

// QueryAlertTickets lists alert tickets matching q, newest first.
func (s *Store) QueryAlertTickets(ctx context.Context, q AlertTicketQuery) ([]AlertTicket, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var c conditions
	if q.CompanyID != nil {
		c.add("company_id = ?", *q.CompanyID)
	}
	if q.AlertID != "" {
		c.add("alert_id = ?", q.AlertID)
	}
	if q.AlertType != "" {
		c.add("alert_type = ?", q.AlertType)
	}
	if q.State != "" {
		c.add("state = ?", q.State)
	}
	sql := `SELECT ` + alertTicketColumns + ` FROM alert_tickets` + c.clause() +
		` ORDER BY opened_at DESC, id DESC LIMIT ` + c.param(limit)
	return s.queryAlertTickets(ctx, "query alert tickets", sql, c.args...)
}

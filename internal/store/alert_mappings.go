package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AlertMapping says whether an Acronis alert type opens an Autotask ticket and
// with which ticket fields. Nil fields are left to Autotask's defaults.
// IsDefault marks a type that was added automatically when first seen and
// not yet reviewed by an admin.
type AlertMapping struct {
	AlertType    string    `json:"alertType"`
	CreateTicket bool      `json:"createTicket"`
	Priority     *int64    `json:"priority"`
	Status       *int64    `json:"status"`
	QueueID      *int64    `json:"queueId"`
	IssueType    *int64    `json:"issueType"`
	SubIssueType *int64    `json:"subIssueType"`
	TicketType   *int64    `json:"ticketType"`
	IsDefault    bool      `json:"isDefault"`
	UpdatedAt    time.Time `json:"updatedAt"`
	UpdatedBy    string    `json:"updatedBy"`
}

const alertMappingColumns = `alert_type, create_ticket, priority, status, queue_id, issue_type, sub_issue_type,
	ticket_type, is_default, updated_at, updated_by`

func scanAlertMapping(r pgx.Row) (AlertMapping, error) {
	var m AlertMapping
	err := r.Scan(&m.AlertType, &m.CreateTicket, &m.Priority, &m.Status, &m.QueueID, &m.IssueType,
		&m.SubIssueType, &m.TicketType, &m.IsDefault, &m.UpdatedAt, &m.UpdatedBy)
	return m, err
}

// UpsertAlertMapping creates or replaces the mapping of m.AlertType and audits
// the change in the same transaction.
func (s *Store) UpsertAlertMapping(ctx context.Context, m AlertMapping, actor Actor) (AlertMapping, error) {
	saved, err := s.ReplaceAlertMappings(ctx, []AlertMapping{m}, actor)
	if err != nil {
		return AlertMapping{}, err
	}
	return saved[0], nil
}

// ReplaceAlertMappings creates or replaces the mappings of the listed alert
// types in one transaction, auditing each; types not listed keep theirs.
// Either every mapping is saved or none.
func (s *Store) ReplaceAlertMappings(ctx context.Context, maps []AlertMapping, actor Actor) ([]AlertMapping, error) {
	return s.replaceAlertMappings(ctx, maps, actor, false, nil)
}

// ReplaceCheckedAlertMappings is ReplaceAlertMappings for mappings whose ids
// were checked against Autotask's picklists: unverified (keyed by alert type)
// are the ids that could not be checked; they replace the listed types'
// unverified values in the same transaction.
func (s *Store) ReplaceCheckedAlertMappings(ctx context.Context, maps []AlertMapping, actor Actor, unverified []UnverifiedValue) ([]AlertMapping, error) {
	return s.replaceAlertMappings(ctx, maps, actor, true, unverified)
}

func (s *Store) replaceAlertMappings(ctx context.Context, maps []AlertMapping, actor Actor, checked bool, unverified []UnverifiedValue) ([]AlertMapping, error) {
	var saved []AlertMapping
	err := s.inTx(ctx, "replace alert mappings", func(tx pgx.Tx) error {
		saved = make([]AlertMapping, 0, len(maps))
		keys := make([]string, 0, len(maps))
		for _, m := range maps {
			got, err := upsertAlertMappingTx(ctx, tx, m, actor)
			if err != nil {
				return fmt.Errorf("save alert mapping %s: %w", m.AlertType, err)
			}
			saved = append(saved, got)
			keys = append(keys, m.AlertType)
		}
		if !checked {
			return nil
		}
		return replaceUnverifiedTx(ctx, tx, ScopeAlertMappings, keys, unverified)
	})
	if err != nil {
		return nil, err
	}
	return saved, nil
}

func upsertAlertMappingTx(ctx context.Context, tx pgx.Tx, m AlertMapping, actor Actor) (AlertMapping, error) {
	before, err := scanAlertMapping(tx.QueryRow(ctx, `SELECT `+alertMappingColumns+`
		FROM alert_mappings WHERE alert_type = $1 FOR UPDATE`, m.AlertType))
	existed := err == nil
	if err != nil && !noRows(err) {
		return AlertMapping{}, err
	}
	saved, err := scanAlertMapping(tx.QueryRow(ctx, `
		INSERT INTO alert_mappings (alert_type, create_ticket, priority, status, queue_id, issue_type,
			sub_issue_type, ticket_type, is_default, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (alert_type) DO UPDATE SET create_ticket = excluded.create_ticket,
			priority = excluded.priority, status = excluded.status, queue_id = excluded.queue_id,
			issue_type = excluded.issue_type, sub_issue_type = excluded.sub_issue_type,
			ticket_type = excluded.ticket_type, is_default = excluded.is_default,
			updated_at = now(), updated_by = excluded.updated_by
		RETURNING `+alertMappingColumns,
		m.AlertType, m.CreateTicket, m.Priority, m.Status, m.QueueID, m.IssueType, m.SubIssueType,
		m.TicketType, m.IsDefault, actor.Name))
	if err != nil {
		return AlertMapping{}, err
	}
	e := AuditEntry{Kind: KindAlertMappingUpsert, System: SystemAdmin, Target: "alert-mapping/" + m.AlertType,
		After: mustJSON(saved)}
	if existed {
		e.Before = mustJSON(before)
	}
	if _, err := AppendAuditTx(ctx, tx, e.WithActor(actor)); err != nil {
		return AlertMapping{}, err
	}
	return saved, nil
}

// EnsureAlertMapping returns the mapping of alertType, first adding def (with
// IsDefault set) when the type was never seen. An existing mapping is never
// overwritten, so concurrent first sightings and admin edits are safe.
// created reports whether def was added.
func (s *Store) EnsureAlertMapping(ctx context.Context, alertType string, def AlertMapping) (m AlertMapping, created bool, err error) {
	def.AlertType, def.IsDefault = alertType, true
	if def.UpdatedBy == "" {
		def.UpdatedBy = "system"
	}
	m, err = scanAlertMapping(s.pool.QueryRow(ctx, `
		INSERT INTO alert_mappings (alert_type, create_ticket, priority, status, queue_id, issue_type,
			sub_issue_type, ticket_type, is_default, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9)
		ON CONFLICT (alert_type) DO NOTHING
		RETURNING `+alertMappingColumns,
		def.AlertType, def.CreateTicket, def.Priority, def.Status, def.QueueID, def.IssueType, def.SubIssueType,
		def.TicketType, def.UpdatedBy))
	if err == nil {
		return m, true, nil
	}
	if !noRows(err) {
		return AlertMapping{}, false, wrap(fmt.Sprintf("add default alert mapping %s", alertType), err)
	}
	m, err = s.AlertMapping(ctx, alertType)
	return m, false, err
}

// AlertMapping returns the mapping of one alert type, or ErrNotFound.
func (s *Store) AlertMapping(ctx context.Context, alertType string) (AlertMapping, error) {
	m, err := scanAlertMapping(s.pool.QueryRow(ctx, `SELECT `+alertMappingColumns+`
		FROM alert_mappings WHERE alert_type = $1`, alertType))
	if err != nil {
		return AlertMapping{}, wrap(fmt.Sprintf("read alert mapping %s", alertType), err)
	}
	return m, nil
}

// ListAlertMappings returns every alert mapping ordered by alert type.
func (s *Store) ListAlertMappings(ctx context.Context) ([]AlertMapping, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+alertMappingColumns+` FROM alert_mappings ORDER BY alert_type`)
	if err != nil {
		return nil, wrap("list alert mappings", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlertMapping, error) { return scanAlertMapping(r) })
	if err != nil {
		return nil, wrap("list alert mappings", err)
	}
	return out, nil
}

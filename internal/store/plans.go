package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
)

// Audit kinds of plans.
const (
	KindPlanCreate = "plan.create"
	KindPlanApply  = "plan.apply"
)

// SavePlanSet stores a previewed plan and audits who previewed what.
func (s *Store) SavePlanSet(ctx context.Context, p plan.Set, actor Actor) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode plan %s: %w", p.ID, err)
	}
	return s.inTx(ctx, "save plan "+p.ID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO plans (id, status, document, created_at, created_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, p.ID, plan.StatusPreview, string(doc), p.CreatedAt, p.CreatedBy, p.ExpiresAt); err != nil {
			return err
		}
		_, err := AppendAuditTx(ctx, tx, AuditEntry{Kind: KindPlanCreate, System: SystemAdmin, Target: "plan/" + p.ID,
			After: mustJSON(p.Summary)}.WithActor(actor))
		return err
	})
}

// PlanSet reads a stored plan, or ErrNotFound.
func (s *Store) PlanSet(ctx context.Context, id string) (plan.Set, error) {
	var p plan.Set
	var doc []byte
	err := s.pool.QueryRow(ctx, `SELECT document, status, applied_at, coalesce(applied_by, '') FROM plans WHERE id = $1`, id).
		Scan(&doc, &p.Status, &p.AppliedAt, &p.AppliedBy)
	if err != nil {
		return plan.Set{}, wrap("read plan "+id, err)
	}
	status, at, by := p.Status, p.AppliedAt, p.AppliedBy
	if err := json.Unmarshal(doc, &p); err != nil {
		return plan.Set{}, fmt.Errorf("decode plan %s: %w", id, err)
	}
	p.Status, p.AppliedAt, p.AppliedBy = status, at, by
	return p, nil
}

// ClaimPlanSet moves a previewed, unexpired plan to "applying", so two
// admins (or two server processes) cannot apply it twice. ErrConflict when it
// is applied, being applied or expired; ErrNotFound when there is none.
func (s *Store) ClaimPlanSet(ctx context.Context, id string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE plans SET status = 'applying' WHERE id = $1 AND status = 'preview' AND expires_at > $2`, id, now)
	if err != nil {
		return wrap("claim plan "+id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var status string
	var expires time.Time
	if err := s.pool.QueryRow(ctx, `SELECT status, expires_at FROM plans WHERE id = $1`, id).Scan(&status, &expires); err != nil {
		return wrap("claim plan "+id, err)
	}
	if status == plan.StatusPreview {
		return fmt.Errorf("%w: plan %s expired at %s; preview again", ErrConflict, id, expires.UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("%w: plan %s is %s", ErrConflict, id, status)
}

// ReleasePlanSet returns a claimed plan to "preview" when it could not be
// applied (its inputs drifted), so nothing of it was written.
func (s *Store) ReleasePlanSet(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE plans SET status = 'preview' WHERE id = $1 AND status = 'applying'`, id)
	return wrap("release plan "+id, err)
}

// ApplyPlanSet saves a claimed plan's configuration changes and marks it
// applied, in one transaction with its audit rows: settings (over the version
// the plan was made on; ErrConflict when another save came first) and the
// full list of service mappings, each when the plan changes it.
func (s *Store) ApplyPlanSet(ctx context.Context, p plan.Set, settingsDoc json.RawMessage, mappings []ServiceMapping, replaceMappings bool, actor Actor, at time.Time) error {
	return s.inTx(ctx, "apply plan "+p.ID, func(tx pgx.Tx) error {
		if settingsDoc != nil {
			if _, err := saveSettingsTx(ctx, tx, settingsDoc, p.SettingsVersion, actor); err != nil {
				return err
			}
		}
		if replaceMappings {
			if _, err := replaceServiceMappingsTx(ctx, tx, mappings, actor); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE plans SET status = 'applied', applied_at = $2, applied_by = $3 WHERE id = $1 AND status = 'applying'`,
			p.ID, at, actor.Name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("%w: plan %s is not being applied", ErrConflict, p.ID)
		}
		_, err = AppendAuditTx(ctx, tx, AuditEntry{Kind: KindPlanApply, System: SystemAdmin, Target: "plan/" + p.ID,
			After: mustJSON(p.Summary)}.WithActor(actor))
		return err
	})
}

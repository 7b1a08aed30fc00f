package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acronis-autotask/acronis-autotask/internal/bulkmap"
)

// BulkMappingState reads what bulk mapping validation needs of the given
// companies and tenants from the read model and the mappings.
func (s *Store) BulkMappingState(ctx context.Context, companyIDs []int64, tenantIDs []string) (map[int64]bulkmap.CompanyState, map[string]bulkmap.TenantState, error) {
	companies := map[int64]bulkmap.CompanyState{}
	rows, err := s.pool.Query(ctx, `SELECT c.company_id, c.name, c.active, coalesce(m.tenant_id, '')
		FROM rm_companies c LEFT JOIN customer_mappings m ON m.company_id = c.company_id WHERE c.company_id = ANY($1)`, companyIDs)
	if err != nil {
		return nil, nil, wrap("read companies to map", err)
	}
	for rows.Next() {
		var id int64
		var c bulkmap.CompanyState
		if err := rows.Scan(&id, &c.Name, &c.Active, &c.MappedTo); err != nil {
			return nil, nil, wrap("read companies to map", err)
		}
		companies[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, nil, wrap("read companies to map", err)
	}
	tenants := map[string]bulkmap.TenantState{}
	rows, err = s.pool.Query(ctx, `SELECT t.tenant_id, t.name, t.kind, t.self_service, t.support_access IS NOT false, coalesce(m.company_id, 0)
		FROM rm_tenants t LEFT JOIN customer_mappings m ON m.tenant_id = t.tenant_id
		WHERE t.tenant_id = ANY($1) AND t.deleted_at IS NULL`, tenantIDs)
	if err != nil {
		return nil, nil, wrap("read tenants to map", err)
	}
	for rows.Next() {
		var id, kind string
		var selfService, support bool
		var t bulkmap.TenantState
		if err := rows.Scan(&id, &t.Name, &kind, &selfService, &support, &t.MappedTo); err != nil {
			return nil, nil, wrap("read tenants to map", err)
		}
		switch {
		case kind != "customer" && kind != "partner":
			t.Reason = "it is a " + kind + ", not a customer or sub-partner"
		case selfService:
			t.Reason = "it is in self-service mode"
		case !support:
			t.Reason = "it refuses support access"
		default:
			t.Manageable = true
		}
		tenants[id] = t
	}
	return companies, tenants, wrap("read tenants to map", rows.Err())
}

// TopSuggestions returns, for every active unmapped company, its best stored
// suggestion when its confidence is at least min (tenants mapped or deleted
// since are left out).
func (s *Store) TopSuggestions(ctx context.Context, min float64) ([]bulkmap.Pair, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (s.company_id) s.company_id, s.tenant_id, s.confidence
		FROM rm_suggestions s
		JOIN rm_companies c ON c.company_id = s.company_id AND c.active
		JOIN rm_tenants t ON t.tenant_id = s.tenant_id AND t.deleted_at IS NULL
		WHERE s.confidence >= $1
			AND NOT EXISTS (SELECT 1 FROM customer_mappings m WHERE m.company_id = s.company_id OR m.tenant_id = s.tenant_id)
		ORDER BY s.company_id, s.rank`, min-0.0001)
	if err != nil {
		return nil, wrap("read the best suggestions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bulkmap.Pair, error) {
		var p bulkmap.Pair
		var conf float32
		err := r.Scan(&p.CompanyID, &p.TenantID, &conf)
		p.Confidence = float64(int(conf*100+0.5)) / 100
		return p, err
	})
	for i := range out {
		out[i].Where = bulkmap.Where{Index: i}
	}
	return out, wrap("read the best suggestions", err)
}

// SaveMappingPlan stores a previewed plan.
func (s *Store) SaveMappingPlan(ctx context.Context, p bulkmap.Plan) error {
	items, err := json.Marshal(p.Items)
	if err != nil {
		return fmt.Errorf("encode plan items: %w", err)
	}
	skipped, err := json.Marshal(p.Skipped)
	if err != nil {
		return fmt.Errorf("encode skipped suggestions: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO mapping_plans (id, status, source, items, skipped, created_at, created_by, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.ID, bulkmap.StatusPreview, p.Source, string(items), string(skipped), p.CreatedAt, p.CreatedBy, p.ExpiresAt)
	return wrap("save mapping plan", err)
}

const planColumns = `id, status, source, items, skipped, results, created_at, created_by, expires_at, applied_at, coalesce(applied_by, '')`

func scanPlan(r pgx.Row) (bulkmap.Plan, error) {
	var p bulkmap.Plan
	var items, skipped, results []byte
	if err := r.Scan(&p.ID, &p.Status, &p.Source, &items, &skipped, &results, &p.CreatedAt, &p.CreatedBy, &p.ExpiresAt, &p.AppliedAt, &p.AppliedBy); err != nil {
		return p, err
	}
	if err := json.Unmarshal(items, &p.Items); err != nil {
		return p, err
	}
	if err := json.Unmarshal(skipped, &p.Skipped); err != nil {
		return p, err
	}
	if results != nil {
		if err := json.Unmarshal(results, &p.Results); err != nil {
			return p, err
		}
	}
	return p, nil
}

// MappingPlan reads a plan, or ErrNotFound.
func (s *Store) MappingPlan(ctx context.Context, id string) (bulkmap.Plan, error) {
	p, err := scanPlan(s.pool.QueryRow(ctx, `SELECT `+planColumns+` FROM mapping_plans WHERE id = $1`, id))
	return p, wrap(fmt.Sprintf("read mapping plan %s", id), err)
}

// ClaimMappingPlan moves a preview to "applying" for actor, so two applies
// of one plan cannot both run. A plan already applied or applying, or past
// its expiry, is ErrConflict.
func (s *Store) ClaimMappingPlan(ctx context.Context, id, actor string, now time.Time) (bulkmap.Plan, error) {
	p, err := scanPlan(s.pool.QueryRow(ctx, `UPDATE mapping_plans SET status = 'applying', applied_by = $2
		WHERE id = $1 AND status = 'preview' AND expires_at > $3 RETURNING `+planColumns, id, actor, now))
	if noRows(err) {
		cur, rerr := s.MappingPlan(ctx, id)
		if rerr != nil {
			return bulkmap.Plan{}, rerr
		}
		if cur.Status != bulkmap.StatusPreview {
			return cur, fmt.Errorf("apply mapping plan %s: it is %s: %w", id, cur.Status, ErrConflict)
		}
		return cur, fmt.Errorf("apply mapping plan %s: it expired at %s; preview again: %w", id, cur.ExpiresAt.UTC().Format(time.RFC3339), ErrConflict)
	}
	return p, wrap(fmt.Sprintf("claim mapping plan %s", id), err)
}

// FinishMappingPlan records the results of applying a plan.
func (s *Store) FinishMappingPlan(ctx context.Context, id string, results []bulkmap.Result, now time.Time) (bulkmap.Plan, error) {
	raw, err := json.Marshal(results)
	if err != nil {
		return bulkmap.Plan{}, fmt.Errorf("encode plan results: %w", err)
	}
	p, err := scanPlan(s.pool.QueryRow(ctx, `UPDATE mapping_plans SET status = 'applied', results = $2, applied_at = $3
		WHERE id = $1 RETURNING `+planColumns, id, string(raw), now))
	return p, wrap(fmt.Sprintf("finish mapping plan %s", id), err)
}

// MappingExportRow is one line of the mappings CSV.
type MappingExportRow struct {
	CompanyID   int64
	CompanyName string
	TenantID    string
	TenantName  string
	How         string
	State       string
	Health      string
}

// ExportMappings returns every customer mapping with names and health, by company id.
func (s *Store) ExportMappings(ctx context.Context) ([]MappingExportRow, error) {
	rows, err := s.pool.Query(ctx, flagsSQL+` SELECT m.company_id, coalesce(c.name, ''), m.tenant_id, coalesce(t.name, ''), m.how, m.state,
			coalesce(`+healthSQL+`, '')
		FROM customer_mappings m CROSS JOIN flags
		LEFT JOIN rm_companies c ON c.company_id = m.company_id
		LEFT JOIN rm_tenants t ON t.tenant_id = m.tenant_id
		ORDER BY m.company_id`)
	if err != nil {
		return nil, wrap("export mappings", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MappingExportRow, error) {
		var e MappingExportRow
		err := r.Scan(&e.CompanyID, &e.CompanyName, &e.TenantID, &e.TenantName, &e.How, &e.State, &e.Health)
		return e, err
	})
	return out, wrap("export mappings", err)
}

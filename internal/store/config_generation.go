package store

import (
	"context"
)

// ConfigGeneration identifies everything a customer's plan depends on besides
// its own snapshot and mapping: the settings version and the service mappings.
// It changes whenever an admin saves either, so the contract sync can tell
// running customer workflows to re-plan (issue 14). Alert mappings are not in
// it: no customer plan reads them; each alert's workflow reads its mapping when
// it acts. A customer mapping reaches its workflow directly (map and unmap are
// updates of that workflow).
// Saving identical content still changes it (updated_at moves): a re-plan
// that finds nothing to change writes nothing, so that costs only a plan.
func (s *Store) ConfigGeneration(ctx context.Context) (string, error) {
	var gen string
	err := s.pool.QueryRow(ctx, `SELECT md5(
		coalesce((SELECT max(version)::text FROM settings_versions), '0') || '|' ||
		coalesce((SELECT jsonb_agg(to_jsonb(m) ORDER BY m.application_id, m.offering_item, m.infra_id)::text FROM service_mappings m), '[]') )`).Scan(&gen)
	return gen, wrap("read configuration generation", err)
}

// KnownCompanies lists every company a customer workflow may exist for: those
// the contract sync has delivered a snapshot of and those mapped to a tenant.
func (s *Store) KnownCompanies(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT company_id FROM company_snapshots
		UNION SELECT company_id FROM customer_mappings ORDER BY 1`)
	if err != nil {
		return nil, wrap("list known companies", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("list known companies", err)
		}
		out = append(out, id)
	}
	return out, wrap("list known companies", rows.Err())
}

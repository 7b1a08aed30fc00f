package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditKindUsageRun is the audit kind a finished usage report run writes
// (activities.RecordUsageRun); Stats reads its latest time.
const AuditKindUsageRun = "usage.report.run"

// Stats are the operational counters of the integration (SPEC F12), read
// from the store's own tables in one round trip so the stats endpoint and
// the Prometheus scrape stay cheap however many customers there are.
type Stats struct {
	// CompaniesWithContracts counts companies the contract sync has seen
	// with recurring contracts (one company_snapshots row each).
	CompaniesWithContracts int64
	// Mapped counts customer mappings; ProvisionedAutomatically those the
	// integration created by provisioning a tenant.
	Mapped                   int64
	ProvisionedAutomatically int64
	// ByState counts mapped customers per workflow phase (active,
	// deprovisioning, error …) as last recorded by their workflows.
	ByState map[string]int64
	// WithError counts mapped customers whose last error is set.
	WithError int64
	// Tickets: every alert ticket created, and how many are open or closed.
	TicketsCreated, TicketsOpen, TicketsClosed int64
	// UsagePending counts ledger rows recorded but not yet in Autotask.
	UsagePending int64
	// LastContractSync is the latest company snapshot the contract sync
	// delivered; zero before the first.
	LastContractSync time.Time
	// LastUsageReport is when the usage report last finished a run.
	LastUsageReport time.Time
	// LastCustomerUpdate is when a customer workflow last recorded its state.
	LastCustomerUpdate time.Time
	// Cursors are the incremental sync positions' last update times by name.
	Cursors map[string]time.Time
	// ByHealth counts mappings per health (ok, renamed, missing, invalid, unknown).
	ByHealth map[string]int64
}

// Stats reads the operational counters in one query.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	out := Stats{ByState: map[string]int64{}, Cursors: map[string]time.Time{}, ByHealth: map[string]int64{}}
	var lastSync, lastUsage, lastCustomer *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT
			(SELECT count(*) FROM company_snapshots),
			(SELECT max(observed_at) FROM company_snapshots),
			(SELECT count(*) FROM customer_mappings),
			(SELECT count(*) FROM customer_mappings WHERE how = 'automatic'),
			(SELECT count(*) FROM customer_mappings WHERE last_error <> ''),
			(SELECT max(updated_at) FROM customer_mappings),
			(SELECT coalesce(jsonb_object_agg(state, n), '{}')
				FROM (SELECT state, count(*) AS n FROM customer_mappings GROUP BY state) x),
			(SELECT count(*) FROM alert_tickets),
			(SELECT count(*) FROM alert_tickets WHERE state = 'open'),
			(SELECT count(*) FROM alert_tickets WHERE state = 'closed'),
			(SELECT count(*) FROM usage_ledger WHERE state = 'pending'),
			(SELECT max(at) FROM audit_log WHERE kind = $1),
			(SELECT coalesce(jsonb_object_agg(name, updated_at), '{}') FROM sync_cursors),
			(SELECT coalesce(jsonb_object_agg(health, n), '{}') FROM (
				SELECT health, count(*) AS n FROM (`+flagsSQL+` SELECT `+healthSQL+` AS health FROM customer_mappings m CROSS JOIN flags
					LEFT JOIN rm_companies c ON c.company_id = m.company_id LEFT JOIN rm_tenants t ON t.tenant_id = m.tenant_id) h
				GROUP BY health) x)`, AuditKindUsageRun).Scan(
		&out.CompaniesWithContracts, &lastSync,
		&out.Mapped, &out.ProvisionedAutomatically, &out.WithError, &lastCustomer, &out.ByState,
		&out.TicketsCreated, &out.TicketsOpen, &out.TicketsClosed,
		&out.UsagePending, &lastUsage, &out.Cursors, &out.ByHealth)
	if err != nil {
		return Stats{}, wrap("read stats", err)
	}
	out.LastContractSync, out.LastUsageReport, out.LastCustomerUpdate = deref(lastSync), deref(lastUsage), deref(lastCustomer)
	return out, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// UsageQuery selects ledger rows of several contract services at once (a
// company's); the other fields filter as in UsageFilter.
type UsageQuery struct {
	ContractServiceIDs []int64 // nil: every contract service; empty: none
	Metric             string
	State              string
	From               time.Time // period_start >= From
	To                 time.Time // period_end <= To
	// Limit defaults to 500 and may be one more than MaxUsagePage, so a
	// caller asking for a full page plus one can tell the page was truncated.
	Limit int
}

// MaxUsagePage is the largest page of usage rows the API documents.
const MaxUsagePage = 5000

// SearchUsage returns the ledger rows matching q ordered like ListUsage
// (period, contract service, metric, revision).
func (s *Store) SearchUsage(ctx context.Context, q UsageQuery) ([]UsageRecord, error) {
	if q.ContractServiceIDs != nil && len(q.ContractServiceIDs) == 0 {
		return []UsageRecord{}, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	limit = min(limit, MaxUsagePage+1)
	var c conditions
	if q.ContractServiceIDs != nil {
		c.add("contract_service_id = ANY(?)", q.ContractServiceIDs)
	}
	if q.Metric != "" {
		c.add("metric = ?", q.Metric)
	}
	if q.State != "" {
		c.add("state = ?", q.State)
	}
	if !q.From.IsZero() {
		c.add("period_start >= ?", q.From)
	}
	if !q.To.IsZero() {
		c.add("period_end <= ?", q.To)
	}
	sql := `SELECT ` + usageColumns + ` FROM usage_ledger` + c.clause() +
		` ORDER BY period_start, contract_service_id, metric, revision LIMIT ` + c.param(limit)
	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return nil, wrap("search usage", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UsageRecord, error) { return scanUsage(r) })
	if err != nil {
		return nil, wrap("search usage", err)
	}
	return out, nil
}

// UsageHistory returns every revision of the period row id belongs to
// (same contract service, period and metric), oldest first, so a number's
// correction chain reads top to bottom. ErrNotFound when id does not exist.
func (s *Store) UsageHistory(ctx context.Context, id int64) ([]UsageRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+usageColumns+` FROM usage_ledger u
		WHERE (u.contract_service_id, u.period_start, u.period_end, u.metric) =
			(SELECT contract_service_id, period_start, period_end, metric FROM usage_ledger WHERE id = $1)
		ORDER BY revision`, id)
	if err != nil {
		return nil, wrap("read usage history", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UsageRecord, error) { return scanUsage(r) })
	if err != nil {
		return nil, wrap("read usage history", err)
	}
	if len(out) == 0 {
		return nil, wrap("read usage history", ErrNotFound)
	}
	return out, nil
}

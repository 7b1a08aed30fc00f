package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Usage report states: creating (the row exists, the Acronis report may or
// may not), in_progress (created, not generated yet), saved (its stored copy
// can be downloaded), failed (Acronis could not generate it; a new report
// replaces it), settled (the period's ledger rows were written from it).
const (
	ReportCreating   = "creating"
	ReportInProgress = "in_progress"
	ReportSaved      = "saved"
	ReportFailed     = "failed"
	ReportSettled    = "settled"
)

// UsageReport is the Acronis usage report a closed billing period is settled
// from. The row is written before the report is created and updated as it is
// polled, so a worker restart at any point resumes the same report.
type UsageReport struct {
	ID          int64
	PeriodStart time.Time
	PeriodEnd   time.Time
	TenantID    string // the partner tenant the report covers
	ReportID    string // Acronis report id, once created
	StoredID    string // the saved csv_v2_0 copy
	Status      string
	Error       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const usageReportColumns = `id, period_start, period_end, tenant_id, coalesce(report_id, ''), coalesce(stored_id, ''), status, error, created_at, updated_at`

func scanUsageReport(r pgx.Row) (UsageReport, error) {
	var u UsageReport
	err := r.Scan(&u.ID, &u.PeriodStart, &u.PeriodEnd, &u.TenantID, &u.ReportID, &u.StoredID, &u.Status, &u.Error, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

// ClaimUsageReport returns the live (not failed) report row of the period,
// inserting one in state creating when there is none. Concurrent claims of
// one period get the same row.
func (s *Store) ClaimUsageReport(ctx context.Context, start, end time.Time, tenantID string) (UsageReport, error) {
	what := fmt.Sprintf("claim the usage report of %s – %s", start.UTC().Format(time.DateOnly), end.UTC().Format(time.DateOnly))
	var out UsageReport
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO usage_reports (period_start, period_end, tenant_id) VALUES ($1, $2, $3)
			ON CONFLICT (period_start, period_end) WHERE status <> 'failed' DO NOTHING`, start, end, tenantID); err != nil {
			return err
		}
		var err error
		out, err = scanUsageReport(tx.QueryRow(ctx, `SELECT `+usageReportColumns+` FROM usage_reports
			WHERE period_start = $1 AND period_end = $2 AND status <> 'failed'`, start, end))
		return err
	})
	return out, err
}

// UpdateUsageReport sets a report row's Acronis ids, status and error.
// Empty ids keep the stored ones.
func (s *Store) UpdateUsageReport(ctx context.Context, id int64, reportID, storedID, status, errText string) (UsageReport, error) {
	u, err := scanUsageReport(s.pool.QueryRow(ctx, `UPDATE usage_reports SET
			report_id = coalesce(nullif($2, ''), report_id), stored_id = coalesce(nullif($3, ''), stored_id),
			status = $4, error = $5, updated_at = now()
		WHERE id = $1 RETURNING `+usageReportColumns, id, reportID, storedID, status, errText))
	if err != nil {
		return UsageReport{}, wrap(fmt.Sprintf("update usage report %d", id), err)
	}
	return u, nil
}

// FailedUsageReportIDs lists the Acronis ids of the period's failed reports,
// so a lookup for an existing report skips them.
func (s *Store) FailedUsageReportIDs(ctx context.Context, start, end time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT report_id FROM usage_reports
		WHERE period_start = $1 AND period_end = $2 AND status = 'failed' AND report_id IS NOT NULL ORDER BY id`, start, end)
	if err != nil {
		return nil, wrap("list failed usage reports", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("list failed usage reports", err)
	}
	return out, nil
}

// ListUsageReports lists the report rows of periods starting at or after from, oldest first.
func (s *Store) ListUsageReports(ctx context.Context, from time.Time) ([]UsageReport, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+usageReportColumns+` FROM usage_reports WHERE period_start >= $1 ORDER BY period_start, id`, from)
	if err != nil {
		return nil, wrap("list usage reports", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UsageReport, error) { return scanUsageReport(r) })
	if err != nil {
		return nil, wrap("list usage reports", err)
	}
	return out, nil
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Usage ledger row states.
const (
	UsagePending    = "pending"    // recorded, not yet in Autotask
	UsageReported   = "reported"   // written to Autotask as AdjustmentID
	UsageSuperseded = "superseded" // replaced by a correction
)

// UsageRecord is one reported number: the usage of one metric of one contract
// service for one period. Values are exact decimals as text (for example
// "1073741824" bytes and "1" GB), never floats, so billing cannot drift.
type UsageRecord struct {
	ID                int64
	ContractServiceID int64
	PeriodStart       time.Time
	PeriodEnd         time.Time
	Metric            string // offering item or storage metric, e.g. "class2_billed"
	Revision          int    // 1 for the original; corrections count up
	RawValue          string
	RawUnit           string
	BilledValue       string
	BilledUnit        string
	Rounding          string          // the rule that turned RawValue into BilledValue
	Samples           json.RawMessage // the Acronis usage samples it was computed from
	AdjustmentID      *int64          // Autotask adjustment once reported
	State             string
	Reason            string // why this correction was made
	Supersedes        *int64 // the row this correction replaces
	CreatedAt         time.Time
	ReportedAt        *time.Time
	// Source says where the number came from (usage.Source as JSON): a
	// billing report's stored copy, or live usage samples.
	Source json.RawMessage
	// Estimate marks a number read from Acronis' live usage, which Acronis
	// says is not for billing: a billing report settles it later.
	Estimate bool
}

// UsageFilter selects ledger rows; zero fields do not filter.
type UsageFilter struct {
	ContractServiceID *int64
	Metric            string
	State             string
	From              time.Time // period_start >= From
	To                time.Time // period_end <= To
	Limit             int       // default 500, at most 5000
}

const usageColumns = `id, contract_service_id, period_start, period_end, metric, revision, raw_value::text, raw_unit,
	billed_value::text, billed_unit, rounding, samples, adjustment_id, state, reason, supersedes, created_at, reported_at,
	source, estimate`

func scanUsage(r pgx.Row) (UsageRecord, error) {
	var u UsageRecord
	err := r.Scan(&u.ID, &u.ContractServiceID, &u.PeriodStart, &u.PeriodEnd, &u.Metric, &u.Revision, &u.RawValue,
		&u.RawUnit, &u.BilledValue, &u.BilledUnit, &u.Rounding, &u.Samples, &u.AdjustmentID, &u.State, &u.Reason,
		&u.Supersedes, &u.CreatedAt, &u.ReportedAt, &u.Source, &u.Estimate)
	return u, err
}

func (u UsageRecord) key() string {
	return fmt.Sprintf("contract service %d %s [%s, %s)", u.ContractServiceID, u.Metric,
		u.PeriodStart.UTC().Format(time.RFC3339), u.PeriodEnd.UTC().Format(time.RFC3339))
}

// RecordUsage records the usage of one period as revision 1. Recording the same
// values again returns the existing row and adds nothing, so a retried report
// never double-bills; different values for a recorded period are ErrConflict
// (use CorrectUsage).
func (s *Store) RecordUsage(ctx context.Context, u UsageRecord) (UsageRecord, error) {
	return s.recordUsage(ctx, u, "")
}

// CorrectUsage records new values for a period: when they differ from the
// current row, that row becomes superseded and a new revision carrying reason
// replaces it. The same values again return the current row unchanged.
func (s *Store) CorrectUsage(ctx context.Context, u UsageRecord, reason string) (UsageRecord, error) {
	if reason == "" {
		return UsageRecord{}, fmt.Errorf("correct usage of %s: %w", u.key(), invalidf("a correction needs a reason"))
	}
	return s.recordUsage(ctx, u, reason)
}

func (s *Store) recordUsage(ctx context.Context, u UsageRecord, correction string) (UsageRecord, error) {
	what := "record usage of " + u.key()
	if correction != "" {
		what = "correct usage of " + u.key()
	}
	samples := u.Samples
	if len(samples) == 0 {
		samples = json.RawMessage("[]")
	}
	source := u.Source
	if len(source) == 0 {
		source = json.RawMessage("{}")
	}
	var saved UsageRecord
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		// Writers of the same key queue here, so each one reads the row the
		// previous one committed.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "usage_ledger/"+u.key()); err != nil {
			return fmt.Errorf("lock the period: %w", err)
		}
		var same bool
		cur, err := scanUsageSame(tx.QueryRow(ctx, `SELECT `+usageColumns+`,
				raw_value = $5::numeric AND raw_unit = $6 AND billed_value = $7::numeric AND billed_unit = $8
			FROM usage_ledger
			WHERE contract_service_id = $1 AND period_start = $2 AND period_end = $3 AND metric = $4
				AND state <> 'superseded'`,
			u.ContractServiceID, u.PeriodStart, u.PeriodEnd, u.Metric, u.RawValue, u.RawUnit, u.BilledValue, u.BilledUnit), &same)
		found := err == nil
		if err != nil && !noRows(err) {
			return err
		}
		switch {
		case found && same:
			saved = cur
			return nil
		case found && correction == "":
			return fmt.Errorf("%w: revision %d holds %s %s (billed %s %s); record a correction to change it",
				ErrConflict, cur.Revision, cur.RawValue, cur.RawUnit, cur.BilledValue, cur.BilledUnit)
		}
		revision, supersedes := 1, (*int64)(nil)
		if found {
			if _, err := tx.Exec(ctx, `UPDATE usage_ledger SET state = 'superseded' WHERE id = $1`, cur.ID); err != nil {
				return fmt.Errorf("supersede revision %d: %w", cur.Revision, err)
			}
			revision, supersedes = cur.Revision+1, &cur.ID
		}
		saved, err = scanUsage(tx.QueryRow(ctx, `
			INSERT INTO usage_ledger (contract_service_id, period_start, period_end, metric, revision, raw_value,
				raw_unit, billed_value, billed_unit, rounding, samples, reason, supersedes, source, estimate)
			VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8::numeric, $9, $10, $11, $12, $13, $14, $15)
			RETURNING `+usageColumns,
			u.ContractServiceID, u.PeriodStart, u.PeriodEnd, u.Metric, revision, u.RawValue, u.RawUnit,
			u.BilledValue, u.BilledUnit, u.Rounding, string(samples), correction, supersedes, string(source), u.Estimate))
		return err
	})
	if err != nil {
		return UsageRecord{}, err
	}
	return saved, nil
}

func scanUsageSame(r pgx.Row, same *bool) (UsageRecord, error) {
	var u UsageRecord
	err := r.Scan(&u.ID, &u.ContractServiceID, &u.PeriodStart, &u.PeriodEnd, &u.Metric, &u.Revision, &u.RawValue,
		&u.RawUnit, &u.BilledValue, &u.BilledUnit, &u.Rounding, &u.Samples, &u.AdjustmentID, &u.State, &u.Reason,
		&u.Supersedes, &u.CreatedAt, &u.ReportedAt, &u.Source, &u.Estimate, same)
	return u, err
}

// ConfirmUsage records that a billing report found the same number as row
// id: the row keeps its values and revision (nothing to bill again) and now
// names the report as its source and is no longer an estimate. Superseded
// rows are left alone; ErrNotFound when id does not exist.
func (s *Store) ConfirmUsage(ctx context.Context, id int64, source json.RawMessage, samples json.RawMessage) (UsageRecord, error) {
	what := fmt.Sprintf("confirm usage %d", id)
	if len(samples) == 0 {
		samples = json.RawMessage("[]")
	}
	u, err := scanUsage(s.pool.QueryRow(ctx, `
		UPDATE usage_ledger SET source = $2, samples = $3, estimate = false
		WHERE id = $1 AND state <> 'superseded'
		RETURNING `+usageColumns, id, string(source), string(samples)))
	if noRows(err) {
		cur, gerr := s.GetUsage(ctx, id)
		if gerr != nil {
			return UsageRecord{}, fmt.Errorf("%s: %w", what, gerr)
		}
		return cur, nil
	}
	if err != nil {
		return UsageRecord{}, wrap(what, err)
	}
	return u, nil
}

// MarkReported records that row id was written to Autotask as adjustmentID.
// Repeating it with the same adjustment is harmless; a row already reported as
// another adjustment is ErrConflict. A superseded row keeps its state but
// still records the adjustment, because Autotask has it.
func (s *Store) MarkReported(ctx context.Context, id, adjustmentID int64) (UsageRecord, error) {
	what := fmt.Sprintf("mark usage %d reported as adjustment %d", id, adjustmentID)
	u, err := scanUsage(s.pool.QueryRow(ctx, `
		UPDATE usage_ledger SET adjustment_id = $2, reported_at = now(),
			state = CASE WHEN state = 'pending' THEN 'reported' ELSE state END
		WHERE id = $1 AND adjustment_id IS NULL
		RETURNING `+usageColumns, id, adjustmentID))
	if noRows(err) {
		cur, err := s.GetUsage(ctx, id)
		if err != nil {
			return UsageRecord{}, fmt.Errorf("%s: %w", what, err)
		}
		if cur.AdjustmentID == nil {
			return UsageRecord{}, fmt.Errorf("%s: %w: the row changed meanwhile", what, ErrConflict)
		}
		if *cur.AdjustmentID == adjustmentID {
			return cur, nil
		}
		return UsageRecord{}, fmt.Errorf("%s: %w: already reported as adjustment %d", what, ErrConflict, *cur.AdjustmentID)
	}
	if err != nil {
		return UsageRecord{}, wrap(what, err)
	}
	return u, nil
}

// GetUsage returns one ledger row, or ErrNotFound.
func (s *Store) GetUsage(ctx context.Context, id int64) (UsageRecord, error) {
	u, err := scanUsage(s.pool.QueryRow(ctx, `SELECT `+usageColumns+` FROM usage_ledger WHERE id = $1`, id))
	if err != nil {
		return UsageRecord{}, wrap(fmt.Sprintf("read usage %d", id), err)
	}
	return u, nil
}

// ListUsage returns ledger rows matching f ordered by period, metric and
// revision, so a period's history reads top to bottom.
func (s *Store) ListUsage(ctx context.Context, f UsageFilter) ([]UsageRecord, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	if limit > 5000 {
		limit = 5000
	}
	var c conditions
	if f.ContractServiceID != nil {
		c.add("contract_service_id = ?", *f.ContractServiceID)
	}
	if f.Metric != "" {
		c.add("metric = ?", f.Metric)
	}
	if f.State != "" {
		c.add("state = ?", f.State)
	}
	if !f.From.IsZero() {
		c.add("period_start >= ?", f.From)
	}
	if !f.To.IsZero() {
		c.add("period_end <= ?", f.To)
	}
	sql := `SELECT ` + usageColumns + ` FROM usage_ledger` + c.clause() +
		` ORDER BY period_start, contract_service_id, metric, revision LIMIT ` + c.param(limit)
	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return nil, wrap("list usage", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UsageRecord, error) { return scanUsage(r) })
	if err != nil {
		return nil, wrap("list usage", err)
	}
	return out, nil
}

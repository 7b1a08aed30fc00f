package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Unit row kinds: ContractServiceUnits and ContractServiceBundleUnits.
const (
	UnitRowService = "service"
	UnitRowBundle  = "bundle"
)

// UnitRow is one Autotask unit row as the contract sync last saw it.
type UnitRow struct {
	ID         int64
	ContractID int64
	ItemID     int64
	Units      int64
	Start, End time.Time
}

// Same reports whether two sightings of a row say the same thing.
func (r UnitRow) Same(o UnitRow) bool {
	return r.ContractID == o.ContractID && r.ItemID == o.ItemID && r.Units == o.Units && r.Start.Equal(o.Start) && r.End.Equal(o.End)
}

// UnitRows returns the stored rows of kind among ids.
func (s *Store) UnitRows(ctx context.Context, kind string, ids []int64) (map[int64]UnitRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, contract_id, item_id, units, coalesce(start_date, 'epoch'), coalesce(end_date, 'epoch')
		FROM autotask_unit_rows WHERE kind = $1 AND id = ANY($2)`, kind, ids)
	if err != nil {
		return nil, wrap("read unit rows", err)
	}
	out := make(map[int64]UnitRow, len(ids))
	for rows.Next() {
		var r UnitRow
		if err := rows.Scan(&r.ID, &r.ContractID, &r.ItemID, &r.Units, &r.Start, &r.End); err != nil {
			return nil, wrap("read unit rows", err)
		}
		out[r.ID] = r
	}
	return out, wrap("read unit rows", rows.Err())
}

// SaveUnitRows records rows as seen in cycle, in one batch.
func (s *Store) SaveUnitRows(ctx context.Context, kind string, rows []UnitRow, cycle int64) error {
	if len(rows) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range rows {
		b.Queue(`INSERT INTO autotask_unit_rows (kind, id, contract_id, item_id, units, start_date, end_date, seen_cycle)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (kind, id) DO UPDATE SET contract_id = excluded.contract_id, item_id = excluded.item_id,
				units = excluded.units, start_date = excluded.start_date, end_date = excluded.end_date, seen_cycle = excluded.seen_cycle`,
			kind, r.ID, r.ContractID, r.ItemID, r.Units, nullTime(r.Start), nullTime(r.End), cycle)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return wrap(fmt.Sprintf("save %d unit rows", len(rows)), err)
	}
	return nil
}

// RemoveUnseenUnitRows deletes the rows of kind a full scan did not see
// (their contract service is gone) and returns them, so their contracts are re-read.
func (s *Store) RemoveUnseenUnitRows(ctx context.Context, kind string, cycle int64) ([]UnitRow, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM autotask_unit_rows WHERE kind = $1 AND seen_cycle < $2
		RETURNING id, contract_id, item_id, units`, kind, cycle)
	if err != nil {
		return nil, wrap("remove unseen unit rows", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnitRow, error) {
		var u UnitRow
		err := r.Scan(&u.ID, &u.ContractID, &u.ItemID, &u.Units)
		return u, err
	})
	return out, wrap("remove unseen unit rows", err)
}

// SnapshotFingerprints returns the fingerprint of the last snapshot sent for each company.
func (s *Store) SnapshotFingerprints(ctx context.Context, companyIDs []int64) (map[int64]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT company_id, fingerprint FROM company_snapshots WHERE company_id = ANY($1)`, companyIDs)
	if err != nil {
		return nil, wrap("read snapshot fingerprints", err)
	}
	out := make(map[int64]string, len(companyIDs))
	for rows.Next() {
		var id int64
		var fp string
		if err := rows.Scan(&id, &fp); err != nil {
			return nil, wrap("read snapshot fingerprints", err)
		}
		out[id] = fp
	}
	return out, wrap("read snapshot fingerprints", rows.Err())
}

// SaveSnapshotFingerprint records that a company's snapshot was delivered,
// with its contracts (JSON) for CompanyContracts.
func (s *Store) SaveSnapshotFingerprint(ctx context.Context, companyID int64, fingerprint string, contracts json.RawMessage, at time.Time) error {
	var doc any
	if len(contracts) > 0 {
		doc = contracts
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO company_snapshots (company_id, fingerprint, contracts, observed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (company_id) DO UPDATE SET fingerprint = excluded.fingerprint, contracts = excluded.contracts, observed_at = excluded.observed_at`,
		companyID, fingerprint, doc, at)
	return wrap(fmt.Sprintf("save snapshot fingerprint of company %d", companyID), err)
}

// CompanyContracts returns the contracts (JSON) of the company's last
// delivered snapshot, or ErrNotFound when the contract sync has recorded none.
func (s *Store) CompanyContracts(ctx context.Context, companyID int64) (json.RawMessage, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT contracts FROM company_snapshots WHERE company_id = $1 AND contracts IS NOT NULL`, companyID).Scan(&raw)
	if err != nil {
		return nil, wrap(fmt.Sprintf("read contracts of company %d", companyID), err)
	}
	return raw, nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// How a customer mapping came to be.
const (
	MappedManually      = "manual"
	MappedAutomatically = "automatic"
)

// CustomerMapping links one Autotask company to one Acronis customer tenant by
// id (names are display-only, so renames never break it), with the customer's
// last known state for the customers list.
type CustomerMapping struct {
	CompanyID int64     `json:"companyId"`
	TenantID  string    `json:"tenantId"`
	How       string    `json:"how"`   // MappedManually or MappedAutomatically
	State     string    `json:"state"` // customer workflow state; "mapped" when new
	LastError string    `json:"lastError,omitempty"`
	MappedAt  time.Time `json:"mappedAt"`
	MappedBy  string    `json:"mappedBy"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// CustomerMappingFilter selects mappings; zero fields do not filter. The
// customers list passes the company ids of the Autotask page it shows and
// joins the result in memory.
type CustomerMappingFilter struct {
	CompanyIDs []int64
	TenantIDs  []string
	State      string
	How        string
	WithError  bool // only mappings whose last error is set
}

const customerMappingColumns = `company_id, tenant_id, how, state, last_error, mapped_at, mapped_by, updated_at`

func scanCustomerMapping(r pgx.Row) (CustomerMapping, error) {
	var m CustomerMapping
	err := r.Scan(&m.CompanyID, &m.TenantID, &m.How, &m.State, &m.LastError, &m.MappedAt, &m.MappedBy, &m.UpdatedAt)
	return m, err
}

// MapCustomer links company m.CompanyID to tenant m.TenantID. Repeating an
// existing identical mapping returns it unchanged (so retried activities are
// harmless); if either side is already mapped elsewhere it returns ErrConflict.
func (s *Store) MapCustomer(ctx context.Context, m CustomerMapping, actor Actor) (CustomerMapping, error) {
	what := fmt.Sprintf("map company %d to tenant %s", m.CompanyID, m.TenantID)
	if m.How == "" {
		m.How = MappedManually
	}
	if m.State == "" {
		m.State = "mapped"
	}
	var saved CustomerMapping
	err := s.inTx(ctx, what, func(tx pgx.Tx) error {
		var err error
		saved, err = scanCustomerMapping(tx.QueryRow(ctx, `
			INSERT INTO customer_mappings (company_id, tenant_id, how, state, last_error, mapped_by)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING
			RETURNING `+customerMappingColumns,
			m.CompanyID, m.TenantID, m.How, m.State, m.LastError, actor.Name))
		if noRows(err) {
			existing, err := scanCustomerMapping(tx.QueryRow(ctx, `SELECT `+customerMappingColumns+`
				FROM customer_mappings WHERE company_id = $1 OR tenant_id = $2 ORDER BY company_id = $1 DESC LIMIT 1`,
				m.CompanyID, m.TenantID))
			if err != nil {
				return fmt.Errorf("read the clashing mapping: %w", err)
			}
			if existing.CompanyID == m.CompanyID && existing.TenantID == m.TenantID {
				saved = existing
				return nil
			}
			return fmt.Errorf("%w: company %d is mapped to tenant %s", ErrConflict, existing.CompanyID, existing.TenantID)
		}
		if err != nil {
			return err
		}
		_, err = AppendAuditTx(ctx, tx, AuditEntry{Kind: KindCustomerMappingCreate, System: SystemAdmin,
			CompanyID: &saved.CompanyID, TenantID: &saved.TenantID,
			Target: "customer-mapping/" + strconv.FormatInt(saved.CompanyID, 10), After: mustJSON(saved)}.WithActor(actor))
		return err
	})
	if err != nil {
		return CustomerMapping{}, err
	}
	return saved, nil
}

// UnmapCustomer removes the mapping of a company (ErrNotFound when it has
// none) and audits it with the removed mapping as the before document.
func (s *Store) UnmapCustomer(ctx context.Context, companyID int64, actor Actor) error {
	what := fmt.Sprintf("unmap company %d", companyID)
	return s.inTx(ctx, what, func(tx pgx.Tx) error {
		before, err := scanCustomerMapping(tx.QueryRow(ctx, `DELETE FROM customer_mappings WHERE company_id = $1
			RETURNING `+customerMappingColumns, companyID))
		if err != nil {
			return err
		}
		_, err = AppendAuditTx(ctx, tx, AuditEntry{Kind: KindCustomerMappingDelete, System: SystemAdmin,
			CompanyID: &before.CompanyID, TenantID: &before.TenantID,
			Target: "customer-mapping/" + strconv.FormatInt(companyID, 10), Before: mustJSON(before)}.WithActor(actor))
		return err
	})
}

// SetCustomerState records the customer workflow's state and last error
// ("" clears it) so the customers list shows them without asking Temporal.
func (s *Store) SetCustomerState(ctx context.Context, companyID int64, state, lastError string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE customer_mappings SET state = $2, last_error = $3, updated_at = now()
		WHERE company_id = $1`, companyID, state, lastError)
	if err != nil {
		return wrap(fmt.Sprintf("set state of company %d", companyID), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set state of company %d: %w", companyID, ErrNotFound)
	}
	return nil
}

// CustomerMappingByCompany returns the mapping of an Autotask company, or
// ErrNotFound when it is unmapped.
func (s *Store) CustomerMappingByCompany(ctx context.Context, companyID int64) (CustomerMapping, error) {
	m, err := scanCustomerMapping(s.pool.QueryRow(ctx, `SELECT `+customerMappingColumns+`
		FROM customer_mappings WHERE company_id = $1`, companyID))
	if err != nil {
		return CustomerMapping{}, wrap(fmt.Sprintf("read mapping of company %d", companyID), err)
	}
	return m, nil
}

// CustomerMappingByTenant returns the mapping of an Acronis tenant, or
// ErrNotFound when it is unmapped.
func (s *Store) CustomerMappingByTenant(ctx context.Context, tenantID string) (CustomerMapping, error) {
	m, err := scanCustomerMapping(s.pool.QueryRow(ctx, `SELECT `+customerMappingColumns+`
		FROM customer_mappings WHERE tenant_id = $1`, tenantID))
	if err != nil {
		return CustomerMapping{}, wrap(fmt.Sprintf("read mapping of tenant %s", tenantID), err)
	}
	return m, nil
}

// ListCustomerMappings returns the mappings matching f ordered by company id.
func (s *Store) ListCustomerMappings(ctx context.Context, f CustomerMappingFilter) ([]CustomerMapping, error) {
	var c conditions
	if f.CompanyIDs != nil {
		c.add("company_id = ANY(?)", f.CompanyIDs)
	}
	if f.TenantIDs != nil {
		c.add("tenant_id = ANY(?)", f.TenantIDs)
	}
	if f.State != "" {
		c.add("state = ?", f.State)
	}
	if f.How != "" {
		c.add("how = ?", f.How)
	}
	if f.WithError {
		c.add("last_error <> ''")
	}
	sql := `SELECT ` + customerMappingColumns + ` FROM customer_mappings` + c.clause()
	sql += " ORDER BY company_id"
	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return nil, wrap("list customer mappings", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CustomerMapping, error) { return scanCustomerMapping(r) })
	if err != nil {
		return nil, wrap("list customer mappings", err)
	}
	return out, nil
}

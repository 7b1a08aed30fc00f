package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
	"github.com/acronis-autotask/acronis-autotask/internal/suggest"
)

// TenantSyncCursor names the sync_cursors row the tenant sync writes after
// each complete listing; until it exists, mapping health is "unknown"
// rather than "missing" for tenants not seen yet.
const TenantSyncCursor = "acronis.tenants"

// CompanyRecord is what the contract sync's company poll saw of a company.
// ContactKnown says the primary contact was read (empty then means none).
type CompanyRecord struct {
	ID           int64
	Name         string
	Type         int
	TypeLabel    string
	Active       bool
	ContactKnown bool
	ContactName  string
	ContactEmail string
	ModifiedAt   time.Time
}

// SaveCompanies upserts companies into the read model in one batch; the
// contract summary is left as the last snapshot set it.
func (s *Store) SaveCompanies(ctx context.Context, cs []CompanyRecord, at time.Time) error {
	if len(cs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, c := range cs {
		key := suggest.Normalize(c.Name)
		b.Queue(`INSERT INTO rm_companies (company_id, name, name_key, initials, company_type, company_type_label, active,
				contact_name, contact_email, email_domain, modified_at, synced_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (company_id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, initials = excluded.initials,
				company_type = excluded.company_type, company_type_label = excluded.company_type_label, active = excluded.active,
				contact_name = CASE WHEN $13 THEN excluded.contact_name ELSE rm_companies.contact_name END,
				contact_email = CASE WHEN $13 THEN excluded.contact_email ELSE rm_companies.contact_email END,
				email_domain = CASE WHEN $13 THEN excluded.email_domain ELSE rm_companies.email_domain END,
				modified_at = excluded.modified_at, synced_at = excluded.synced_at,
				suggestions_stale = rm_companies.suggestions_stale OR rm_companies.name_key <> excluded.name_key
					OR ($13 AND rm_companies.email_domain <> excluded.email_domain)`,
			c.ID, c.Name, key, suggest.Initials(key), c.Type, c.TypeLabel, c.Active,
			c.ContactName, c.ContactEmail, suggest.EmailDomain(c.ContactEmail), nullTime(c.ModifiedAt), at, c.ContactKnown)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return wrap(fmt.Sprintf("save %d companies in the read model", len(cs)), err)
	}
	return nil
}

// CompanyContracts is a snapshot's contribution to the read model: the
// eligible contracts and, when read with them, the primary contact.
type CompanyContractsRecord struct {
	CompanyID    int64
	Name         string
	Active       bool
	Eligible     int
	Contracts    []readmodel.ContractSummary
	ContactKnown bool
	ContactName  string
	ContactEmail string
}

// SaveCompanyContracts records the contract summaries of delivered
// snapshots, creating the company row if the company poll has not yet.
func (s *Store) SaveCompanyContracts(ctx context.Context, rs []CompanyContractsRecord, at time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range rs {
		summary := r.Contracts
		if summary == nil {
			summary = []readmodel.ContractSummary{}
		}
		raw, err := json.Marshal(summary)
		if err != nil {
			return fmt.Errorf("encode contract summary of company %d: %w", r.CompanyID, err)
		}
		key := suggest.Normalize(r.Name)
		b.Queue(`INSERT INTO rm_companies (company_id, name, name_key, initials, active, contact_name, contact_email, email_domain,
				eligible_contracts, contracts, synced_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (company_id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, initials = excluded.initials,
				active = excluded.active, eligible_contracts = excluded.eligible_contracts, contracts = excluded.contracts,
				contact_name = CASE WHEN $12 THEN excluded.contact_name ELSE rm_companies.contact_name END,
				contact_email = CASE WHEN $12 THEN excluded.contact_email ELSE rm_companies.contact_email END,
				email_domain = CASE WHEN $12 THEN excluded.email_domain ELSE rm_companies.email_domain END,
				synced_at = excluded.synced_at,
				suggestions_stale = rm_companies.suggestions_stale OR rm_companies.name_key <> excluded.name_key
					OR ($12 AND rm_companies.email_domain <> excluded.email_domain)`,
			r.CompanyID, r.Name, key, suggest.Initials(key), r.Active, r.ContactName, r.ContactEmail, suggest.EmailDomain(r.ContactEmail),
			r.Eligible, string(raw), at, r.ContactKnown)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return wrap(fmt.Sprintf("save contract summaries of %d companies", len(rs)), err)
	}
	return nil
}

// SaveTenants upserts tenants seen by listing run; a tenant seen again after
// being marked deleted is live again. It returns how many tenants are new or
// changed in what suggestions weigh (name, e-mail domain, tag, customer_id).
func (s *Store) SaveTenants(ctx context.Context, ts []readmodel.Tenant, run int64, at time.Time) (int, error) {
	if len(ts) == 0 {
		return 0, nil
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, name_key || '|' || email_domain || '|' || internal_tag || '|' || customer_ref
		FROM rm_tenants WHERE tenant_id = ANY($1) AND deleted_at IS NULL`, ids)
	if err != nil {
		return 0, wrap("read known tenants", err)
	}
	known := map[string]string{}
	for rows.Next() {
		var id, sig string
		if err := rows.Scan(&id, &sig); err != nil {
			return 0, wrap("read known tenants", err)
		}
		known[id] = sig
	}
	if err := rows.Err(); err != nil {
		return 0, wrap("read known tenants", err)
	}
	changed := 0
	for _, t := range ts {
		sig := suggest.Normalize(t.Name) + "|" + suggest.EmailDomain(t.ContactEmail) + "|" + t.InternalTag + "|" + t.CustomerRef
		if known[t.ID] != sig {
			changed++
		}
	}
	b := &pgx.Batch{}
	for _, t := range ts {
		key := suggest.Normalize(t.Name)
		b.Queue(`INSERT INTO rm_tenants (tenant_id, name, name_key, initials, kind, parent_id, enabled, contact_email, email_domain,
				self_service, internal_tag, customer_ref, acronis_updated_at, deleted_at, seen_run, synced_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, $14, $15)
			ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, initials = excluded.initials,
				kind = excluded.kind, parent_id = excluded.parent_id, enabled = excluded.enabled, contact_email = excluded.contact_email,
				email_domain = excluded.email_domain, self_service = excluded.self_service, internal_tag = excluded.internal_tag,
				customer_ref = excluded.customer_ref, acronis_updated_at = excluded.acronis_updated_at, deleted_at = NULL,
				seen_run = excluded.seen_run, synced_at = excluded.synced_at`,
			t.ID, t.Name, key, suggest.Initials(key), t.Kind, t.ParentID, t.Enabled, t.ContactEmail, suggest.EmailDomain(t.ContactEmail),
			t.SelfService, t.InternalTag, t.CustomerRef, nullTime(t.UpdatedAt), run, at)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return 0, wrap(fmt.Sprintf("save %d tenants in the read model", len(ts)), err)
	}
	return changed, nil
}

// MarkSuggestionsStale makes every company's suggestions due for
// recomputation, after tenants appeared or changed.
func (s *Store) MarkSuggestionsStale(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `UPDATE rm_companies SET suggestions_stale = true WHERE NOT suggestions_stale`)
	return wrap("mark suggestions stale", err)
}

// RefreshSuggestions recomputes the stored suggestions of up to limit active,
// unmapped companies whose suggestions are stale, and returns how many it
// did and how many remain. Mapped companies stay stale, so they are
// recomputed if they are ever unmapped.
func (s *Store) RefreshSuggestions(ctx context.Context, limit int) (done, remaining int, err error) {
	const due = `suggestions_stale AND active AND NOT EXISTS (SELECT 1 FROM customer_mappings m WHERE m.company_id = rm_companies.company_id)`
	rows, err := s.pool.Query(ctx, `SELECT company_id, name, name_key, initials, email_domain FROM rm_companies WHERE `+due+`
		ORDER BY company_id LIMIT $1`, limit)
	if err != nil {
		return 0, 0, wrap("list stale suggestions", err)
	}
	companies, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (suggest.Company, error) {
		var c suggest.Company
		err := r.Scan(&c.ID, &c.Name, &c.Key, &c.Initials, &c.Domain)
		return c, err
	})
	if err != nil {
		return 0, 0, wrap("list stale suggestions", err)
	}
	if len(companies) > 0 {
		got, err := s.Suggestions(ctx, companies)
		if err != nil {
			return 0, 0, err
		}
		ids := make([]int64, len(companies))
		for i, c := range companies {
			ids[i] = c.ID
		}
		err = s.inTx(ctx, "store suggestions", func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM rm_suggestions WHERE company_id = ANY($1)`, ids); err != nil {
				return err
			}
			var rows [][]any
			for _, c := range companies {
				for rank, sg := range got[c.ID] {
					reasons, err := json.Marshal(sg.Reasons)
					if err != nil {
						return err
					}
					rows = append(rows, []any{c.ID, sg.TenantID, rank, sg.TenantName, float32(sg.Confidence), string(reasons)})
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rm_suggestions"},
				[]string{"company_id", "tenant_id", "rank", "tenant_name", "confidence", "reasons"}, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE rm_companies SET suggestions_stale = false WHERE company_id = ANY($1)`, ids)
			return err
		})
		if err != nil {
			return 0, 0, err
		}
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM rm_companies WHERE `+due).Scan(&remaining); err != nil {
		return len(companies), 0, wrap("count stale suggestions", err)
	}
	return len(companies), remaining, nil
}

// StoredSuggestions returns the precomputed suggestions of companies,
// leaving out tenants mapped or deleted since they were computed.
func (s *Store) StoredSuggestions(ctx context.Context, companyIDs []int64) (map[int64][]suggest.Suggestion, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.company_id, s.tenant_id, t.name, s.confidence, s.reasons
		FROM rm_suggestions s JOIN rm_tenants t ON t.tenant_id = s.tenant_id
		WHERE s.company_id = ANY($1) AND t.deleted_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM customer_mappings m WHERE m.tenant_id = s.tenant_id)
		ORDER BY s.company_id, s.rank`, companyIDs)
	if err != nil {
		return nil, wrap("read suggestions", err)
	}
	defer rows.Close()
	out := map[int64][]suggest.Suggestion{}
	for rows.Next() {
		var id int64
		var sg suggest.Suggestion
		var conf float32
		var reasons []byte
		if err := rows.Scan(&id, &sg.TenantID, &sg.TenantName, &conf, &reasons); err != nil {
			return nil, wrap("read suggestions", err)
		}
		sg.Confidence = math.Round(float64(conf)*100) / 100
		if err := json.Unmarshal(reasons, &sg.Reasons); err != nil {
			return nil, fmt.Errorf("read suggestions of company %d: %w", id, err)
		}
		out[id] = append(out[id], sg)
	}
	return out, wrap("read suggestions", rows.Err())
}

// MarkUnseenTenantsDeleted marks the tenants a complete listing (run) did
// not show as deleted, and records the listing in the tenant sync cursor.
// It returns how many were newly marked.
func (s *Store) MarkUnseenTenantsDeleted(ctx context.Context, run int64, at time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, "mark unseen tenants deleted", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE rm_tenants SET deleted_at = $2 WHERE seen_run < $1 AND deleted_at IS NULL`, run, at)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `INSERT INTO sync_cursors (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()`,
			TenantSyncCursor, fmt.Sprintf(`{"run": %d, "at": %q}`, run, at.UTC().Format(time.RFC3339)))
		return err
	})
	if err != nil {
		return 0, err
	}
	// A first listing loads thousands of tenants at once. Until autovacuum
	// analyzes them the planner takes the table for nearly empty and lists
	// mappable tenants with a nested loop per tenant (4× slower at 10,000,
	// BENCHMARKS.md); fresh statistics after each complete listing avoid that.
	if _, err := s.pool.Exec(ctx, `ANALYZE rm_tenants`); err != nil {
		return int(n), wrap("analyze the tenants", err)
	}
	return int(n), nil
}

// TenantsToProbe returns up to limit manageable-looking tenants whose
// support access was never probed or was probed before olderThan, oldest first.
func (s *Store) TenantsToProbe(ctx context.Context, limit int, olderThan time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT tenant_id FROM rm_tenants
		WHERE deleted_at IS NULL AND kind IN ('customer', 'partner') AND NOT self_service
			AND (support_checked_at IS NULL OR support_checked_at < $2)
		ORDER BY support_checked_at NULLS FIRST, tenant_id LIMIT $1`, limit, olderThan)
	if err != nil {
		return nil, wrap("list tenants to probe", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("list tenants to probe", err)
}

// SetSupportAccess records the result of probing a tenant's support access.
func (s *Store) SetSupportAccess(ctx context.Context, tenantID string, allowed bool, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE rm_tenants SET support_access = $2, support_checked_at = $3 WHERE tenant_id = $1`, tenantID, allowed, at)
	return wrap(fmt.Sprintf("record support access of tenant %s", tenantID), err)
}

// flagsSQL says whether the tenant sync has completed a listing (synced).
const flagsSQL = `WITH flags AS (SELECT EXISTS (SELECT 1 FROM sync_cursors WHERE name = '` + TenantSyncCursor + `') AS synced)`

// healthSQL classifies the mapping of a row of rm_companies c, customer_mappings m
// and rm_tenants t; synced says the tenant sync has completed a listing.
const healthSQL = `CASE
	WHEN m.company_id IS NULL THEN NULL
	WHEN t.tenant_id IS NULL AND NOT synced THEN 'unknown'
	WHEN t.tenant_id IS NULL OR t.deleted_at IS NOT NULL THEN 'missing'
	WHEN c.company_id IS NULL OR NOT c.active THEN 'missing'
	WHEN t.self_service OR t.support_access = false OR t.kind NOT IN ('customer', 'partner') OR m.state = 'invalid' THEN 'invalid'
	WHEN t.name_key <> c.name_key THEN 'renamed'
	ELSE 'ok' END`

// healthReasonSQL says in words why a mapping is not ok.
const healthReasonSQL = `CASE
	WHEN m.company_id IS NULL THEN ''
	WHEN t.tenant_id IS NULL AND NOT synced THEN 'the Acronis tenants have not been read yet'
	WHEN t.tenant_id IS NULL OR t.deleted_at IS NOT NULL THEN 'the tenant no longer exists in Acronis'
	WHEN c.company_id IS NULL OR NOT c.active THEN 'the company is inactive in Autotask'
	WHEN t.self_service THEN 'the tenant is in self-service mode'
	WHEN t.support_access = false THEN 'the tenant refuses support access'
	WHEN t.kind NOT IN ('customer', 'partner') THEN 'the tenant is a ' || t.kind || ', not a customer'
	WHEN m.state = 'invalid' THEN 'the company''s contracts cannot be applied'
	WHEN t.name_key <> c.name_key THEN 'the company is called "' || c.name || '" and the tenant "' || t.name || '"'
	ELSE '' END`

// customerFilterSQL is the WHERE clause of each customers list filter.
var customerFilterSQL = map[string]string{
	readmodel.FilterAll:            `(c.active OR m.company_id IS NOT NULL)`,
	readmodel.FilterMapped:         `m.company_id IS NOT NULL`,
	readmodel.FilterUnmapped:       `c.active AND m.company_id IS NULL`,
	readmodel.FilterInvalid:        `m.company_id IS NOT NULL AND health = 'invalid'`,
	readmodel.FilterError:          `m.company_id IS NOT NULL AND (m.state = 'error' OR m.last_error <> '')`,
	readmodel.FilterDeprovisioning: `m.state IN ('deprovisioning', 'disabled')`,
	readmodel.FilterRenamed:        `health = 'renamed'`,
	readmodel.FilterMissing:        `health = 'missing'`,
}

var customerSortSQL = map[string]string{
	readmodel.SortName:      `lower(c.name) %s, c.company_id %[1]s`,
	readmodel.SortID:        `c.company_id %s`,
	readmodel.SortType:      `c.company_type_label %s, lower(c.name) %[1]s, c.company_id %[1]s`,
	readmodel.SortContracts: `c.eligible_contracts %s, lower(c.name) %[1]s, c.company_id %[1]s`,
}

// ListCustomers returns one page of the customers list from the read model
// and the number of matching companies.
func (s *Store) ListCustomers(ctx context.Context, q readmodel.CustomerQuery) (readmodel.Page[readmodel.CustomerRow], error) {
	where, ok := customerFilterSQL[q.Filter]
	if !ok {
		return readmodel.Page[readmodel.CustomerRow]{}, fmt.Errorf("list customers: %w", invalidf("unknown filter %q", q.Filter))
	}
	// The filters name the join's columns (m., c., health); the outer query
	// sees the CTE's columns under the same short names.
	var c conditions
	c.add(where)
	if q.Type != nil {
		c.add("c.company_type = ?", *q.Type)
	}
	if q.Text != "" {
		c.add("lower(c.name) LIKE ?", readmodel.LikePattern(q.Text))
	}
	whereSQL := c.clause()
	from := `FROM rm_companies c CROSS JOIN flags
	LEFT JOIN customer_mappings m ON m.company_id = c.company_id
	LEFT JOIN rm_tenants t ON t.tenant_id = m.tenant_id
	CROSS JOIN LATERAL (SELECT ` + healthSQL + ` AS health) h`
	countFrom := from
	if !strings.Contains(whereSQL, "health") {
		// Without a health filter the count needs neither tenants nor health.
		countFrom = `FROM rm_companies c LEFT JOIN customer_mappings m ON m.company_id = c.company_id`
	}
	page := readmodel.Page[readmodel.CustomerRow]{Items: []readmodel.CustomerRow{}}
	if err := s.pool.QueryRow(ctx, flagsSQL+` SELECT count(*) `+countFrom+whereSQL, c.args...).Scan(&page.Total); err != nil {
		return page, wrap("count customers", err)
	}
	limit := ` LIMIT ` + c.param(q.PageSize) + ` OFFSET ` + c.param((q.Page-1)*q.PageSize)
	rows, err := s.pool.Query(ctx, flagsSQL+`
	SELECT c.company_id, c.name, c.company_type, c.company_type_label, c.active, c.contact_name, c.contact_email,
		c.eligible_contracts, c.contracts, coalesce(c.modified_at, 'epoch'), c.name_key, c.initials, c.email_domain,
		m.company_id IS NOT NULL, coalesce(m.tenant_id, ''), coalesce(t.name, ''), coalesce(m.how, ''), coalesce(m.state, ''),
		coalesce(m.last_error, ''), coalesce(m.mapped_at, 'epoch'), coalesce(m.mapped_by, ''),
		coalesce(health, ''), `+healthReasonSQL+` `+from+`
	`+whereSQL+`
	ORDER BY `+orderSQL(customerSortSQL, q.Sort, q.Desc)+limit, c.args...)
	if err != nil {
		return page, wrap("list customers", err)
	}
	defer rows.Close()
	var keys []suggest.Company
	for rows.Next() {
		var r readmodel.CustomerRow
		var contracts []byte
		var key suggest.Company
		var mapped bool
		var m readmodel.Mapping
		var health string
		if err := rows.Scan(&r.ID, &r.Name, &r.Type, &r.TypeLabel, &r.Active, &r.ContactName, &r.ContactEmail,
			&r.EligibleContracts, &contracts, &r.ModifiedAt, &key.Key, &key.Initials, &key.Domain,
			&mapped, &m.TenantID, &m.TenantName, &m.How, &m.State, &m.LastError, &m.MappedAt, &m.MappedBy,
			&health, &m.HealthReason); err != nil {
			return page, wrap("list customers", err)
		}
		if err := json.Unmarshal(contracts, &r.Contracts); err != nil {
			return page, fmt.Errorf("list customers: contracts of company %d: %w", r.ID, err)
		}
		if r.ModifiedAt.Unix() == 0 {
			r.ModifiedAt = time.Time{}
		}
		if mapped {
			m.Health = readmodel.Health(health)
			r.Mapping = &m
		} else if q.Suggestions && r.Active {
			key.ID, key.Name = r.ID, r.Name
			keys = append(keys, key)
		}
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return page, wrap("list customers", err)
	}
	if len(keys) > 0 {
		ids := make([]int64, len(keys))
		for i, k := range keys {
			ids[i] = k.ID
		}
		sugg, err := s.StoredSuggestions(ctx, ids)
		if err != nil {
			return page, err
		}
		for i := range page.Items {
			if page.Items[i].Mapping == nil {
				page.Items[i].Suggestions = sugg[page.Items[i].ID]
			}
		}
	}
	return page, nil
}

// CompanyTypes returns the company type labels the read model knows, by code.
func (s *Store) CompanyTypes(ctx context.Context) (map[int]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT company_type, company_type_label FROM rm_companies WHERE company_type_label <> ''`)
	if err != nil {
		return nil, wrap("list company types", err)
	}
	out := map[int]string{}
	for rows.Next() {
		var code int
		var label string
		if err := rows.Scan(&code, &label); err != nil {
			return nil, wrap("list company types", err)
		}
		out[code] = label
	}
	return out, wrap("list company types", rows.Err())
}

// SuggestCompany returns what suggestions need of one company, or ErrNotFound.
func (s *Store) SuggestCompany(ctx context.Context, companyID int64) (suggest.Company, error) {
	c := suggest.Company{ID: companyID}
	err := s.pool.QueryRow(ctx, `SELECT name, name_key, initials, email_domain FROM rm_companies WHERE company_id = $1`, companyID).
		Scan(&c.Name, &c.Key, &c.Initials, &c.Domain)
	return c, wrap(fmt.Sprintf("read company %d from the read model", companyID), err)
}

// candidatesSQL finds the unmapped, manageable tenants linked to one company
// by any evidence suggest.Score weighs; each branch can use an index (the
// trigram GIN for %, btree for the others).
const candidatesSQL = `SELECT t.tenant_id, t.name, t.name_key, t.initials, t.email_domain, t.internal_tag, t.customer_ref,
		similarity(t.name_key, $1)
	FROM rm_tenants t
	WHERE t.tenant_id IN (
		SELECT tenant_id FROM rm_tenants WHERE name_key % $1
		UNION SELECT tenant_id FROM rm_tenants WHERE name_key = $1 OR replace(name_key, ' ', '') = $5
		UNION SELECT tenant_id FROM rm_tenants WHERE $2 <> '' AND name_key = $2
		UNION SELECT tenant_id FROM rm_tenants WHERE initials <> '' AND initials = $5
		UNION SELECT tenant_id FROM rm_tenants WHERE $3 <> '' AND email_domain <> '' AND email_domain = $3
		UNION SELECT tenant_id FROM rm_tenants WHERE internal_tag <> '' AND internal_tag = $4
		UNION SELECT tenant_id FROM rm_tenants WHERE customer_ref <> '' AND customer_ref = $6)
	AND t.deleted_at IS NULL AND t.kind IN ('customer', 'partner') AND NOT t.self_service AND t.support_access IS NOT false
	AND NOT EXISTS (SELECT 1 FROM customer_mappings m WHERE m.tenant_id = t.tenant_id)`

// Suggestions ranks the candidate tenants of each company, in one round trip.
//
// The planner prices a trigram GIN search above a sequential scan for
// names made of common words ("… Logistics"), yet the scan computes a
// similarity per tenant and is several times slower at 10,000 tenants
// (BENCHMARKS.md, "Mapping suggestions"), so the search runs with
// sequential scans disabled for its transaction.
func (s *Store) Suggestions(ctx context.Context, companies []suggest.Company) (map[int64][]suggest.Suggestion, error) {
	var out map[int64][]suggest.Suggestion
	err := s.inTx(ctx, "find candidate tenants", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		var err error
		out, err = suggestionsIn(ctx, tx, companies)
		return err
	})
	return out, err
}

func suggestionsIn(ctx context.Context, tx pgx.Tx, companies []suggest.Company) (map[int64][]suggest.Suggestion, error) {
	b := &pgx.Batch{}
	for _, c := range companies {
		b.Queue(candidatesSQL, c.Key, c.Initials, c.Domain, suggest.InternalTag(c.ID), suggest.Compact(c.Key), fmt.Sprint(c.ID))
	}
	res := tx.SendBatch(ctx, b)
	defer res.Close()
	out := make(map[int64][]suggest.Suggestion, len(companies))
	for _, c := range companies {
		rows, err := res.Query()
		if err != nil {
			return nil, wrap(fmt.Sprintf("find tenants for company %d", c.ID), err)
		}
		cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (suggest.Candidate, error) {
			var t suggest.Candidate
			var sim float32
			err := r.Scan(&t.TenantID, &t.Name, &t.Key, &t.Initials, &t.Domain, &t.InternalTag, &t.CustomerRef, &sim)
			t.Similarity = float64(sim)
			return t, err
		})
		if err != nil {
			return nil, wrap(fmt.Sprintf("find tenants for company %d", c.ID), err)
		}
		out[c.ID] = suggest.Rank(c, cands)
	}
	return out, nil
}

var tenantFilterSQL = map[string]string{
	readmodel.FilterAll:            `true`,
	readmodel.FilterMapped:         `m.company_id IS NOT NULL`,
	readmodel.FilterUnmapped:       `m.company_id IS NULL`,
	readmodel.TenantFilterMappable: `m.company_id IS NULL AND t.kind IN ('customer', 'partner') AND NOT t.self_service AND t.support_access IS NOT false`,
}

// orderSQL is the ORDER BY of a list sorted by key (a list's default, by
// name, for an unknown key), ascending or descending.
func orderSQL(sorts map[string]string, key string, desc bool) string {
	sort, ok := sorts[key]
	if !ok {
		sort = sorts[readmodel.SortName]
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	return fmt.Sprintf(sort, dir)
}

var tenantSortSQL = map[string]string{
	readmodel.SortName: `lower(t.name) %s, t.tenant_id %[1]s`,
	readmodel.SortID:   `t.tenant_id %s`,
	readmodel.SortKind: `t.kind %s, lower(t.name) %[1]s, t.tenant_id %[1]s`,
}

// ListTenants returns one page of the live tenants under the partner (the
// customers and sub-partners a company can be mapped to) with their mappings.
func (s *Store) ListTenants(ctx context.Context, q readmodel.TenantQuery) (readmodel.Page[readmodel.TenantRow], error) {
	where, ok := tenantFilterSQL[q.Filter]
	if !ok {
		return readmodel.Page[readmodel.TenantRow]{}, fmt.Errorf("list tenants: %w", invalidf("unknown filter %q", q.Filter))
	}
	var c conditions
	c.add(where)
	c.add(`t.deleted_at IS NULL`)
	c.add(`t.kind IN ('customer', 'partner')`)
	if q.Kind != "" {
		c.add("t.kind = ?", q.Kind)
	}
	if q.Text != "" {
		c.add("lower(t.name) LIKE ?", readmodel.LikePattern(q.Text))
	}
	whereSQL := c.clause()
	page := readmodel.Page[readmodel.TenantRow]{Items: []readmodel.TenantRow{}}
	countArgs := slices.Clone(c.args)
	limit := ` LIMIT ` + c.param(q.PageSize) + ` OFFSET ` + c.param((q.Page-1)*q.PageSize)
	// One pass finds the page and counts every match (the window count);
	// the mapped companies' names are read for the page's rows only.
	order := orderSQL(tenantSortSQL, q.Sort, q.Desc)
	rows, err := s.pool.Query(ctx, `SELECT t.tenant_id, t.name, t.kind, t.parent_id, t.enabled, t.contact_email, t.self_service,
			t.support_access, t.internal_tag, t.customer_ref, coalesce(t.acronis_updated_at, 'epoch'),
			t.company_id, coalesce(c.name, ''), t.total
		FROM (SELECT t.*, m.company_id, count(*) OVER () AS total
			FROM rm_tenants t
			LEFT JOIN customer_mappings m ON m.tenant_id = t.tenant_id
			`+whereSQL+`
			ORDER BY `+order+limit+`) t
		LEFT JOIN rm_companies c ON c.company_id = t.company_id
		ORDER BY `+order, c.args...)
	if err != nil {
		return page, wrap("list tenants", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r readmodel.TenantRow
		if err := rows.Scan(&r.ID, &r.Name, &r.Kind, &r.ParentID, &r.Enabled, &r.ContactEmail, &r.SelfService,
			&r.SupportAccess, &r.InternalTag, &r.CustomerRef, &r.UpdatedAt, &r.MappedCompanyID, &r.MappedCompanyName, &page.Total); err != nil {
			return page, wrap("list tenants", err)
		}
		if r.UpdatedAt.Unix() == 0 {
			r.UpdatedAt = time.Time{}
		}
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return page, wrap("list tenants", err)
	}
	if len(page.Items) == 0 && q.Page > 1 {
		// Past the last page the window count has no row to ride on.
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM rm_tenants t LEFT JOIN customer_mappings m ON m.tenant_id = t.tenant_id`+
			whereSQL, countArgs...).Scan(&page.Total); err != nil {
			return page, wrap("count tenants", err)
		}
	}
	return page, nil
}

// ReadTenant returns one tenant of the read model, or ErrNotFound.
func (s *Store) ReadTenant(ctx context.Context, id string) (readmodel.Tenant, error) {
	var t readmodel.Tenant
	var deleted *time.Time
	err := s.pool.QueryRow(ctx, `SELECT tenant_id, name, kind, parent_id, enabled, contact_email, self_service, support_access,
			internal_tag, customer_ref, coalesce(acronis_updated_at, 'epoch'), deleted_at
		FROM rm_tenants WHERE tenant_id = $1`, id).Scan(&t.ID, &t.Name, &t.Kind, &t.ParentID, &t.Enabled, &t.ContactEmail,
		&t.SelfService, &t.SupportAccess, &t.InternalTag, &t.CustomerRef, &t.UpdatedAt, &deleted)
	t.Deleted = deleted != nil
	return t, wrap(fmt.Sprintf("read tenant %s from the read model", id), err)
}

// ReadCompany returns one company of the read model, or ErrNotFound.
func (s *Store) ReadCompany(ctx context.Context, id int64) (readmodel.Company, error) {
	var c readmodel.Company
	var contracts []byte
	var modified *time.Time
	err := s.pool.QueryRow(ctx, `SELECT company_id, name, company_type, company_type_label, active, contact_name, contact_email,
			eligible_contracts, contracts, modified_at FROM rm_companies WHERE company_id = $1`, id).
		Scan(&c.ID, &c.Name, &c.Type, &c.TypeLabel, &c.Active, &c.ContactName, &c.ContactEmail, &c.EligibleContracts, &contracts, &modified)
	if err != nil {
		return c, wrap(fmt.Sprintf("read company %d from the read model", id), err)
	}
	if modified != nil {
		c.ModifiedAt = *modified
	}
	return c, json.Unmarshal(contracts, &c.Contracts)
}

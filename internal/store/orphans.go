package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
)

// taggedPrefix is the start of the internal_tag the integration writes on
// the tenants it provisions (activities.InternalTag).
const taggedPrefix = "autotask:company:"

// OrphanReport finds what the read model says is half-connected: tenants
// the integration tagged that no mapping uses, companies billed for mapped
// services without a tenant, and companies with several eligible contracts;
// each with the fix it proposes.
func (s *Store) OrphanReport(ctx context.Context) ([]readmodel.Orphan, error) {
	out := []readmodel.Orphan{}
	rows, err := s.pool.Query(ctx, `SELECT t.tenant_id, t.name, t.internal_tag, coalesce(c.company_id, 0), coalesce(c.name, ''),
			c.active IS TRUE, EXISTS (SELECT 1 FROM customer_mappings m2 WHERE m2.company_id = c.company_id)
		FROM rm_tenants t
		LEFT JOIN rm_companies c ON c.company_id::text = substr(t.internal_tag, length($1) + 1)
		WHERE t.deleted_at IS NULL AND t.internal_tag LIKE $1 || '%'
			AND NOT EXISTS (SELECT 1 FROM customer_mappings m WHERE m.tenant_id = t.tenant_id)
		ORDER BY t.name, t.tenant_id`, taggedPrefix)
	if err != nil {
		return nil, wrap("find tagged tenants without a mapping", err)
	}
	for rows.Next() {
		var o readmodel.Orphan
		var tag string
		var active, companyMapped bool
		if err := rows.Scan(&o.TenantID, &o.TenantName, &tag, &o.CompanyID, &o.CompanyName, &active, &companyMapped); err != nil {
			return nil, wrap("find tagged tenants without a mapping", err)
		}
		o.Kind = readmodel.OrphanTaggedTenant
		o.Detail = fmt.Sprintf("tenant %q carries the integration's tag %q but no company is mapped to it", o.TenantName, tag)
		switch {
		case o.CompanyID != 0 && active && !companyMapped:
			o.Fix = fmt.Sprintf("map company %d (%s) to it: PUT /api/v1/customers/%d/mapping {\"tenantId\": %q}", o.CompanyID, o.CompanyName, o.CompanyID, o.TenantID)
		case o.CompanyID != 0 && companyMapped:
			o.Fix = fmt.Sprintf("company %d is mapped to another tenant: disable and delete this one in Acronis if it is unused, or clear its internal_tag", o.CompanyID)
		default:
			o.Fix = "the tagged company is gone or inactive in Autotask: disable and delete the tenant in Acronis if it is unused, or clear its internal_tag"
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find tagged tenants without a mapping", err)
	}

	mapped := map[int64]bool{}
	srows, err := s.pool.Query(ctx, `SELECT DISTINCT autotask_service_id FROM service_mappings WHERE autotask_service_id IS NOT NULL`)
	if err != nil {
		return nil, wrap("read mapped services", err)
	}
	for srows.Next() {
		var id int64
		if err := srows.Scan(&id); err != nil {
			return nil, wrap("read mapped services", err)
		}
		mapped[id] = true
	}
	if err := srows.Err(); err != nil {
		return nil, wrap("read mapped services", err)
	}
	crows, err := s.pool.Query(ctx, `SELECT c.company_id, c.name, c.eligible_contracts, c.contracts,
			EXISTS (SELECT 1 FROM customer_mappings m WHERE m.company_id = c.company_id),
			coalesce((SELECT s.tenant_id || ' ' || s.tenant_name || ' (' || round(s.confidence::numeric, 2) || ')' FROM rm_suggestions s
				WHERE s.company_id = c.company_id ORDER BY s.rank LIMIT 1), '')
		FROM rm_companies c WHERE c.active AND c.eligible_contracts > 0 ORDER BY c.name, c.company_id`)
	if err != nil {
		return nil, wrap("find companies to report", err)
	}
	defer crows.Close()
	for crows.Next() {
		var id int64
		var name, best string
		var eligible int
		var raw []byte
		var isMapped bool
		if err := crows.Scan(&id, &name, &eligible, &raw, &isMapped, &best); err != nil {
			return nil, wrap("find companies to report", err)
		}
		var contracts []readmodel.ContractSummary
		if err := json.Unmarshal(raw, &contracts); err != nil {
			return nil, fmt.Errorf("contracts of company %d: %w", id, err)
		}
		if !isMapped && slices.ContainsFunc(contracts, func(k readmodel.ContractSummary) bool {
			return slices.ContainsFunc(k.Services, func(s int64) bool { return mapped[s] })
		}) {
			o := readmodel.Orphan{Kind: readmodel.OrphanUnmappedServices, CompanyID: id, CompanyName: name,
				Detail: fmt.Sprintf("company %q has an eligible contract with services mapped to Acronis items but no tenant", name)}
			if best != "" {
				tenantID, rest, _ := strings.Cut(best, " ")
				o.TenantID = tenantID
				o.Fix = fmt.Sprintf("map it to the suggested tenant %s: PUT /api/v1/customers/%d/mapping {\"tenantId\": %q}", rest, id, tenantID)
			} else {
				o.Fix = fmt.Sprintf("map it to its tenant, or create one: PUT /api/v1/customers/%d/mapping {\"new\": true}", id)
			}
			out = append(out, o)
		}
		if eligible > 1 {
			ids := make([]string, len(contracts))
			lowest := contracts[0].ID
			for i, k := range contracts {
				ids[i] = strconv.FormatInt(k.ID, 10)
				lowest = min(lowest, k.ID)
			}
			out = append(out, readmodel.Orphan{Kind: readmodel.OrphanSeveralContracts, CompanyID: id, CompanyName: name,
				Detail: fmt.Sprintf("company %q has %d eligible Recurring Service contracts (%s); quotas add up their units and tickets go to contract %d",
					name, eligible, strings.Join(ids, ", "), lowest),
				Fix: "end or merge the extra contracts in Autotask so one contract carries the Acronis services"})
		}
	}
	return out, wrap("find companies to report", crows.Err())
}

// Package readmodel is the local copy of what the admin screens list:
// Autotask companies (kept by the contract sync) and Acronis tenants (kept by
// the tenant sync), joined with the customer mappings. Browsing it costs no
// vendor request, so 10,000 companies can be paged and searched without
// touching Autotask's hourly budget, which every integration of the database
// shares (issue 16).
package readmodel

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/suggest"
)

// Company is an Autotask company as the contract sync last saw it.
type Company struct {
	ID           int64
	Name         string
	Type         int
	TypeLabel    string
	Active       bool
	ContactName  string
	ContactEmail string
	// EligibleContracts counts the Recurring Service contracts in force;
	// Contracts summarises them.
	EligibleContracts int
	Contracts         []ContractSummary
	ModifiedAt        time.Time
}

// ContractSummary is what the lists and the orphan report need of an
// eligible contract: which services and bundles it bills.
type ContractSummary struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name,omitempty"`
	Services []int64 `json:"services,omitempty"`
	Bundles  []int64 `json:"bundles,omitempty"`
}

// Tenant is an Acronis tenant under the partner as the tenant sync last saw it.
type Tenant struct {
	ID           string
	Name         string
	Kind         string
	ParentID     string
	Enabled      bool
	ContactEmail string
	SelfService  bool
	// SupportAccess is nil until probed (one Acronis request per tenant).
	SupportAccess *bool
	InternalTag   string
	CustomerRef   string
	UpdatedAt     time.Time
	Deleted       bool
}

// Manageable says whether a company can be mapped to the tenant: a customer
// or sub-partner the partner may act inside.
func (t Tenant) Manageable() bool {
	return (t.Kind == "customer" || t.Kind == "partner") && !t.SelfService && (t.SupportAccess == nil || *t.SupportAccess) && !t.Deleted
}

// Health says whether a mapping still points at something usable.
type Health string

// Mapping health values (issue 16 §5).
const (
	HealthOK      Health = "ok"
	HealthRenamed Health = "renamed" // the company and tenant names no longer match
	HealthMissing Health = "missing" // tenant deleted in Acronis or company deactivated in Autotask
	HealthInvalid Health = "invalid" // the tenant cannot be managed, or the customer's contracts cannot be applied
	HealthUnknown Health = "unknown" // the tenant sync has not run yet
)

// Healths lists every health, in the order stats show them.
var Healths = []Health{HealthOK, HealthRenamed, HealthMissing, HealthInvalid, HealthUnknown}

// Mapping is a company's tenant with the state its workflow last recorded
// and the mapping's health.
type Mapping struct {
	TenantID     string
	TenantName   string
	How          string
	State        string
	LastError    string
	MappedAt     time.Time
	MappedBy     string
	Health       Health
	HealthReason string
}

// CustomerRow is one line of the customers list.
type CustomerRow struct {
	Company
	Mapping     *Mapping
	Suggestions []suggest.Suggestion
}

// Customer list filters.
const (
	FilterAll            = "all"
	FilterMapped         = "mapped"
	FilterUnmapped       = "unmapped"
	FilterInvalid        = "invalid"
	FilterError          = "error"
	FilterDeprovisioning = "deprovisioning"
	FilterRenamed        = "renamed"
	FilterMissing        = "missing"
)

// CustomerFilters are the accepted values of the customers list's filter.
var CustomerFilters = []string{FilterAll, FilterMapped, FilterUnmapped, FilterInvalid, FilterError, FilterDeprovisioning, FilterRenamed, FilterMissing}

// Sort keys of the lists.
const (
	SortName      = "name"
	SortID        = "id"
	SortType      = "type"
	SortContracts = "contracts"
	SortKind      = "kind"
)

// CustomerSorts and TenantSorts are the accepted sort keys ("-" in front: descending).
var (
	CustomerSorts = []string{SortName, SortID, SortType, SortContracts}
	TenantSorts   = []string{SortName, SortID, SortKind}
)

// CustomerQuery selects one page of the customers list.
type CustomerQuery struct {
	Filter string
	// Type is an Autotask company type code; nil does not filter.
	Type *int
	// Text must occur in the company name (case-insensitive).
	Text           string
	Sort           string
	Desc           bool
	Page, PageSize int
	// Suggestions adds suggestions to unmapped companies.
	Suggestions bool
}

// Page is one page of a list and the number of rows matching in all.
type Page[T any] struct {
	Items []T
	Total int
}

// Tenant list filters.
const (
	TenantFilterMappable = "mappable" // manageable and not mapped
)

// TenantFilters are the accepted values of the tenants list's filter.
var TenantFilters = []string{FilterAll, FilterMapped, FilterUnmapped, TenantFilterMappable}

// TenantQuery selects one page of the tenants list.
type TenantQuery struct {
	Filter         string
	Kind           string
	Text           string
	Sort           string
	Desc           bool
	Page, PageSize int
}

// TenantRow is one line of the tenants list.
type TenantRow struct {
	Tenant
	MappedCompanyID   *int64
	MappedCompanyName string
}

// ParseSort splits "-name" into ("name", true) and checks the key.
func ParseSort(v string, allowed []string) (key string, desc bool, err error) {
	if v == "" {
		return SortName, false, nil
	}
	key, desc = strings.CutPrefix(v, "-")
	if !slices.Contains(allowed, key) {
		return "", false, fmt.Errorf("must be one of %s, with - in front for descending", strings.Join(allowed, ", "))
	}
	return key, desc, nil
}

// LikePattern turns text into a case-insensitive "contains" LIKE pattern,
// escaping LIKE's wildcards so "50%" finds "50%".
func LikePattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(text)) + "%"
}

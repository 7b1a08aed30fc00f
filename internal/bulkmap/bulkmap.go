// Package bulkmap maps many companies to their Acronis tenants at once: a
// request (explicit pairs, every suggestion above a confidence, or a CSV
// file) becomes one combined plan that is validated as a whole, stored
// under an id for the admin to review, and applied by that id. Nothing is
// stored when any line is wrong, so a bad file never half-applies.
//
// Issue 14's shared plans had not landed when this was written; Plan is
// kept to the same shape (preview, then apply by id) so it can move onto
// them.
package bulkmap

import (
	"fmt"
	"time"
)

// Sources of a plan's items.
const (
	SourceExplicit   = "explicit"
	SourceSuggestion = "suggestion"
	SourceCSV        = "csv"
)

// Item actions: map the pair, or nothing to do because it is already mapped so.
const (
	ActionMap  = "map"
	ActionKeep = "keep"
)

// Plan statuses.
const (
	StatusPreview  = "preview"
	StatusApplying = "applying"
	StatusApplied  = "applied"
)

// PreviewLifetime is how long a preview can be applied: past it the state it
// was checked against is too old to trust.
const PreviewLifetime = time.Hour

// Pair is one requested mapping; Where names it in problems ("pairs[3]" or
// a CSV line number).
type Pair struct {
	CompanyID  int64
	TenantID   string
	Confidence float64
	Where      Where
}

// Where locates a pair in the request: an index into pairs, or a CSV line.
type Where struct {
	Index int // 0-based index in pairs, when Line is 0
	Line  int // 1-based CSV line
}

// Field names a field of the pair for a problem: "pairs[3].tenantId" or
// "line 4: tenant_id".
func (w Where) Field(jsonName, csvName string) string {
	if w.Line > 0 {
		return fmt.Sprintf("line %d: %s", w.Line, csvName)
	}
	return fmt.Sprintf("pairs[%d].%s", w.Index, jsonName)
}

// Item is one mapping of a plan.
type Item struct {
	CompanyID   int64   `json:"companyId"`
	CompanyName string  `json:"companyName"`
	TenantID    string  `json:"tenantId"`
	TenantName  string  `json:"tenantName"`
	Confidence  float64 `json:"confidence,omitempty"`
	Action      string  `json:"action"`
}

// Skipped is a suggestion left out of a plan, with why.
type Skipped struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
	Reason    string `json:"reason"`
}

// Result is what applying one item did.
type Result struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
	OK        bool   `json:"ok"`
	Message   string `json:"message"`
}

// Plan is a stored bulk mapping.
type Plan struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	Source    string     `json:"source"`
	Items     []Item     `json:"items"`
	Skipped   []Skipped  `json:"skipped"`
	Results   []Result   `json:"results,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	CreatedBy string     `json:"createdBy"`
	ExpiresAt time.Time  `json:"expiresAt"`
	AppliedAt *time.Time `json:"appliedAt,omitempty"`
	AppliedBy string     `json:"appliedBy,omitempty"`
}

// Problem is a bad pair: the field and what is wrong.
type Problem struct {
	Field   string
	Message string
}

// CompanyState and TenantState are what validation needs to know of each side.
type CompanyState struct {
	Name     string
	Active   bool
	MappedTo string // tenant id, "" when unmapped
}

// TenantState is a tenant as the read model knows it.
type TenantState struct {
	Name       string
	Manageable bool
	Reason     string // why not manageable
	MappedTo   int64  // company id, 0 when unmapped
}

// Build checks every pair against the read model's state and returns the
// plan's items, or every problem at once. A pair already mapped so is kept
// as "keep"; each company and each tenant may appear once.
func Build(pairs []Pair, companies map[int64]CompanyState, tenants map[string]TenantState) ([]Item, []Problem) {
	var items []Item
	var problems []Problem
	seenCompany := map[int64]Where{}
	seenTenant := map[string]Where{}
	for _, p := range pairs {
		companyField, tenantField := p.Where.Field("companyId", "company_id"), p.Where.Field("tenantId", "tenant_id")
		bad := func(field, msg string, args ...any) {
			problems = append(problems, Problem{field, fmt.Sprintf(msg, args...)})
		}
		c, cok := companies[p.CompanyID]
		t, tok := tenants[p.TenantID]
		switch {
		case p.CompanyID <= 0:
			bad(companyField, "must be a positive Autotask company id")
		case !cok:
			bad(companyField, "Autotask company %d is unknown (the contract sync has not seen it)", p.CompanyID)
		case !c.Active:
			bad(companyField, "company %d (%s) is inactive in Autotask", p.CompanyID, c.Name)
		case c.MappedTo != "" && c.MappedTo != p.TenantID:
			bad(companyField, "company %d (%s) is already mapped to tenant %s; remove that mapping first", p.CompanyID, c.Name, c.MappedTo)
		}
		if w, dup := seenCompany[p.CompanyID]; dup && p.CompanyID > 0 {
			bad(companyField, "company %d is also in %s", p.CompanyID, w.Field("companyId", "company_id"))
		}
		seenCompany[p.CompanyID] = p.Where
		switch {
		case p.TenantID == "":
			bad(tenantField, "is required")
		case !tok:
			bad(tenantField, "tenant %s is not under the partner in Acronis (or the tenant sync has not seen it yet)", p.TenantID)
		case !t.Manageable:
			bad(tenantField, "tenant %s (%s) cannot be mapped: %s", p.TenantID, t.Name, t.Reason)
		case t.MappedTo != 0 && t.MappedTo != p.CompanyID:
			bad(tenantField, "tenant %s (%s) is already mapped to company %d", p.TenantID, t.Name, t.MappedTo)
		}
		if w, dup := seenTenant[p.TenantID]; dup && p.TenantID != "" {
			bad(tenantField, "tenant %s is also in %s", p.TenantID, w.Field("tenantId", "tenant_id"))
		}
		seenTenant[p.TenantID] = p.Where
		action := ActionMap
		if cok && c.MappedTo == p.TenantID && p.TenantID != "" {
			action = ActionKeep
		}
		items = append(items, Item{CompanyID: p.CompanyID, CompanyName: c.Name, TenantID: p.TenantID, TenantName: t.Name,
			Confidence: p.Confidence, Action: action})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return items, nil
}

// Unambiguous keeps the suggestions whose tenant is suggested to no other
// company of the set and returns the others as skipped: "every suggestion
// above X" must not guess between two companies claiming one tenant.
func Unambiguous(pairs []Pair) ([]Pair, []Skipped) {
	count := map[string]int{}
	for _, p := range pairs {
		count[p.TenantID]++
	}
	var keep []Pair
	var skipped []Skipped
	for _, p := range pairs {
		if count[p.TenantID] > 1 {
			skipped = append(skipped, Skipped{CompanyID: p.CompanyID, TenantID: p.TenantID,
				Reason: fmt.Sprintf("tenant %s is the best suggestion of %d companies", p.TenantID, count[p.TenantID])})
			continue
		}
		keep = append(keep, p)
	}
	return keep, skipped
}

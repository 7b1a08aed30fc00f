package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/suggest"
)

// ReadModelStore is the local copy of both vendors' customers the lists and
// suggestions read (issue 16); *store.Store satisfies it.
type ReadModelStore interface {
	ListCustomers(ctx context.Context, q readmodel.CustomerQuery) (readmodel.Page[readmodel.CustomerRow], error)
	ListTenants(ctx context.Context, q readmodel.TenantQuery) (readmodel.Page[readmodel.TenantRow], error)
	CompanyTypes(ctx context.Context) (map[int]string, error)
	SuggestCompany(ctx context.Context, companyID int64) (suggest.Company, error)
	Suggestions(ctx context.Context, companies []suggest.Company) (map[int64][]suggest.Suggestion, error)
}

func (s *Server) readModel() (ReadModelStore, error) {
	if s.deps.ReadModel == nil {
		return nil, fmt.Errorf("read model: %w", errNotWired)
	}
	return s.deps.ReadModel, nil
}

// CustomerList is one page of Autotask companies with their mappings (SPEC
// F4), read from the contract sync's copy: browsing costs no Autotask request.
type CustomerList struct {
	Items    []CustomerListItem `json:"items"`
	Page     int                `json:"page"`
	PageSize int                `json:"pageSize"`
	// Total counts the companies matching the filters on all pages.
	Total int `json:"total"`
	// HasMore says whether a next page exists.
	HasMore bool `json:"hasMore"`
}

// CustomerListItem is an Autotask company and, when mapped, its tenant; an
// unmapped company carries the tenants it probably is.
type CustomerListItem struct {
	CompanyID         int64                       `json:"companyId"`
	CompanyName       string                      `json:"companyName"`
	CompanyType       string                      `json:"companyType,omitempty"`
	Active            bool                        `json:"active"`
	PrimaryContact    *ContactView                `json:"primaryContact,omitempty"`
	EligibleContracts int                         `json:"eligibleContracts"`
	Contracts         []readmodel.ContractSummary `json:"contracts"`
	Mapping           *CustomerMapping            `json:"mapping,omitempty"`
	Suggestions       []suggest.Suggestion        `json:"suggestions,omitempty"`
}

// ContactView is a company's primary contact.
type ContactView struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// CustomerMapping is a company's tenant, the last state its workflow
// recorded and the mapping's health (ok, renamed, missing, invalid; unknown
// before the first tenant sync) with the reason when not ok.
type CustomerMapping struct {
	TenantID     string    `json:"tenantId"`
	TenantName   string    `json:"tenantName,omitempty"`
	How          string    `json:"how"`
	State        string    `json:"state"`
	LastError    string    `json:"lastError,omitempty"`
	MappedAt     time.Time `json:"mappedAt"`
	MappedBy     string    `json:"mappedBy"`
	Health       string    `json:"health"`
	HealthReason string    `json:"healthReason,omitempty"`
}

// customerQueryParams documents the customers list's query parameters.
var customerQueryParams = []queryParam{
	{"filter", "all (default), mapped, unmapped, invalid, error, deprovisioning, renamed or missing"},
	{"mapped", "all, mapped or unmapped (older name of filter)"},
	{"type", "Autotask company type, label (Customer) or code"},
	{"q", "company name contains this text (case-insensitive)"},
	{"sort", "name (default), id, type or contracts; -name for descending"},
	{"page", "1-based page, default 1"}, {"pageSize", "1–500, default 50"},
	{"suggestions", "true (default) adds the likely tenants of unmapped companies; false leaves them out"},
}

func (s *Server) listCustomers(c echo.Context) error {
	q := queryParams{c: c}
	cq := readmodel.CustomerQuery{Filter: q.choice("filter", readmodel.FilterAll, readmodel.CustomerFilters), Text: q.text("q")}
	if c.QueryParam("filter") == "" {
		cq.Filter = q.choice("mapped", readmodel.FilterAll, []string{readmodel.FilterAll, readmodel.FilterMapped, readmodel.FilterUnmapped})
	}
	cq.Sort, cq.Desc = q.sort(readmodel.CustomerSorts)
	cq.Page, cq.PageSize = q.page()
	cq.Suggestions = q.choice("suggestions", "true", []string{"true", "false"}) == "true"
	rm, err := s.readModel()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if typ := strings.TrimSpace(c.QueryParam("type")); typ != "" {
		code, msg, err := companyTypeCode(ctx, rm, typ)
		if err != nil {
			return err
		}
		if msg != "" {
			q.fail("type", msg)
		}
		cq.Type = &code
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := rm.ListCustomers(ctx, cq)
	if err != nil {
		return err
	}
	out := CustomerList{Items: make([]CustomerListItem, 0, len(page.Items)), Page: cq.Page, PageSize: cq.PageSize, Total: page.Total,
		HasMore: cq.Page*cq.PageSize < page.Total}
	for _, r := range page.Items {
		out.Items = append(out.Items, customerListItem(r))
	}
	return c.JSON(http.StatusOK, out)
}

func customerListItem(r readmodel.CustomerRow) CustomerListItem {
	it := CustomerListItem{CompanyID: r.ID, CompanyName: r.Name, CompanyType: r.TypeLabel, Active: r.Active,
		EligibleContracts: r.EligibleContracts, Contracts: r.Contracts, Suggestions: r.Suggestions}
	if it.Contracts == nil {
		it.Contracts = []readmodel.ContractSummary{}
	}
	if r.ContactName != "" || r.ContactEmail != "" {
		it.PrimaryContact = &ContactView{Name: r.ContactName, Email: r.ContactEmail}
	}
	if m := r.Mapping; m != nil {
		it.Mapping = &CustomerMapping{TenantID: m.TenantID, TenantName: m.TenantName, How: m.How, State: m.State, LastError: m.LastError,
			MappedAt: m.MappedAt, MappedBy: m.MappedBy, Health: string(m.Health), HealthReason: m.HealthReason}
	}
	return it
}

// companyTypeCode resolves a company type given as code or label against the
// types the read model has seen; msg says what is wrong, listing the known labels.
func companyTypeCode(ctx context.Context, rm ReadModelStore, typ string) (code int, msg string, err error) {
	if n, err := strconv.Atoi(typ); err == nil && n >= 0 {
		return n, "", nil
	}
	types, err := rm.CompanyTypes(ctx)
	if err != nil {
		return 0, "", err
	}
	labels := make([]string, 0, len(types))
	for code, label := range types {
		if strings.EqualFold(label, typ) {
			return code, "", nil
		}
		labels = append(labels, fmt.Sprintf("%s (%d)", label, code))
	}
	slices.Sort(labels)
	return 0, fmt.Sprintf("%q is not an Autotask company type (known: %s)", typ, strings.Join(labels, ", ")), nil
}

// Suggestions are the tenants an unmapped company probably is.
type Suggestions struct {
	CompanyID   int64                `json:"companyId"`
	CompanyName string               `json:"companyName"`
	Items       []suggest.Suggestion `json:"items"`
}

func (s *Server) getSuggestions(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	rm, err := s.readModel()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	co, err := rm.SuggestCompany(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return newProblem(http.StatusNotFound, "company-not-found", fmt.Sprintf("the contract sync has not seen Autotask company %d", id))
		}
		return err
	}
	got, err := rm.Suggestions(ctx, []suggest.Company{co})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Suggestions{CompanyID: id, CompanyName: co.Name, Items: got[id]})
}

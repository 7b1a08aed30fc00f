package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
)

// AcronisTenants is one page of the customer and sub-partner tenants under
// the partner that a company can be mapped to (SPEC F4), read from the
// tenant sync's copy: listing costs no Acronis request.
type AcronisTenants struct {
	Items    []AcronisTenant `json:"items"`
	Page     int             `json:"page"`
	PageSize int             `json:"pageSize"`
	// Total counts the tenants matching the filters on all pages.
	Total   int  `json:"total"`
	HasMore bool `json:"hasMore"`
}

// AcronisTenant is one mappable tenant. Manageable is false in self-service
// mode (ancestral_access false) or without support access, where mapping
// would be refused.
type AcronisTenant struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	ParentID     string `json:"parentId,omitempty"`
	Enabled      bool   `json:"enabled"`
	ContactEmail string `json:"contactEmail,omitempty"`
	Manageable   bool   `json:"manageable"`
	SelfService  bool   `json:"selfService"`
	// SupportAccess is absent until the tenant sync has probed it.
	SupportAccess *bool  `json:"supportAccess,omitempty"`
	InternalTag   string `json:"internalTag,omitempty"`
	CustomerID    string `json:"customerId,omitempty"`
	// MappedCompanyID is the Autotask company mapped to the tenant, if any.
	MappedCompanyID   *int64 `json:"mappedCompanyId,omitempty"`
	MappedCompanyName string `json:"mappedCompanyName,omitempty"`
}

// tenantQueryParams documents the tenants list's query parameters.
var tenantQueryParams = []queryParam{
	{"filter", "all (default), mapped, unmapped or mappable (manageable and unmapped)"},
	{"kind", "customer or partner"},
	{"q", "tenant name contains this text (case-insensitive)"},
	{"sort", "name (default), id or kind; -name for descending"},
	{"page", "1-based page, default 1"}, {"pageSize", "1–500, default 50"},
}

func (s *Server) listTenants(c echo.Context) error {
	q := queryParams{c: c}
	tq := readmodel.TenantQuery{Filter: q.choice("filter", readmodel.FilterAll, readmodel.TenantFilters), Text: q.text("q")}
	if kind := strings.TrimSpace(c.QueryParam("kind")); kind != "" {
		if kind != "customer" && kind != "partner" {
			q.fail("kind", "must be customer or partner")
		}
		tq.Kind = kind
	}
	tq.Sort, tq.Desc = q.sort(readmodel.TenantSorts)
	tq.Page, tq.PageSize = q.page()
	if err := q.err(); err != nil {
		return err
	}
	rm, err := s.readModel()
	if err != nil {
		return err
	}
	page, err := rm.ListTenants(c.Request().Context(), tq)
	if err != nil {
		return err
	}
	out := AcronisTenants{Items: make([]AcronisTenant, 0, len(page.Items)), Page: tq.Page, PageSize: tq.PageSize, Total: page.Total,
		HasMore: tq.Page*tq.PageSize < page.Total}
	for _, t := range page.Items {
		out.Items = append(out.Items, AcronisTenant{ID: t.ID, Name: t.Name, Kind: t.Kind, ParentID: t.ParentID, Enabled: t.Enabled,
			ContactEmail: t.ContactEmail, Manageable: t.Manageable(), SelfService: t.SelfService, SupportAccess: t.SupportAccess,
			InternalTag: t.InternalTag, CustomerID: t.CustomerRef, MappedCompanyID: t.MappedCompanyID, MappedCompanyName: t.MappedCompanyName})
	}
	return c.JSON(http.StatusOK, out)
}

// choice reads an optional parameter that must be one of allowed.
func (q *queryParams) choice(name, def string, allowed []string) string {
	v := strings.TrimSpace(q.c.QueryParam(name))
	if v == "" {
		return def
	}
	if !slices.Contains(allowed, v) {
		q.fail(name, "must be one of "+strings.Join(allowed, ", "))
		return def
	}
	return v
}

// sort reads the sort parameter: a key of allowed, "-" in front for descending.
func (q *queryParams) sort(allowed []string) (string, bool) {
	key, desc, err := readmodel.ParseSort(strings.TrimSpace(q.c.QueryParam("sort")), allowed)
	if err != nil {
		q.fail("sort", err.Error())
		return readmodel.SortName, false
	}
	return key, desc
}

// maxListPageSize bounds the read-model lists' pages.
const maxListPageSize = 500

// page reads page and pageSize.
func (q *queryParams) page() (int, int) {
	return int(q.int("page", 1, 1, 1_000_000)), int(q.int("pageSize", 50, 1, maxListPageSize))
}

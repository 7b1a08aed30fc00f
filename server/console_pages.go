package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// pageRoutes registers every console page; all need a session.
func (con *webConsole) pageRoutes(e *echo.Echo) {
	g := e.Group("", con.signedIn)
	g.GET("/", con.overview)
	g.GET("/overview/health", con.health)
	g.GET("/settings", con.settingsPage)
	g.POST("/settings", con.saveSettings)
	g.GET("/billing", con.billing)
	g.POST("/billing", con.saveBilling)
	g.GET("/customers", con.customerList)
	g.POST("/customers/bulk", con.bulkPreview)
	g.GET("/customers/bulk/:planID", con.bulkPlan)
	g.POST("/customers/bulk/:planID/apply", con.bulkApply)
	g.GET("/customers/:companyID", con.customerDetail)
	g.GET("/customers/:companyID/usage", con.customerUsage)
	g.GET("/customers/:companyID/map", con.mapForm)
	g.GET("/customers/:companyID/suggestions", con.mapSuggestions)
	g.POST("/customers/:companyID/map", con.mapCustomer)
	g.POST("/customers/:companyID/:action", con.customerActionPost)
	g.GET("/usage/:id", con.usageExplanation)
	g.GET("/tickets", con.tickets)
	g.POST("/tickets/mappings", con.saveAlertMappings)
	g.POST("/tickets/settings", con.saveTicketSettings)
	g.GET("/audit", con.audit)
	g.GET("/shadow", con.shadowPage)
	g.GET("/plans/:planID", con.planPage)
	g.POST("/plans/:planID/apply", con.applyPlan)
	g.POST("/plans/:planID/again", con.previewAgain)
}

// ---- Overview

type overviewView struct {
	Stats Stats
	// InError are the customers whose last sync failed (the first page).
	InError CustomerList
}

// errorListSize bounds the customers in error the overview lists.
const errorListSize = 25

func (con *webConsole) overview(c echo.Context) error {
	var v overviewView
	if err := con.get(c, "/api/v1/stats", nil, &v.Stats); err != nil {
		return err
	}
	q := url.Values{"filter": {readmodel.FilterError}, "pageSize": {strconv.Itoa(errorListSize)}, "suggestions": {"false"}}
	if err := con.get(c, "/api/v1/customers", q, &v.InError); err != nil {
		return err
	}
	return con.render(c, http.StatusOK, "overview", "Overview", "overview", v)
}

type healthView struct {
	Verification *ConnectionsVerification
	Upgrade      string
	Problem      *Problem
}

// health is the overview's connection check, loaded by htmx after the page
// so the page itself costs no vendor request.
func (con *webConsole) health(c echo.Context) error {
	var v healthView
	ans, err := con.call(c, http.MethodPost, "/api/v1/connections/verify", nil, nil)
	if err != nil {
		return err
	}
	if p := ans.problem(); p != nil {
		v.Problem = p
	} else {
		v.Verification = &ConnectionsVerification{}
		if err := json.Unmarshal(ans.body, v.Verification); err != nil {
			return err
		}
		if strings.Contains(v.Verification.Autotask.Message, UpgradeMessage) {
			v.Upgrade = UpgradeMessage
		}
	}
	return con.render(c, http.StatusOK, "health", "Connections", "overview", v)
}

// ---- Customers

type customerListView struct {
	List               CustomerList
	Q, Filter, Type    string
	PrevPage, NextPage int
	FilterOptions      []string
	// Confidence (a percentage of ConfidenceOptions) ticks for bulk accept
	// the suggestions at or above MinConfidence; the admin can change each tick.
	Confidence        string
	MinConfidence     float64
	ConfidenceOptions []string
}

// bulkConfidenceOptions are the thresholds the customers page offers for
// ticking suggestions, in percent; the first is the default.
var bulkConfidenceOptions = []string{"90", "80", "70", "50", "100"}

func (con *webConsole) customerList(c echo.Context) error {
	return con.customerListStatus(c, http.StatusOK)
}

// customerListStatus renders the customers page with status (a failed bulk preview shows its problem above it).
func (con *webConsole) customerListStatus(c echo.Context, status int) error {
	q := url.Values{}
	v := customerListView{Q: c.QueryParam("q"), Filter: c.QueryParam("filter"), Type: c.QueryParam("type"),
		FilterOptions: readmodel.CustomerFilters, Confidence: bulkConfidenceOptions[0], ConfidenceOptions: bulkConfidenceOptions}
	if pick := c.QueryParam("confidence"); slices.Contains(bulkConfidenceOptions, pick) {
		v.Confidence = pick
	}
	pct, _ := strconv.Atoi(v.Confidence)
	v.MinConfidence = float64(pct) / 100
	for _, k := range []string{"q", "filter", "type", "page"} {
		if val := strings.TrimSpace(c.QueryParam(k)); val != "" {
			q.Set(k, val)
		}
	}
	q.Set("pageSize", "50")
	if err := con.get(c, "/api/v1/customers", q, &v.List); err != nil {
		return err
	}
	if v.List.Page > 1 {
		v.PrevPage = v.List.Page - 1
	}
	if v.List.HasMore {
		v.NextPage = v.List.Page + 1
	}
	return con.render(c, status, "customers", "Customer mapping", "customers", v)
}

type customerView struct {
	ID       int64
	Status   *CustomerStatus
	NoStatus *Problem
	// Usage says the usage ledger section loads after the page (it reads the company's contracts from Autotask).
	Usage     bool
	Tickets   *AlertTicketList
	Temporal  string
	Actions   []customerActionButton
	CanUnmap  bool
	CanMap    bool
	HeldSteps bool
}

type customerActionButton struct{ Action, Label, Help string }

func (con *webConsole) customerDetail(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	v := customerView{ID: id}
	path := fmt.Sprintf("/api/v1/customers/%d", id)
	var st CustomerStatus
	if err := con.get(c, path, nil, &st); err != nil {
		var p *Problem
		if !errors.As(err, &p) || p.Status != http.StatusNotFound {
			return err
		}
		v.NoStatus, v.CanMap = p, true
	} else {
		v.Status = &st
		v.CanMap = st.TenantID == ""
		v.CanUnmap = st.TenantID != ""
		v.Usage = st.TenantID != ""
		if st.Deprovision != nil || len(st.Pending) > 0 {
			held := st.Deprovision != nil && st.Deprovision.Hold
			if held {
				v.Actions = append(v.Actions, customerActionButton{"release", "Release", "resume the pending deprovisioning steps"})
			} else {
				v.Actions = append(v.Actions, customerActionButton{"hold", "Hold", "pause the pending deprovisioning steps"})
			}
			v.Actions = append(v.Actions, customerActionButton{"deprovision-now", "Deprovision now", "run the next deprovisioning step now"})
		}
	}
	var tickets AlertTicketList
	if err := con.get(c, "/api/v1/tickets", url.Values{"companyId": {strconv.FormatInt(id, 10)}, "limit": {"20"}}, &tickets); err == nil {
		v.Tickets = &tickets
	}
	if con.temporalUI != "" {
		v.Temporal = con.temporalUI + "/namespaces/" + url.PathEscape(con.namespace) + "/workflows/" + url.PathEscape(workflows.CustomerWorkflowID(id))
	}
	title := fmt.Sprintf("Company %d", id)
	if v.Status != nil && v.Status.CompanyName != "" {
		title = v.Status.CompanyName
	}
	return con.render(c, http.StatusOK, "customer", title, "customers", v)
}

type usageView struct {
	Usage   *UsageList
	Problem *Problem
}

// customerUsage is the customer page's usage ledger section, loaded by htmx
// after the page: the API reads the company's contract services from Autotask.
func (con *webConsole) customerUsage(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	var v usageView
	var usage UsageList
	if err := con.get(c, "/api/v1/usage", url.Values{"companyId": {strconv.FormatInt(id, 10)}, "limit": {"50"}}, &usage); err != nil {
		if !errors.As(err, &v.Problem) {
			return err
		}
	} else {
		v.Usage = &usage
	}
	return con.render(c, http.StatusOK, "customerusage", "Usage ledger", "customers", v)
}

// consoleActions are the customer actions a form may post, each one API call.
var consoleActions = map[string]struct{ method, path, done string }{
	"hold":            {http.MethodPost, "/hold", "Deprovisioning is on hold."},
	"release":         {http.MethodPost, "/release", "Deprovisioning resumes."},
	"deprovision-now": {http.MethodPost, "/deprovision-now", "The next deprovisioning step runs now."},
	"unmap":           {http.MethodDelete, "/mapping", "The mapping is removed."},
	"sync":            {http.MethodPost, "/sync", "The company will be re-read from Autotask."},
}

func (con *webConsole) customerActionPost(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	a, ok := consoleActions[c.Param("action")]
	if !ok {
		return echo.ErrNotFound
	}
	var body any
	if c.Param("action") != "sync" { // sync takes no body
		body = ActionBody{Reason: strings.TrimSpace(c.FormValue("reason"))}
	}
	var ans struct {
		Message string `json:"message"`
	}
	p, err := con.send(c, a.method, fmt.Sprintf("/api/v1/customers/%d%s", id, a.path), body, &ans)
	if err != nil {
		return err
	}
	if p != nil {
		return p
	}
	msg := ans.Message
	if msg == "" {
		msg = a.done
	}
	return redirect(c, fmt.Sprintf("/customers/%d", id), msg)
}

type mapView struct {
	ID      int64
	Q       string
	Tenants []AcronisTenant
	// More says more tenants match than the picker shows.
	More   bool
	Errors map[string]string
	// Plan is what mapping to TenantID writes; the API answered 409 because
	// it warns, and the mapping goes ahead only when the admin sends its id back.
	Plan     *plan.Customer
	TenantID string
}

// mapPickerSize bounds the tenants the map page offers; a search narrows them.
const mapPickerSize = 50

func (con *webConsole) mapForm(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	return con.renderMap(c, id, http.StatusOK)
}

func (con *webConsole) renderMap(c echo.Context, id int64, status int) error {
	v := mapView{ID: id, Q: strings.TrimSpace(c.QueryParam("q"))}
	if p, ok := c.Get(problemKey).(*Problem); ok {
		v.Errors = fieldErrors(p)
	}
	var tenants AcronisTenants
	q := url.Values{"filter": {readmodel.TenantFilterMappable}, "pageSize": {strconv.Itoa(mapPickerSize)}}
	if v.Q != "" {
		q.Set("q", v.Q)
	}
	if err := con.get(c, "/api/v1/acronis/tenants", q, &tenants); err != nil {
		return err
	}
	v.Tenants, v.More = tenants.Items, tenants.HasMore
	return con.render(c, status, "map", fmt.Sprintf("Map company %d", id), "customers", v)
}

type suggestionsView struct {
	Suggestions Suggestions
	Problem     *Problem
}

// mapSuggestions is the map page's suggested tenants, loaded by htmx after
// the page: scoring a company against every tenant can take a while.
func (con *webConsole) mapSuggestions(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	var v suggestionsView
	if err := con.get(c, fmt.Sprintf("/api/v1/customers/%d/suggestions", id), nil, &v.Suggestions); err != nil {
		if !errors.As(err, &v.Problem) {
			return err
		}
	}
	return con.render(c, http.StatusOK, "suggestions", "Suggested tenants", "customers", v)
}

func (con *webConsole) mapCustomer(c echo.Context) error {
	id, err := companyParam(c)
	if err != nil {
		return err
	}
	in := MappingRequest{PlanID: c.FormValue("planId")}
	switch choice := c.FormValue("tenant"); choice {
	case "new":
		in.New = true
	default:
		in.TenantID = choice
	}
	var ans ActionAnswer
	p, err := con.send(c, http.MethodPut, fmt.Sprintf("/api/v1/customers/%d/mapping", id), in, &ans)
	if err != nil {
		return err
	}
	if p != nil {
		if p.Status == http.StatusConflict && p.Plan != nil && in.TenantID != "" {
			// The plan warns: show it and let the admin confirm it by its id.
			return con.render(c, p.Status, "map", fmt.Sprintf("Map company %d", id), "customers",
				mapView{ID: id, Plan: p.Plan, TenantID: in.TenantID})
		}
		c.Set(problemKey, p)
		return con.renderMap(c, id, p.Status)
	}
	return redirect(c, fmt.Sprintf("/customers/%d", id), ans.Message)
}

// ---- Usage

func (con *webConsole) usageExplanation(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return invalid("the usage row id must be a positive integer")
	}
	var u UsageExplanation
	if err := con.get(c, fmt.Sprintf("/api/v1/usage/%d", id), nil, &u); err != nil {
		return err
	}
	return con.render(c, http.StatusOK, "usage", fmt.Sprintf("Usage row %d", id), "customers", u)
}

// ---- Audit

type auditView struct {
	Page    AuditPage
	Filter  map[string]string
	Systems []string
	// Next is the query string of the next page; "" on the last.
	Next template.URL
}

func (con *webConsole) audit(c echo.Context) error {
	v := auditView{Filter: map[string]string{}, Systems: []string{store.SystemAdmin, store.SystemAutotask, store.SystemAcronis}}
	q := url.Values{}
	for _, k := range []string{"companyId", "tenantId", "kind", "system", "from", "to", "cursor"} {
		if val := strings.TrimSpace(c.QueryParam(k)); val != "" {
			q.Set(k, val)
			v.Filter[k] = val
		}
	}
	q.Set("limit", "50")
	if err := con.get(c, "/api/v1/audit", q, &v.Page); err != nil {
		return err
	}
	if v.Page.NextCursor != "" {
		next := url.Values{}
		for k, val := range v.Filter {
			next.Set(k, val)
		}
		next.Set("cursor", v.Page.NextCursor)
		v.Next = template.URL(next.Encode())
	}
	return con.render(c, http.StatusOK, "audit", "Audit log", "audit", v)
}

// ---- Shadow report

type shadowView struct {
	Report ShadowReport
	Cursor string
	Next   template.URL
}

// shadowPage renders GET /api/v1/shadow/report: per customer, the writes
// shadow mode held back and its plan's warnings.
func (con *webConsole) shadowPage(c echo.Context) error {
	v := shadowView{Cursor: strings.TrimSpace(c.QueryParam("cursor"))}
	q := url.Values{"limit": {"20"}}
	if v.Cursor != "" {
		q.Set("cursor", v.Cursor)
	}
	if err := con.get(c, "/api/v1/shadow/report", q, &v.Report); err != nil {
		return err
	}
	if v.Report.NextCursor != "" {
		v.Next = template.URL(url.Values{"cursor": {v.Report.NextCursor}}.Encode())
	}
	return con.render(c, http.StatusOK, "shadow", "Shadow report", "shadow", v)
}

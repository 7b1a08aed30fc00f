package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/bulkmap"
)

// Bulk accept on the customer mapping page (issue 17): the ticked
// suggestions go to POST /api/v1/mappings/bulk as explicit pairs, the
// combined plan is shown with its warnings, and applying it is POST
// /api/v1/mappings/bulk/{id}/apply. The API validates and applies; these
// handlers only translate the form and show the answers.

// bulkPlanView is a bulk plan as its page shows it.
type bulkPlanView struct {
	bulkmap.Plan
	// Keeps counts the items already mapped so (shown as warnings).
	Keeps int
}

// bulkPreview turns the ticked rows ("companyID:tenantID") into a plan.
func (con *webConsole) bulkPreview(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	in := BulkMappingRequest{Pairs: []MappingPair{}}
	for _, v := range form["pair"] {
		company, tenant, _ := strings.Cut(v, ":")
		id, _ := strconv.ParseInt(company, 10, 64) // a mangled id reaches the API as 0, which names the pair
		in.Pairs = append(in.Pairs, MappingPair{CompanyID: id, TenantID: tenant})
	}
	var plan bulkmap.Plan
	p, err := con.send(c, http.MethodPost, "/api/v1/mappings/bulk", in, &plan)
	if err != nil {
		return err
	}
	if p != nil {
		// Show the API's problem above the list the admin ticked from.
		c.Set(problemKey, p)
		return con.customerListStatus(c, p.Status)
	}
	return redirect(c, "/customers/bulk/"+url.PathEscape(plan.ID), "")
}

// bulkPlan shows a plan: its items, its warnings and, once applied, each item's result.
func (con *webConsole) bulkPlan(c echo.Context) error {
	var plan bulkmap.Plan
	if err := con.get(c, "/api/v1/mappings/bulk/"+url.PathEscape(c.Param("planID")), nil, &plan); err != nil {
		return err
	}
	return con.renderBulkPlan(c, http.StatusOK, plan)
}

func (con *webConsole) renderBulkPlan(c echo.Context, status int, plan bulkmap.Plan) error {
	v := bulkPlanView{Plan: plan}
	for _, it := range plan.Items {
		if it.Action == bulkmap.ActionKeep {
			v.Keeps++
		}
	}
	return con.render(c, status, "bulkplan", "Bulk mapping plan", "customers", v)
}

// bulkApply applies a previewed plan by its id.
func (con *webConsole) bulkApply(c echo.Context) error {
	id := c.Param("planID")
	var plan bulkmap.Plan
	p, err := con.send(c, http.MethodPost, "/api/v1/mappings/bulk/"+url.PathEscape(id)+"/apply", nil, &plan)
	if err != nil {
		return err
	}
	if p != nil {
		return p
	}
	ok := 0
	for _, r := range plan.Results {
		if r.OK {
			ok++
		}
	}
	return redirect(c, "/customers/bulk/"+url.PathEscape(id), fmt.Sprintf("The plan was applied: %d of %d companies mapped.", ok, len(plan.Results)))
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/planner"
	"github.com/acronis-autotask/acronis-autotask/internal/servicemap"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// PlanService previews and applies plans; *planner.Service satisfies it.
type PlanService interface {
	Preview(ctx context.Context, req planner.Request, actor store.Actor) (plan.Set, error)
	Get(ctx context.Context, id string) (plan.Set, error)
	Apply(ctx context.Context, id string, actor store.Actor) (planner.Applied, error)
}

// maxPlanCompanies bounds a listed scope; {"all": true} plans every customer.
const maxPlanCompanies = 1000

// PlanRequest is the body of POST /api/v1/plans: which customers to plan
// and, optionally, changes not saved yet to plan them under.
type PlanRequest struct {
	Scope plan.Scope `json:"scope"`
	// Settings is a JSON Merge Patch (RFC 7396) over the saved settings.
	Settings json.RawMessage `json:"settings,omitempty"`
	// ServiceMappings replaces every service mapping, as PUT
	// /api/v1/service-mappings does; only existing Autotask services (serviceId).
	ServiceMappings []ServiceMappingInput `json:"serviceMappings,omitempty"`
	// CustomerMappings map companies to existing Acronis tenants.
	CustomerMappings []plan.CustomerMapping `json:"customerMappings,omitempty"`
}

func (s *Server) plans() (PlanService, error) {
	if s.deps.Plans == nil {
		return nil, fmt.Errorf("plans: %w", errNotWired)
	}
	return s.deps.Plans, nil
}

func (s *Server) postPlanSet(c echo.Context) error {
	var in PlanRequest
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	ps, err := s.plans()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	req := planner.Request{Scope: in.Scope, Change: plan.Changes{CustomerMappings: in.CustomerMappings}}
	bad := checkScope(in)
	if in.Settings != nil {
		doc, more, err := s.plannedSettings(ctx, in.Settings)
		if err != nil {
			return err
		}
		req.Change.Settings, bad = doc, append(bad, more...)
	}
	if in.ServiceMappings != nil {
		rows, more, err := s.plannedServiceMappings(ctx, in.ServiceMappings)
		if err != nil {
			return err
		}
		req.Change.ServiceMappings, bad = rows, append(bad, more...)
	}
	if len(bad) > 0 {
		return invalid(fmt.Sprintf("%d problems; nothing was planned", len(bad)), bad...)
	}
	set, err := ps.Preview(ctx, req, actorFrom(c, "plan previewed through the API"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, set)
}

func (s *Server) getPlanSet(c echo.Context) error {
	ps, err := s.plans()
	if err != nil {
		return err
	}
	set, err := ps.Get(c.Request().Context(), c.Param("planID"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (s *Server) applyPlanSet(c echo.Context) error {
	ps, err := s.plans()
	if err != nil {
		return err
	}
	out, err := ps.Apply(c.Request().Context(), c.Param("planID"), actorFrom(c, "plan applied through the API"))
	var d *planner.DriftError
	if errors.As(err, &d) {
		p := newProblem(http.StatusConflict, "plan-drift", d.Error()+"; nothing was written")
		p.Drifts = d.Drifts
		if v := d.SettingsVersion; v != nil {
			p.Detail += fmt.Sprintf(" (the settings moved from version %d to %d)", v[0], v[1])
		}
		return p
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// checkScope checks the scope and the customer mappings.
func checkScope(in PlanRequest) []settings.FieldError {
	var bad []settings.FieldError
	listed := len(in.Scope.CompanyIDs) > 0
	switch {
	case in.Scope.All && listed:
		bad = append(bad, settings.FieldError{Field: "scope", Message: "give either all: true or companyIds, not both"})
	case !in.Scope.All && !listed && len(in.CustomerMappings) == 0:
		bad = append(bad, settings.FieldError{Field: "scope", Message: "give all: true, companyIds, or customerMappings"})
	case len(in.Scope.CompanyIDs) > maxPlanCompanies:
		bad = append(bad, settings.FieldError{Field: "scope.companyIds", Message: fmt.Sprintf("at most %d companies; use all: true for every customer", maxPlanCompanies)})
	}
	for i, id := range in.Scope.CompanyIDs {
		if id <= 0 {
			bad = append(bad, settings.FieldError{Field: fmt.Sprintf("scope.companyIds[%d]", i), Message: "must be a positive Autotask company id"})
		}
	}
	if len(in.CustomerMappings) > maxPlanCompanies {
		bad = append(bad, settings.FieldError{Field: "customerMappings", Message: fmt.Sprintf("at most %d mappings per plan", maxPlanCompanies)})
	}
	companies, tenants := map[int64]int{}, map[string]int{}
	for i, m := range in.CustomerMappings {
		field := fmt.Sprintf("customerMappings[%d]", i)
		if m.CompanyID <= 0 {
			bad = append(bad, settings.FieldError{Field: field + ".companyId", Message: "must be a positive Autotask company id"})
		} else if j, dup := companies[m.CompanyID]; dup {
			bad = append(bad, settings.FieldError{Field: field + ".companyId", Message: fmt.Sprintf("company %d is also mapped by customerMappings[%d]", m.CompanyID, j)})
		}
		companies[m.CompanyID] = i
		t := strings.TrimSpace(m.TenantID)
		if !isUUID(t) || t != m.TenantID {
			bad = append(bad, settings.FieldError{Field: field + ".tenantId", Message: "must be an Acronis tenant id, a UUID such as 0fcd4a69-8a40-4de8-b711-d9c83dc000f7"})
		} else if j, dup := tenants[t]; dup {
			bad = append(bad, settings.FieldError{Field: field + ".tenantId", Message: fmt.Sprintf("tenant %s is also mapped by customerMappings[%d]", t, j)})
		}
		tenants[t] = i
	}
	return bad
}

// plannedSettings applies a merge patch to the saved settings and validates
// the result as saving it would; field errors are prefixed "settings.".
func (s *Server) plannedSettings(ctx context.Context, patch json.RawMessage) (json.RawMessage, []settings.FieldError, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(patch, &obj); err != nil || obj == nil {
		return nil, []settings.FieldError{{Field: "settings", Message: "must be a JSON object: the settings fields to change"}}, nil
	}
	cur, err := s.settingsNow(ctx)
	if err != nil {
		return nil, nil, err
	}
	doc, err := json.Marshal(cur)
	if err != nil {
		return nil, nil, err
	}
	merged, err := jsonpatch.MergePatch(doc, patch)
	if err != nil {
		return nil, []settings.FieldError{{Field: "settings", Message: err.Error()}}, nil
	}
	st, err := settings.Decode(merged)
	if err != nil {
		return nil, []settings.FieldError{{Field: "settings." + fieldOfDecodeError(err), Message: err.Error()}}, nil
	}
	var ve *settings.ValidationError
	if err := st.Validate(); errors.As(err, &ve) {
		out := make([]settings.FieldError, len(ve.Fields))
		for i, f := range ve.Fields {
			out[i] = settings.FieldError{Field: "settings." + f.Field, Message: f.Message}
		}
		return nil, out, nil
	} else if err != nil {
		return nil, nil, err
	}
	refs, err := s.settingsRefsToCheck(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	if bad, _, _ := s.checkRefs(ctx, "", refs); len(bad) > 0 {
		for i := range bad {
			bad[i].Field = "settings." + bad[i].Field
		}
		return nil, bad, nil
	}
	clean, err := json.Marshal(st)
	return clean, nil, err
}

// plannedServiceMappings validates a full list of service mappings as PUT
// /api/v1/service-mappings does, without creating anything: a plan maps to
// existing Autotask services only. Field errors are prefixed "serviceMappings".
func (s *Server) plannedServiceMappings(ctx context.Context, in []ServiceMappingInput) (json.RawMessage, []settings.FieldError, error) {
	var bad []settings.FieldError
	for i, m := range in {
		if m.ServiceName != "" {
			bad = append(bad, settings.FieldError{Field: fmt.Sprintf("serviceMappings[%d].serviceName", i),
				Message: "a plan maps to existing services only: give serviceId, or create the service with PUT /api/v1/service-mappings"})
		}
	}
	if len(bad) > 0 {
		return nil, bad, nil
	}
	catalog, err := s.catalog(ctx)
	if err != nil {
		return nil, nil, err
	}
	at, err := s.autotaskClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	cur, err := s.settingsNow(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, problems := servicemap.Validate(in, catalog)
	more, err := p.ResolveServices(ctx, at, cur)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range append(problems, more...) {
		bad = append(bad, settings.FieldError{Field: "serviceMappings" + strings.TrimPrefix(f.Field, "mappings"), Message: f.Message})
	}
	if len(bad) > 0 {
		return nil, bad, nil
	}
	rows := p.Rows()
	if rows == nil {
		rows = []store.ServiceMapping{}
	}
	raw, err := json.Marshal(rows)
	return raw, nil, err
}

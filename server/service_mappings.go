package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/servicemap"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// ServiceMapping is how one offering item is billed in Autotask (SPEC F3):
// the service, whether the item is given for free, and how raw usage
// converts to billed units.
type ServiceMapping struct {
	OfferingItem  string `json:"offeringItem"`
	ApplicationID string `json:"applicationId,omitempty"`
	Group         string `json:"group,omitempty"`
	InfraID       string `json:"infraId,omitempty"`
	ServiceID     *int64 `json:"serviceId,omitempty"`
	ServiceName   string `json:"serviceName,omitempty"`
	Free          bool   `json:"free"`
	// RawUnit is Acronis' unit; BilledUnit = raw / Divisor, rounded per Rounding.
	RawUnit    string `json:"rawUnit,omitempty"`
	BilledUnit string `json:"billedUnit,omitempty"`
	Divisor    string `json:"divisor,omitempty"`
	Rounding   string `json:"rounding,omitempty"`
	// Overage is the "prepaid with overage" option: a soft quota, and the
	// usage above the contract units billed as this service.
	Overage   *servicemap.Overage `json:"overage,omitempty"`
	UpdatedAt *time.Time          `json:"updatedAt,omitempty"`
	UpdatedBy string              `json:"updatedBy,omitempty"`
}

// ServiceMappings is every service mapping as one document: it is read and
// replaced whole, so an admin's screen and the store never disagree.
type ServiceMappings struct {
	Mappings []ServiceMapping `json:"mappings"`
	// CreatedServices are the Autotask services this request created.
	CreatedServices []CreatedService `json:"createdServices,omitempty"`
	// Warnings say what was saved but could not be completed (e.g. re-planning customers).
	Warnings []string `json:"warnings,omitempty"`
}

// CreatedService is an Autotask service the integration created for a mapping.
type CreatedService = servicemap.CreatedService

// ServiceMappingInput is one mapping of PUT /api/v1/service-mappings: exactly
// one of serviceId (an existing Autotask service) or serviceName (a service
// the integration creates).
type ServiceMappingInput = servicemap.Input

// ServiceMappingsUpdate is the body of PUT /api/v1/service-mappings: the full
// list; items left out lose their mapping.
type ServiceMappingsUpdate struct {
	Mappings []ServiceMappingInput `json:"mappings"`
}

func (s *Server) getServiceMappings(c echo.Context) error {
	out, err := s.listServiceMappings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listServiceMappings(ctx context.Context) (ServiceMappings, error) {
	st, err := s.mappings()
	if err != nil {
		return ServiceMappings{}, err
	}
	saved, err := st.ListServiceMappings(ctx)
	if err != nil {
		return ServiceMappings{}, fmt.Errorf("list service mappings: %w", err)
	}
	out := ServiceMappings{Mappings: make([]ServiceMapping, 0, len(saved))}
	for _, m := range saved {
		out.Mappings = append(out.Mappings, serviceMappingView(m, servicemap.Item{}))
	}
	return out, nil
}

func serviceMappingView(m store.ServiceMapping, it servicemap.Item) ServiceMapping {
	v := ServiceMapping{OfferingItem: m.OfferingItem, ApplicationID: m.ApplicationID, Group: string(it.Group), InfraID: m.InfraID,
		ServiceID: m.ServiceID, ServiceName: m.ServiceName, Free: m.Free, RawUnit: m.RawUnit, BilledUnit: m.BilledUnit,
		Divisor: m.Divisor, Rounding: m.Rounding, UpdatedBy: m.UpdatedBy}
	if m.OverageServiceID != nil {
		id := *m.OverageServiceID
		v.Overage = &servicemap.Overage{ServiceID: &id}
	}
	if !m.UpdatedAt.IsZero() {
		at := m.UpdatedAt
		v.UpdatedAt = &at
	}
	return v
}

// putServiceMappings validates the whole document against the Acronis
// catalogue, the database's rules and Autotask, then creates the new services,
// saves the mappings in one transaction and asks every customer to re-plan.
// Nothing is saved unless all is valid.
func (s *Server) putServiceMappings(c echo.Context) error {
	var in ServiceMappingsUpdate
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if in.Mappings == nil {
		return invalid("the body has no mappings", settings.FieldError{Field: "mappings", Message: "is required (an empty list removes every mapping)"})
	}
	ctx := c.Request().Context()
	st, err := s.mappings()
	if err != nil {
		return err
	}
	catalog, err := s.catalog(ctx)
	if err != nil {
		return err
	}
	at, err := s.autotaskClient(ctx)
	if err != nil {
		return err
	}
	cur, err := s.settingsNow(ctx)
	if err != nil {
		return err
	}
	plan, bad := servicemap.Validate(in.Mappings, catalog)
	more, err := plan.ResolveServices(ctx, at, cur)
	if err != nil {
		return err
	}
	if bad = append(bad, more...); len(bad) > 0 {
		servicemap.SortFields(bad)
		return invalid("the service mappings are invalid; nothing was saved", bad...)
	}
	actor := actorFrom(c, "service mappings replaced through the API")
	created, err := plan.CreateServices(ctx, at, st, actor)
	if err != nil {
		return err
	}
	if err := plan.Save(ctx, st, actor); err != nil {
		return err
	}
	out, err := s.listServiceMappings(ctx)
	if err != nil {
		return err
	}
	out.CreatedServices = created
	out.Warnings = s.replanAll(ctx)
	return c.JSON(http.StatusOK, out)
}

// replanAll asks the contract sync to run now so every customer workflow
// re-plans under the new mappings. The mappings are saved either way, so a
// failure here is a warning, not an error.
func (s *Server) replanAll(ctx context.Context) []string {
	cw, err := s.customers()
	if err == nil {
		err = cw.SyncNow(ctx)
	}
	if err != nil {
		s.deps.Logger.WarnContext(ctx, "mappings saved but customers were not asked to re-plan", "error", err.Error())
		return []string{"the mappings are saved, but customers were not asked to re-plan (" + err.Error() + "); POST /api/v1/sync to do it"}
	}
	return nil
}

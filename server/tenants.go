package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AcronisTenants are the customer and sub-partner tenants under the partner
// that a company can be mapped to (SPEC F4).
type AcronisTenants struct {
	Items []AcronisTenant `json:"items"`
}

// AcronisTenant is one mappable tenant. Manageable is false in self-service
// mode (ancestral_access false), where mapping would be refused.
type AcronisTenant struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	ParentID    string `json:"parentId,omitempty"`
	Enabled     bool   `json:"enabled"`
	Manageable  bool   `json:"manageable"`
	SelfService bool   `json:"selfService"`
	// MappedCompanyID is the Autotask company mapped to the tenant, if any.
	MappedCompanyID *int64 `json:"mappedCompanyId,omitempty"`
}

func (s *Server) listTenants(c echo.Context) error {
	q := queryParams{c: c}
	text := strings.ToLower(q.text("q"))
	if err := q.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ac, err := s.acronisClient(ctx)
	if err != nil {
		return err
	}
	st, err := s.mappings()
	if err != nil {
		return err
	}
	partner := ac.PartnerTenantID()
	out := AcronisTenants{Items: []AcronisTenant{}}
	var ids []string
	_, err = ac.EachTenant(ctx, acronis.TenantQuery{SubtreeRootID: partner, Limit: 500}, func(ts []acronis.Tenant) error {
		for _, t := range ts {
			if t.ID == partner || (t.Kind != acronis.KindCustomer && t.Kind != acronis.KindPartner) {
				continue
			}
			if text != "" && !strings.Contains(strings.ToLower(t.Name), text) {
				continue
			}
			out.Items = append(out.Items, AcronisTenant{ID: t.ID, Name: t.Name, Kind: t.Kind, ParentID: t.ParentID, Enabled: t.Enabled,
				Manageable: !t.SelfService(), SelfService: t.SelfService()})
			ids = append(ids, t.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list Acronis tenants under the partner: %w", err)
	}
	if len(ids) == 0 {
		return c.JSON(http.StatusOK, out)
	}
	ms, err := st.ListCustomerMappings(ctx, store.CustomerMappingFilter{TenantIDs: ids})
	if err != nil {
		return fmt.Errorf("list customer mappings: %w", err)
	}
	byTenant := make(map[string]int64, len(ms))
	for _, m := range ms {
		byTenant[m.TenantID] = m.CompanyID
	}
	for i := range out.Items {
		if id, ok := byTenant[out.Items[i].ID]; ok {
			out.Items[i].MappedCompanyID = &id
		}
	}
	return c.JSON(http.StatusOK, out)
}

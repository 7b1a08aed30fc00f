package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// Vendors hands out clients for the credentials in effect, so an admin's new
// secret is used by the next request without a restart.
type Vendors interface {
	Autotask(ctx context.Context) (*autotask.Client, error)
	Acronis(ctx context.Context) (*acronis.Client, error)
	// AutotaskLimiter is the request budget of an API user and integration
	// code, shared with every client of theirs in the fleet.
	AutotaskLimiter(ctx context.Context, username, integrationCode string) (autotask.Limiter, error)
}

// MappingStore is what the mapping and customer endpoints need from the store.
type MappingStore interface {
	ListServiceMappings(ctx context.Context) ([]store.ServiceMapping, error)
	ReplaceServiceMappings(ctx context.Context, rows []store.ServiceMapping, actor store.Actor) ([]store.ServiceMapping, error)
	ListCustomerMappings(ctx context.Context, f store.CustomerMappingFilter) ([]store.CustomerMapping, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
}

// errNotWired means the process was built without a collaborator an endpoint
// needs (e.g. a server started without Temporal); it answers 503, not a panic.
var errNotWired = errors.New("not available in this process")

func (s *Server) autotaskClient(ctx context.Context) (*autotask.Client, error) {
	if s.deps.Vendors == nil {
		return nil, fmt.Errorf("Autotask client: %w", errNotWired)
	}
	c, err := s.deps.Vendors.Autotask(ctx)
	if err != nil {
		return nil, fmt.Errorf("Autotask client: %w", err)
	}
	// REST reads are cached and spend the budget last, so browsing can
	// neither drain the fleet's budget nor hold up tickets.
	return c.Console(), nil
}

func (s *Server) acronisClient(ctx context.Context) (*acronis.Client, error) {
	if s.deps.Vendors == nil {
		return nil, fmt.Errorf("Acronis client: %w", errNotWired)
	}
	c, err := s.deps.Vendors.Acronis(ctx)
	if err != nil {
		return nil, fmt.Errorf("Acronis client: %w", err)
	}
	return c, nil
}

func (s *Server) mappings() (MappingStore, error) {
	if s.deps.Mappings == nil {
		return nil, fmt.Errorf("mapping store: %w", errNotWired)
	}
	return s.deps.Mappings, nil
}

func (s *Server) customers() (CustomerWorkflows, error) {
	if s.deps.Customers == nil {
		return nil, fmt.Errorf("Temporal client: %w", errNotWired)
	}
	return s.deps.Customers, nil
}

// settingsNow returns the settings in effect (defaults before any save).
func (s *Server) settingsNow(ctx context.Context) (settings.Settings, error) {
	doc, err := s.currentSettings(ctx)
	if err != nil {
		return settings.Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return doc.Settings, nil
}

// companyParam reads the :companyID path parameter: a positive integer.
func companyParam(c echo.Context) (int64, error) {
	raw := c.Param("companyID")
	var id int64
	if _, err := fmt.Sscan(raw, &id); err != nil || id <= 0 || fmt.Sprint(id) != raw {
		return 0, invalid("the company id in the path must be a positive integer",
			settings.FieldError{Field: "companyID", Message: "must be a positive integer (an Autotask company id)"})
	}
	return id, nil
}

// requireCompany answers 404 unless the Autotask company exists, so no
// workflow is ever started for a company id that was mistyped.
func (s *Server) requireCompany(ctx context.Context, id int64) (*autotask.Company, error) {
	at, err := s.autotaskClient(ctx)
	if err != nil {
		return nil, err
	}
	co, err := autotask.Get[autotask.Company](ctx, at, id)
	if autotask.IsNotFound(err) {
		p := newProblem(http.StatusNotFound, "company-not-found", fmt.Sprintf("Autotask has no company %d", id))
		p.Errors = []settings.FieldError{{Field: "companyID", Message: "is not an Autotask company"}}
		return nil, p
	}
	if err != nil {
		return nil, fmt.Errorf("read Autotask company %d: %w", id, err)
	}
	return co, nil
}

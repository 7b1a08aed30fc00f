// Package activities holds the side effects workflows ask for: one file per
// external system (Autotask, Acronis) and one for the integration's own store.
// Activities classify errors so Temporal retries only what can succeed later.
package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// StoreAPI is what the store activities need from the database.
type StoreAPI interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	CurrentSettings(ctx context.Context) (store.SettingsVersion, error)
	ListServiceMappings(ctx context.Context) ([]store.ServiceMapping, error)
	CustomerMappingByCompany(ctx context.Context, companyID int64) (store.CustomerMapping, error)
	MapCustomer(ctx context.Context, m store.CustomerMapping, actor store.Actor) (store.CustomerMapping, error)
	UnmapCustomer(ctx context.Context, companyID int64, actor store.Actor) error
	SetCustomerState(ctx context.Context, companyID int64, state, lastError string) error
}

// CatalogSource lists the offering items customers can get.
type CatalogSource func(ctx context.Context) ([]entitlement.Item, error)

// Store gives workflows durable reads and writes of the integration's own database.
type Store struct {
	DB      StoreAPI
	Catalog CatalogSource
	// Day is the length of a deprovisioning "day"; 24h except in end-to-end tests.
	Day time.Duration

	mu          sync.Mutex
	catalog     []entitlement.Item
	catalogTill time.Time
}

// catalogTTL bounds how stale the offering-item catalog may be; it changes
// only when the partner's own services change.
const catalogTTL = 5 * time.Minute

// RecordAudit appends one entry to the audit log.
func (s *Store) RecordAudit(ctx context.Context, e store.AuditEntry) error {
	if err := s.DB.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("record audit %s: %w", e.Kind, err)
	}
	return nil
}

// RecordCustomerEvent audits a lifecycle event decided by a customer workflow.
func (s *Store) RecordCustomerEvent(ctx context.Context, in AuditInput) error {
	actor := in.Actor
	if actor == "" {
		actor = "integration"
	}
	e := store.AuditEntry{Actor: actor, Kind: in.Kind, System: "admin", CompanyID: &in.CompanyID, Reason: in.Reason,
		Target: fmt.Sprintf("company:%d", in.CompanyID)}
	if in.TenantID != "" {
		e.TenantID = &in.TenantID
	}
	return s.RecordAudit(ctx, e)
}

// PlanConfig is everything a customer's plan depends on besides its own
// snapshot and mapping. Previews (issue 14) replace parts of it with settings
// or mappings not saved yet and plan with the very same code.
type PlanConfig struct {
	Settings settings.Settings
	Mappings []store.ServiceMapping
	Catalog  []entitlement.Item
}

// PlanCustomer decides a customer's desired state from its snapshot under the
// current settings, service mappings and catalog.
func (s *Store) PlanCustomer(ctx context.Context, in PlanInput) (entitlement.Plan, error) {
	cfg, err := s.loadPlanConfig(ctx)
	if err != nil {
		return entitlement.Plan{}, err
	}
	return s.planWith(ctx, cfg, in, nil)
}

// Planner lends the store activities' planner to code outside workflows
// (previews) without making its methods activities.
type Planner struct{ Store *Store }

// LoadPlanConfig reads the saved configuration plans are made under.
func (p Planner) LoadPlanConfig(ctx context.Context) (PlanConfig, error) {
	return p.Store.loadPlanConfig(ctx)
}

// PlanWith plans one customer under cfg. tenantID, when not nil, is the
// mapping to plan with instead of the saved one.
func (p Planner) PlanWith(ctx context.Context, cfg PlanConfig, in PlanInput, tenantID *string) (entitlement.Plan, error) {
	return p.Store.planWith(ctx, cfg, in, tenantID)
}

func (s *Store) loadPlanConfig(ctx context.Context) (PlanConfig, error) {
	cur, err := s.currentSettings(ctx)
	if err != nil {
		return PlanConfig{}, err
	}
	mappings, err := s.DB.ListServiceMappings(ctx)
	if err != nil {
		return PlanConfig{}, fmt.Errorf("read service mappings: %w", err)
	}
	catalog, err := s.catalogItems(ctx)
	if err != nil {
		return PlanConfig{}, err
	}
	return PlanConfig{Settings: cur, Mappings: mappings, Catalog: catalog}, nil
}

func (s *Store) planWith(ctx context.Context, cfg PlanConfig, in PlanInput, tenantID *string) (entitlement.Plan, error) {
	em := make([]entitlement.Mapping, 0, len(cfg.Mappings))
	for _, m := range cfg.Mappings {
		e := entitlement.Mapping{ItemName: m.OfferingItem, InfraID: m.InfraID, Free: m.Free}
		if m.ServiceID != nil {
			e.ServiceID = *m.ServiceID
		}
		if m.OverageServiceID != nil {
			e.OverageServiceID = *m.OverageServiceID
		}
		em = append(em, e)
	}
	snap := in.Snapshot
	today := in.Today
	if today.IsZero() {
		today = snap.ObservedAt
	}
	desired := entitlement.Decide(entitlement.Input{
		Today:            today,
		Catalog:          cfg.Catalog,
		Mappings:         em,
		Contracts:        snap.Contracts,
		BundleServices:   snap.BundleServices,
		DefaultStorageID: cfg.Settings.Provisioning.DefaultStorageID,
		BackupStorage:    cfg.Settings.BackupStorageEnabled(),
	})
	if !snap.Active && desired.HasActiveServices {
		desired.HasActiveServices = false
		desired.Warnings = append(desired.Warnings, "the company is inactive in Autotask: its services count as ended")
	}
	plan := entitlement.Plan{Desired: desired, Settings: s.customerSettings(cfg.Settings)}
	if tenantID != nil {
		plan.TenantID = *tenantID
		return plan, nil
	}
	m, err := s.DB.CustomerMappingByCompany(ctx, snap.CompanyID)
	switch {
	case err == nil:
		plan.TenantID = m.TenantID
	case !errors.Is(err, store.ErrNotFound):
		return entitlement.Plan{}, fmt.Errorf("read mapping of company %d: %w", snap.CompanyID, err)
	}
	return plan, nil
}

func (s *Store) currentSettings(ctx context.Context) (settings.Settings, error) {
	v, err := s.DB.CurrentSettings(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return settings.Defaults(), nil
	}
	if err != nil {
		return settings.Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return settings.Decode(v.Document)
}

func (s *Store) customerSettings(st settings.Settings) entitlement.CustomerSettings {
	day := s.Day
	if day <= 0 {
		day = 24 * time.Hour
	}
	d := st.Deprovisioning
	return entitlement.CustomerSettings{
		BillingEnabled:      st.BillingEnabled,
		AutoCreateCustomers: st.Provisioning.AutoCreateCustomers,
		AccountsBasedOn:     string(st.Provisioning.CreateAccountsBasedOn),
		ActivationEmail:     st.Provisioning.ActivationEmail,
		TwoFactor:           st.Provisioning.TwoFactorAuthentication,
		TenantMode:          string(st.Provisioning.TenantMode),
		ZeroQuotas:          d.ZeroQuotas,
		DisableEnabled:      d.Disable.Enabled,
		DisableAfter:        time.Duration(d.Disable.AfterDays) * day,
		DeleteEnabled:       d.Delete.Enabled,
		TwoWaySync:          st.TwoWaySync,
		DeleteAfter:         time.Duration(d.Delete.AfterDays) * day,
		Shadow:              st.Shadow(),
	}
}

func (s *Store) catalogItems(ctx context.Context) ([]entitlement.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.catalog != nil && time.Now().Before(s.catalogTill) {
		return s.catalog, nil
	}
	items, err := s.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	s.catalog, s.catalogTill = items, time.Now().Add(catalogTTL)
	return items, nil
}

// RecordAutomaticMapping records the mapping of a tenant provisioning created.
// Repeating it is harmless; a clash with another mapping is refused.
func (s *Store) RecordAutomaticMapping(ctx context.Context, in MapInput) error {
	_, err := s.DB.MapCustomer(ctx, store.CustomerMapping{CompanyID: in.CompanyID, TenantID: in.TenantID, How: store.MappedAutomatically},
		store.Actor{Name: in.Actor, Reason: "tenant provisioned for the company"})
	return classify("record mapping", err)
}

// RemoveMapping deletes a company's mapping (admin action or tenant deleted).
func (s *Store) RemoveMapping(ctx context.Context, in UnmapInput) error {
	err := s.DB.UnmapCustomer(ctx, in.CompanyID, store.Actor{Name: in.Actor, Reason: in.Reason})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return classify("remove mapping", err)
}

package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// ErrTypeShadow: shadow mode kept a write whose answer the caller needs (a
// usage report Acronis would generate); the step waits for live mode.
const ErrTypeShadow = "ShadowMode"

// WriteGate is the one place per vendor where shadow mode holds writes back:
// activities get their vendor clients through it, and in shadow mode those
// clients record each write (shadow.Write) instead of sending it. The mode
// is read when the activity asks for its client, never from workflow
// history, so switching to live takes effect at the next activity.
type WriteGate struct {
	Store interface {
		CurrentSettings(ctx context.Context) (store.SettingsVersion, error)
		RecordShadowWrite(ctx context.Context, w shadow.Write) error
	}
}

// Shadow reports whether the saved settings say mode=shadow.
func (g *WriteGate) Shadow(ctx context.Context) (bool, error) {
	if g == nil || g.Store == nil {
		return false, nil
	}
	v, err := g.Store.CurrentSettings(ctx)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("read the mode: %w", err)
	}
	s, err := settings.Decode(v.Document)
	if err != nil {
		return false, fmt.Errorf("read the mode: %w", err)
	}
	return s.Shadow(), nil
}

// record stores w, naming the company (from the context, a placeholder
// tenant or the customer workflow's id) and the workflow and activity that
// would have written. A failure fails the activity, which retries: a write
// neither sent nor recorded would make the report lie.
func (g *WriteGate) record(ctx context.Context, w shadow.Write) error {
	company, warnings := shadow.CustomerOf(ctx)
	if w.CompanyID == 0 {
		w.CompanyID = company
	}
	w.Warnings = warnings
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		w.WorkflowID, w.Activity = info.WorkflowExecution.ID, info.ActivityType.Name
		if w.CompanyID == 0 {
			var id int64
			if _, err := fmt.Sscanf(info.WorkflowExecution.ID, "customer-%d", &id); err == nil {
				w.CompanyID = id
			}
		}
	}
	if err := g.Store.RecordShadowWrite(ctx, w); err != nil {
		return fmt.Errorf("record shadow write %s: %w", w.Operation, err)
	}
	return nil
}

// Autotask returns c, or in shadow mode a view of it whose writes are recorded.
func (g *WriteGate) Autotask(ctx context.Context, c *autotask.Client) (*autotask.Client, error) {
	on, err := g.Shadow(ctx)
	if err != nil || !on {
		return c, err
	}
	return c.WithWriteGate(func(ctx context.Context, method, path string, body any) error {
		w := shadow.Write{Vendor: shadow.VendorAutotask, Operation: method + " " + path, Target: path, Payload: shadow.Summary(body)}
		w.CompanyID = autotaskCompany(body)
		return g.record(ctx, w)
	}), nil
}

// autotaskCompany is the companyID field of an Autotask write body (tickets carry one), or 0.
func autotaskCompany(body any) int64 {
	var v struct {
		CompanyID *int64 `json:"companyID"`
	}
	raw := shadow.Summary(body)
	if err := json.Unmarshal(raw, &v); err != nil || v.CompanyID == nil {
		return 0
	}
	return *v.CompanyID
}

// Acronis returns c behind the gate: in shadow mode its writes are recorded.
func (g *WriteGate) Acronis(ctx context.Context, c *acronis.Client) (*GatedAcronis, error) {
	on, err := g.Shadow(ctx)
	if err != nil {
		return nil, err
	}
	return &GatedAcronis{Client: c, shadow: on, gate: g}, nil
}

// GatedAcronis is the Acronis client as activities see it. In shadow mode
// every write method records the write and answers as Acronis would have,
// without calling it; a tenant shadow mode would have created gets a
// placeholder id (shadow.PlaceholderTenant) that reads answer for locally,
// as an empty new tenant, and that is never sent to Acronis.
type GatedAcronis struct {
	*acronis.Client
	shadow bool
	gate   *WriteGate
}

// Shadow reports whether this client records writes instead of sending them.
func (g *GatedAcronis) Shadow() bool { return g.shadow }

func (g *GatedAcronis) hold(ctx context.Context, op, target string, body any) error {
	w := shadow.Write{Vendor: shadow.VendorAcronis, Operation: op, Target: target, Payload: shadow.Summary(body)}
	if strings.HasPrefix(target, "tenant:") {
		w.CompanyID = shadow.PlaceholderCompany(strings.TrimPrefix(target, "tenant:"))
	}
	return g.gate.record(ctx, w)
}

// CreateTenant records the creation and answers with a placeholder tenant.
func (g *GatedAcronis) CreateTenant(ctx context.Context, t acronis.TenantCreate) (acronis.Tenant, error) {
	if !g.shadow {
		return g.Client.CreateTenant(ctx, t)
	}
	var company int64
	if t.CustomerID != nil {
		_, _ = fmt.Sscan(*t.CustomerID, &company)
	}
	w := shadow.Write{CompanyID: company, Vendor: shadow.VendorAcronis, Operation: "POST /api/2/tenants", Target: "tenants", Payload: shadow.Summary(t)}
	if err := g.gate.record(ctx, w); err != nil {
		return acronis.Tenant{}, err
	}
	return acronis.Tenant{ID: shadow.PlaceholderTenant(company), Name: t.Name, Kind: t.Kind, ParentID: t.ParentID, InternalTag: t.InternalTag, Enabled: true}, nil
}

// GetTenant answers for a placeholder tenant without asking Acronis.
func (g *GatedAcronis) GetTenant(ctx context.Context, id string) (acronis.Tenant, error) {
	if shadow.IsPlaceholder(id) {
		return acronis.Tenant{ID: id, Kind: acronis.KindCustomer, Enabled: true}, nil
	}
	return g.Client.GetTenant(ctx, id)
}

// TenantUsers: a placeholder tenant has none.
func (g *GatedAcronis) TenantUsers(ctx context.Context, tenantID string) ([]string, error) {
	if shadow.IsPlaceholder(tenantID) {
		return nil, nil
	}
	return g.Client.TenantUsers(ctx, tenantID)
}

// ListOfferingItems: a placeholder tenant has every item off.
func (g *GatedAcronis) ListOfferingItems(ctx context.Context, tenantID, edition string) ([]acronis.OfferingItem, error) {
	if shadow.IsPlaceholder(tenantID) {
		return nil, nil
	}
	return g.Client.ListOfferingItems(ctx, tenantID, edition)
}

// GetTenantUsages: a placeholder tenant has used nothing.
func (g *GatedAcronis) GetTenantUsages(ctx context.Context, tenantID string, names ...string) ([]acronis.Usage, error) {
	if shadow.IsPlaceholder(tenantID) {
		return nil, nil
	}
	return g.Client.GetTenantUsages(ctx, tenantID, names...)
}

// SetTenantEnabled records the switch in shadow mode.
func (g *GatedAcronis) SetTenantEnabled(ctx context.Context, id string, version int64, enabled bool) (acronis.Tenant, error) {
	if !g.shadow {
		return g.Client.SetTenantEnabled(ctx, id, version, enabled)
	}
	if err := g.hold(ctx, "PUT /api/2/tenants/{id}", "tenant:"+id, map[string]any{"enabled": enabled}); err != nil {
		return acronis.Tenant{}, err
	}
	return acronis.Tenant{ID: id, Version: version, Enabled: enabled}, nil
}

// DeleteTenant records the deletion in shadow mode.
func (g *GatedAcronis) DeleteTenant(ctx context.Context, id string, version int64) error {
	if !g.shadow {
		return g.Client.DeleteTenant(ctx, id, version)
	}
	return g.hold(ctx, "DELETE /api/2/tenants/{id}", "tenant:"+id, nil)
}

// SetPricingMode records the change in shadow mode.
func (g *GatedAcronis) SetPricingMode(ctx context.Context, tenantID, mode string) (acronis.Pricing, error) {
	if !g.shadow {
		return g.Client.SetPricingMode(ctx, tenantID, mode)
	}
	return acronis.Pricing{Mode: mode}, g.hold(ctx, "PUT /api/2/tenants/{id}/pricing", "tenant:"+tenantID, map[string]any{"mode": mode})
}

// SetMFA records the change in shadow mode.
func (g *GatedAcronis) SetMFA(ctx context.Context, tenantID string, enabled bool) (acronis.MFAStatus, error) {
	if !g.shadow {
		return g.Client.SetMFA(ctx, tenantID, enabled)
	}
	st := acronis.MFAStatus{MFAStatus: acronis.MFAEnabled}
	if !enabled {
		st.MFAStatus = "disabled"
	}
	return st, g.hold(ctx, "PUT /api/2/tenants/{id}/mfa/status", "tenant:"+tenantID, map[string]any{"enabled": enabled})
}

// EnableApplication records the binding in shadow mode.
func (g *GatedAcronis) EnableApplication(ctx context.Context, appID, tenantID string) error {
	if !g.shadow {
		return g.Client.EnableApplication(ctx, appID, tenantID)
	}
	return g.hold(ctx, "POST /api/2/applications/{id}/bindings/tenants/{id}", "tenant:"+tenantID, map[string]any{"application": appID})
}

// SetOfferingItems records the quotas in shadow mode.
func (g *GatedAcronis) SetOfferingItems(ctx context.Context, tenantID string, items []acronis.OfferingItem) ([]acronis.OfferingItem, error) {
	if !g.shadow {
		return g.Client.SetOfferingItems(ctx, tenantID, items)
	}
	return items, g.hold(ctx, "PUT /api/2/tenants/{id}/offering_items", "tenant:"+tenantID, map[string]any{"offering_items": items})
}

// CreateUser records the user in shadow mode and answers with a placeholder id.
func (g *GatedAcronis) CreateUser(ctx context.Context, u acronis.UserCreate) (acronis.User, error) {
	if !g.shadow {
		return g.Client.CreateUser(ctx, u)
	}
	if err := g.hold(ctx, "POST /api/2/users", "tenant:"+u.TenantID, u); err != nil {
		return acronis.User{}, err
	}
	return acronis.User{ID: "shadow-user-of-" + u.TenantID, Login: u.Login, TenantID: u.TenantID, Contact: u.Contact, ExternalID: u.ExternalID}, nil
}

// SetAccessPolicies records the roles in shadow mode.
func (g *GatedAcronis) SetAccessPolicies(ctx context.Context, userID string, policies []acronis.AccessPolicy) ([]acronis.AccessPolicy, error) {
	if !g.shadow {
		return g.Client.SetAccessPolicies(ctx, userID, policies)
	}
	target := "user:" + userID
	if len(policies) > 0 {
		target = "tenant:" + policies[0].TenantID
	}
	return policies, g.hold(ctx, "PUT /api/2/users/{id}/access_policies", target, map[string]any{"items": policies})
}

// SendActivationEmail records the email in shadow mode.
func (g *GatedAcronis) SendActivationEmail(ctx context.Context, userID string) error {
	if !g.shadow {
		return g.Client.SendActivationEmail(ctx, userID)
	}
	tenant := strings.TrimPrefix(userID, "shadow-user-of-")
	if tenant == userID {
		return g.hold(ctx, "POST /api/2/users/{id}/send-activation-email", "user:"+userID, nil)
	}
	return g.hold(ctx, "POST /api/2/users/{id}/send-activation-email", "tenant:"+tenant, nil)
}

// DismissAlert records the dismissal in shadow mode.
func (g *GatedAcronis) DismissAlert(ctx context.Context, id string) error {
	if !g.shadow {
		return g.Client.DismissAlert(ctx, id)
	}
	return g.hold(ctx, "DELETE /api/alert_manager/v1/alerts/{id}", "alert:"+id, nil)
}

// CreateReport records the report in shadow mode and fails the step without
// retrying: there is no report to poll until Acronis generates one in live mode.
func (g *GatedAcronis) CreateReport(ctx context.Context, r acronis.Report) (acronis.Report, error) {
	if !g.shadow {
		return g.Client.CreateReport(ctx, r)
	}
	if err := g.hold(ctx, "POST /api/2/reports", "reports", r); err != nil {
		return acronis.Report{}, err
	}
	return acronis.Report{}, temporal.NewNonRetryableApplicationError("shadow mode: the usage report was recorded, not created in Acronis", ErrTypeShadow, nil)
}

// GatedStore is the store as activities that write to vendors see it: in
// shadow mode it drops their audit entries about Autotask and Acronis
// writes, since those writes were recorded in the shadow report, not made.
type GatedStore struct {
	*store.Store
	Gate *WriteGate
}

// AppendAudit appends e unless it describes a vendor write shadow mode held back.
func (s GatedStore) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.System == store.SystemAcronis || e.System == store.SystemAutotask {
		on, err := s.Gate.Shadow(ctx)
		if err != nil {
			return err
		}
		if on {
			return nil
		}
	}
	return s.Store.AppendAudit(ctx, e)
}

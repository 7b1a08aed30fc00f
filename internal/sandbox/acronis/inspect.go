package acronis

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// TenantInfo is a snapshot of a tenant for tests and scripts.
type TenantInfo struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Kind            string   `json:"kind"`
	ParentID        string   `json:"parent_id"`
	Version         int64    `json:"version"`
	Enabled         bool     `json:"enabled"`
	Deleted         bool     `json:"deleted"`
	AncestralAccess bool     `json:"ancestral_access"`
	SupportAccess   bool     `json:"support_access"`
	MFA             bool     `json:"mfa"`
	PricingMode     string   `json:"pricing_mode"`
	Applications    []string `json:"applications"`
	Users           int      `json:"users"`
}

// ItemInfo is a snapshot of one offering item of a tenant with its use.
type ItemInfo struct {
	Name          string   `json:"name"`
	InfraID       string   `json:"infra_id,omitempty"`
	Enabled       bool     `json:"enabled"`
	Quota         *float64 `json:"quota"`
	Overage       *float64 `json:"overage"`
	Version       int64    `json:"version"`
	Usage         float64  `json:"usage"`
	AbsoluteUsage float64  `json:"absolute_usage"`
}

// UserInfo is a snapshot of a user.
type UserInfo struct {
	ID               string   `json:"id"`
	Login            string   `json:"login"`
	Email            string   `json:"email"`
	TenantID         string   `json:"tenant_id"`
	Roles            []string `json:"roles"`
	Activated        bool     `json:"activated"`
	ActivationEmails int      `json:"activation_emails"`
}

// AlertInfo is a snapshot of an alert.
type AlertInfo struct {
	ID        string `json:"id"`
	TenantID  string `json:"tenant_id"`
	Type      string `json:"type"`
	Severity  string `json:"severity"`
	Dismissed bool   `json:"dismissed"`
}

// AlertSpec describes an alert to raise. A known ID re-raises that alert
// (same id, new details), as Acronis does for a recurring problem.
type AlertSpec struct {
	ID       string         `json:"id,omitempty"`
	TenantID string         `json:"tenant_id"`
	Type     string         `json:"type"`
	Severity string         `json:"severity,omitempty"`
	Details  map[string]any `json:"details,omitempty"`
}

func (s *Sandbox) info(t *tenant) TenantInfo {
	users := 0
	for _, id := range t.users {
		if u := s.st.users[id]; u != nil && !u.deleted {
			users++
		}
	}
	return TenantInfo{ID: t.id, Name: t.name, Kind: t.kind, ParentID: t.parentID, Version: t.version, Enabled: t.enabled,
		Deleted: t.deleted(), AncestralAccess: t.ancestralAccess, SupportAccess: t.supportAccess, MFA: t.mfa,
		PricingMode: t.pricingMode, Applications: slices.Clone(t.apps), Users: users}
}

// Tenant reads a tenant by id, deleted ones included.
func (s *Sandbox) Tenant(id string) (TenantInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.tenants[strings.ToLower(id)]
	if t == nil {
		return TenantInfo{}, false
	}
	return s.info(t), true
}

// TenantByName reads a live tenant by name, case-insensitively.
func (s *Sandbox) TenantByName(name string) (TenantInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.byName[strings.ToLower(name)]
	if t == nil || t.deleted() {
		return TenantInfo{}, false
	}
	return s.info(t), true
}

// CountTenants counts the live tenants below the partner of a kind ("" for all).
func (s *Sandbox) CountTenants(kind string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, t := range s.st.order {
		if !t.deleted() && t.id != PartnerID && t.id != RootID && (kind == "" || t.kind == kind) {
			n++
		}
	}
	return n
}

// CountUsers counts the live users of a tenant ("" for all tenants).
func (s *Sandbox) CountUsers(tenantID string) int {
	return len(s.Users(tenantID))
}

// Users lists the live users of a tenant ("" for all tenants).
func (s *Sandbox) Users(tenantID string) []UserInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []UserInfo
	for _, u := range s.st.users {
		if u.deleted || (tenantID != "" && !strings.EqualFold(u.tenantID, tenantID)) {
			continue
		}
		ui := UserInfo{ID: u.id, Login: u.login, Email: u.contact.Email, TenantID: u.tenantID, Activated: u.activated, ActivationEmails: u.activationEmails}
		for _, p := range u.policies {
			ui.Roles = append(ui.Roles, p.RoleID)
		}
		out = append(out, ui)
	}
	slices.SortFunc(out, func(a, b UserInfo) int { return strings.Compare(a.Login, b.Login) })
	return out
}

// ActivateUser marks a user activated, as if they followed the email link.
func (s *Sandbox) ActivateUser(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.users[strings.ToLower(id)]
	if u == nil || u.deleted {
		return fmt.Errorf("acronis sandbox: no user %s", id)
	}
	u.activated = true
	return nil
}

// OfferingItems lists a tenant's enabled items and items with recorded use.
func (s *Sandbox) OfferingItems(tenantID string) ([]ItemInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.live(tenantID)
	if t == nil {
		return nil, fmt.Errorf("acronis sandbox: no tenant %s", tenantID)
	}
	var out []ItemInfo
	for i, c := range catalog {
		it, u := t.items[i], t.usages[i]
		if (it == nil || it.status != 1) && u == nil {
			continue
		}
		out = append(out, itemInfo(c, it, u))
	}
	return out, nil
}

func itemInfo(c catItem, it *itemState, u *usageState) ItemInfo {
	info := ItemInfo{Name: c.name, InfraID: c.infraID}
	if it != nil && it.status == 1 {
		info.Enabled, info.Quota, info.Overage, info.Version = true, copyF(it.value), copyF(it.overage), it.version
	}
	if u != nil {
		info.Usage, info.AbsoluteUsage = u.value, u.absolute
	}
	return info
}

// OfferingItem reads one item of a tenant; infraID "" means the default
// storage for storage items.
func (s *Sandbox) OfferingItem(tenantID, name, infraID string) (ItemInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.live(tenantID)
	if t == nil {
		return ItemInfo{}, fmt.Errorf("acronis sandbox: no tenant %s", tenantID)
	}
	i := catIndex(name, infraID)
	if i < 0 {
		return ItemInfo{}, fmt.Errorf("acronis sandbox: no offering item %s (infra %q)", name, infraID)
	}
	return itemInfo(catalog[i], t.items[i], t.usages[i]), nil
}

// SetQuota changes a quota as an admin would in the Acronis console: the item
// is enabled if needed and its quota version goes up, so a client holding the
// old version gets the real conflict. A nil value is unlimited.
func (s *Sandbox) SetQuota(tenantID, name, infraID string, value, overage *float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.live(tenantID)
	if t == nil {
		return fmt.Errorf("acronis sandbox: no tenant %s", tenantID)
	}
	i := catIndex(name, infraID)
	if i < 0 {
		return fmt.Errorf("acronis sandbox: no offering item %s (infra %q)", name, infraID)
	}
	it := t.items[i]
	if it == nil {
		it = &itemState{}
		t.items[i] = it
	}
	it.status = 1
	it.value, it.overage = copyF(value), copyF(overage)
	if value == nil {
		it.version, it.overage = 0, nil
	} else {
		it.version++
	}
	t.updatedAt = s.now()
	return nil
}

// SetUsage records the measured use of an item by a tenant (value: current,
// absolute: accumulated).
func (s *Sandbox) SetUsage(tenantID, name, infraID string, value, absolute float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.live(tenantID)
	if t == nil {
		return fmt.Errorf("acronis sandbox: no tenant %s", tenantID)
	}
	i := catIndex(name, infraID)
	if i < 0 {
		return fmt.Errorf("acronis sandbox: no offering item %s (infra %q)", name, infraID)
	}
	if t.usages == nil {
		t.usages = map[int]*usageState{}
	}
	t.usages[i] = &usageState{value: value, absolute: absolute}
	return nil
}

// SetAncestralAccess switches a tenant between managed by the service
// provider (true) and self-service (false).
func (s *Sandbox) SetAncestralAccess(tenantID string, on bool) error {
	return s.withTenant(tenantID, func(t *tenant) {
		if t.ancestralAccess != on {
			t.ancestralAccess = on
			t.version++
			t.updatedAt = s.now()
		}
	})
}

// SetSupportAccess allows or refuses the partner's access inside a tenant
// (its users and roles), as when a customer disables support access.
func (s *Sandbox) SetSupportAccess(tenantID string, on bool) error {
	return s.withTenant(tenantID, func(t *tenant) { t.supportAccess = on })
}

// SetMFA turns two-factor authentication of a tenant on or off.
func (s *Sandbox) SetMFA(tenantID string, on bool) error {
	return s.withTenant(tenantID, func(t *tenant) { t.mfa = on })
}

func (s *Sandbox) withTenant(id string, fn func(*tenant)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.live(id)
	if t == nil {
		return fmt.Errorf("acronis sandbox: no tenant %s", id)
	}
	fn(t)
	return nil
}

// RaiseAlert raises an alert on a tenant and returns its id. Severity
// defaults to the type's. Re-raising a known id reactivates it.
func (s *Sandbox) RaiseAlert(spec AlertSpec) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.live(spec.TenantID)
	if t == nil {
		return "", fmt.Errorf("acronis sandbox: no tenant %s", spec.TenantID)
	}
	if spec.Type == "" {
		return "", fmt.Errorf("acronis sandbox: alert type is required")
	}
	typ, known := alertTypeByID(spec.Type)
	sev := spec.Severity
	if sev == "" {
		sev = typ.severity
	}
	if sev == "" {
		sev = "warning"
	}
	if _, ok := severityRank[sev]; !ok {
		return "", fmt.Errorf("acronis sandbox: unknown severity %q", sev)
	}
	category := typ.category
	if !known {
		category = "Custom"
	}
	now := s.now()
	id := strings.ToUpper(spec.ID)
	if a := s.st.alerts[id]; id != "" && a != nil {
		a.deleted, a.deletedAt = false, time.Time{}
		a.severity, a.details, a.typ, a.category = sev, spec.Details, spec.Type, category
		a.updatedAt, a.receivedAt = later(a.updatedAt, now), now
		return id, nil
	}
	if id == "" {
		id = strings.ToUpper(uuid.NewString())
	}
	s.st.alerts[id] = &alert{id: id, typ: spec.Type, category: category, severity: sev, details: spec.Details,
		tenantID: t.id, createdAt: now, updatedAt: now, receivedAt: now}
	return id, nil
}

// DismissAlert clears an alert as Acronis does when the problem is resolved
// or someone dismisses it: it stays visible with show_deleted.
func (s *Sandbox) DismissAlert(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.alerts[strings.ToUpper(id)]
	if a == nil {
		return fmt.Errorf("acronis sandbox: no alert %s", id)
	}
	s.dismissLocked(a, s.now())
	return nil
}

// DeleteAlert removes an alert entirely (as after retention).
func (s *Sandbox) DeleteAlert(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.alerts[strings.ToUpper(id)] == nil {
		return fmt.Errorf("acronis sandbox: no alert %s", id)
	}
	delete(s.st.alerts, strings.ToUpper(id))
	return nil
}

// Alerts lists the alerts of a tenant ("" for all), dismissed ones included.
func (s *Sandbox) Alerts(tenantID string) []AlertInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []AlertInfo
	for _, a := range s.st.sortedAlerts() {
		if tenantID == "" || strings.EqualFold(a.tenantID, tenantID) {
			out = append(out, AlertInfo{ID: a.id, TenantID: a.tenantID, Type: a.typ, Severity: a.severity, Dismissed: a.deleted})
		}
	}
	return out
}

package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// AcronisAPI is the part of the Acronis client the activities use.
type AcronisAPI interface {
	PartnerTenantID() string
	GetTenant(ctx context.Context, id string) (acronis.Tenant, error)
	EachTenant(ctx context.Context, q acronis.TenantQuery, fn func([]acronis.Tenant) error) (time.Time, error)
	CreateTenant(ctx context.Context, t acronis.TenantCreate) (acronis.Tenant, error)
	SetTenantEnabled(ctx context.Context, id string, version int64, enabled bool) (acronis.Tenant, error)
	DeleteTenant(ctx context.Context, id string, version int64) error
	SetPricingMode(ctx context.Context, tenantID, mode string) (acronis.Pricing, error)
	SetMFA(ctx context.Context, tenantID string, enabled bool) (acronis.MFAStatus, error)
	CyberProtection(ctx context.Context) (acronis.Application, error)
	EnableApplication(ctx context.Context, appID, tenantID string) error
	AvailableForChild(ctx context.Context, parentID, kind, edition string) ([]acronis.OfferingItem, error)
	ListOfferingItems(ctx context.Context, tenantID, edition string) ([]acronis.OfferingItem, error)
	SetOfferingItems(ctx context.Context, tenantID string, items []acronis.OfferingItem) ([]acronis.OfferingItem, error)
	CheckLogin(ctx context.Context, login string) (bool, error)
	CreateUser(ctx context.Context, u acronis.UserCreate) (acronis.User, error)
	GetUser(ctx context.Context, id string) (acronis.User, error)
	TenantUsers(ctx context.Context, tenantID string) ([]string, error)
	SetAccessPolicies(ctx context.Context, userID string, policies []acronis.AccessPolicy) ([]acronis.AccessPolicy, error)
	SendActivationEmail(ctx context.Context, userID string) error
	CheckManageable(ctx context.Context, tenantID string) (acronis.Manageability, error)
	GetTenantUsages(ctx context.Context, tenantID string, usageNames ...string) ([]acronis.Usage, error)
}

// AcronisSource returns the Acronis client for the current credentials, which
// an admin may change at any time through the API.
type AcronisSource func(ctx context.Context) (AcronisAPI, error)

// AcronisStore is what the Acronis activities record in the integration's database.
type AcronisStore interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	ListAudit(ctx context.Context, f store.AuditFilter) (store.AuditPage, error)
	MapCustomer(ctx context.Context, m store.CustomerMapping, actor store.Actor) (store.CustomerMapping, error)
	CustomerMappingByTenant(ctx context.Context, tenantID string) (store.CustomerMapping, error)
}

// Acronis holds the activities that write to Acronis. Every write is audited.
type Acronis struct {
	Client AcronisSource
	Store  AcronisStore

	mu    sync.Mutex
	appID string // the Cyber Protection application, looked up once
}

// Audit kinds of Acronis writes.
const (
	auditTenantCreate    = "acronis.tenant.create"
	auditTenantUpdate    = "acronis.tenant.update"
	auditTenantDelete    = "acronis.tenant.delete"
	auditQuotas          = "acronis.offering_items.update"
	auditUserCreate      = "acronis.user.create"
	auditActivationEmail = "acronis.user.activation_email"
)

// InternalTag marks a tenant as the one provisioned for an Autotask company:
// the natural key that lets a retry find a tenant an interrupted attempt created.
func InternalTag(companyID int64) string {
	return "autotask:company:" + strconv.FormatInt(companyID, 10)
}

// ProvisionTenant creates the company's customer tenant (or finds the one an
// earlier attempt created), sets 2FA and pricing mode, enables Cyber
// Protection, creates the admin user and sends its activation email once.
func (a *Acronis) ProvisionTenant(ctx context.Context, in ProvisionInput) (Provisioned, error) {
	ctx = shadow.WithCustomer(ctx, in.CompanyID, in.Warnings)
	api, err := a.Client(ctx)
	if err != nil {
		return Provisioned{}, err
	}
	mayExist := in.MayExist || activity.GetInfo(ctx).Attempt > 1
	t, created, err := a.ensureTenant(ctx, api, in, mayExist)
	if err != nil {
		return Provisioned{}, err
	}
	out := Provisioned{TenantID: t.ID, TenantCreated: created}
	activity.RecordHeartbeat(ctx, heartbeatTenantPrefix+t.ID)

	if in.Settings.TwoFactor && t.MFAStatus != "enabled" {
		if _, err := api.SetMFA(ctx, t.ID, true); err != nil {
			return out, classify("enable two-factor authentication", err)
		}
		a.audit(ctx, in.CompanyID, t.ID, auditTenantUpdate, "two-factor authentication enabled for new customers", nil, map[string]any{"mfa": "enabled"})
	}
	if mode := in.Settings.TenantMode; mode == "production" && t.PricingMode != "production" {
		if _, err := api.SetPricingMode(ctx, t.ID, mode); err != nil {
			return out, classify("set production mode", err)
		}
		a.audit(ctx, in.CompanyID, t.ID, auditTenantUpdate, "new customers start in production mode", map[string]any{"pricing_mode": t.PricingMode}, map[string]any{"pricing_mode": mode})
	}
	appID, err := a.cyberProtection(ctx, api)
	if err != nil {
		return out, err
	}
	if err := api.EnableApplication(ctx, appID, t.ID); err != nil && !acronis.IsConflict(err) {
		return out, classify("enable Cyber Protection", err)
	}

	user, err := a.ensureAdmin(ctx, api, in, t.ID)
	if err != nil {
		return out, err
	}
	out.AdminUserID, out.AdminLogin, out.ActivationEmailTo = user.ID, user.Login, user.Contact.Email
	sentAt, err := a.sendActivationOnce(ctx, api, in.CompanyID, t.ID, user)
	if err != nil {
		return out, err
	}
	out.ActivationSentAt = sentAt
	return out, nil
}

// cyberProtection returns the Cyber Protection application id, asking Acronis
// only once per process: it never changes, and provisioning needs it for every customer.
func (a *Acronis) cyberProtection(ctx context.Context, api AcronisAPI) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.appID != "" {
		return a.appID, nil
	}
	app, err := api.CyberProtection(ctx)
	if err != nil {
		return "", classify("find the Cyber Protection service", err)
	}
	a.appID = app.ID
	return app.ID, nil
}

// ensureTenant finds the company's tenant by its internal tag when an earlier
// attempt may have created it, and creates it otherwise.
func (a *Acronis) ensureTenant(ctx context.Context, api AcronisAPI, in ProvisionInput, mayExist bool) (acronis.Tenant, bool, error) {
	tag := InternalTag(in.CompanyID)
	if id := heartbeatTenant(ctx); id != "" {
		// An earlier attempt of this activity created or found the tenant: read
		// it by id instead of listing every tenant of the partner.
		t, err := api.GetTenant(ctx, id)
		if err == nil && t.DeletedAt.IsZero() && t.InternalTag != nil && *t.InternalTag == tag {
			return t, false, nil
		}
		if err != nil && !acronis.IsNotFound(err) {
			return t, false, classify("read the tenant of an earlier attempt", err)
		}
	}
	if mayExist {
		t, found, err := findByTag(ctx, api, tag)
		if err != nil {
			return t, false, classify("look for an existing tenant", err)
		}
		if found {
			return t, false, nil
		}
	}
	customerID := strconv.FormatInt(in.CompanyID, 10)
	create := acronis.TenantCreate{
		Name:        in.CompanyName,
		Kind:        acronis.KindCustomer,
		ParentID:    api.PartnerTenantID(),
		CustomerID:  &customerID,
		InternalTag: &tag,
	}
	if in.Contact != nil && in.Contact.Email != "" {
		create.Contact = &acronis.Contact{Email: in.Contact.Email, Firstname: in.Contact.FirstName, Lastname: in.Contact.LastName}
	}
	t, err := api.CreateTenant(ctx, create)
	if acronis.IsConflict(err) {
		// A tenant of this name exists: ours from a lost answer, or someone else's.
		found, ok, ferr := findByTag(ctx, api, tag)
		if ferr != nil {
			return t, false, classify("look for an existing tenant", ferr)
		}
		if ok {
			return found, false, nil
		}
		// Never a second customer of the same name: an admin maps the company to it.
		return t, false, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("a tenant named %q already exists in Acronis and was not created by this integration; map company %d to it (PUT /api/v1/customers/%d/mapping)", in.CompanyName, in.CompanyID, in.CompanyID),
			ErrTypeNameTaken, err)
	}
	if err != nil {
		return t, false, classify("create tenant "+create.Name, err)
	}
	a.audit(ctx, in.CompanyID, t.ID, auditTenantCreate, "automatic provisioning: the company has an active contract with mapped services", nil, map[string]any{"name": t.Name, "kind": t.Kind, "internal_tag": tag})
	return t, true, nil
}

// heartbeatTenant is the tenant id an earlier attempt of this activity
// heartbeated ("tenant <id>"), or "".
func heartbeatTenant(ctx context.Context) string {
	var detail string
	if !activity.HasHeartbeatDetails(ctx) || activity.GetHeartbeatDetails(ctx, &detail) != nil {
		return ""
	}
	id, ok := strings.CutPrefix(detail, heartbeatTenantPrefix)
	if !ok {
		return ""
	}
	return id
}

// heartbeatTenantPrefix starts ProvisionTenant's heartbeat once the tenant exists.
const heartbeatTenantPrefix = "tenant "

func findByTag(ctx context.Context, api AcronisAPI, tag string) (acronis.Tenant, bool, error) {
	var found acronis.Tenant
	var ok bool
	errStop := errors.New("found")
	_, err := api.EachTenant(ctx, acronis.TenantQuery{ParentID: api.PartnerTenantID(), Limit: 500}, func(ts []acronis.Tenant) error {
		for _, t := range ts {
			if t.InternalTag != nil && *t.InternalTag == tag && t.DeletedAt.IsZero() {
				found, ok = t, true
				return errStop
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return found, false, err
	}
	return found, ok, nil
}

// adminExternalID marks the admin user the integration created for a company.
func adminExternalID(companyID int64) string {
	return "autotask:company:" + strconv.FormatInt(companyID, 10) + ":admin"
}

// ensureAdmin finds the integration's admin user of the tenant by its external
// id, or creates it with a free login and the company_admin role.
func (a *Acronis) ensureAdmin(ctx context.Context, api AcronisAPI, in ProvisionInput, tenantID string) (acronis.User, error) {
	ext := adminExternalID(in.CompanyID)
	ids, err := api.TenantUsers(ctx, tenantID)
	if err != nil {
		return acronis.User{}, classify("list tenant users", err)
	}
	for _, id := range ids {
		u, err := api.GetUser(ctx, id)
		if err != nil {
			return acronis.User{}, classify("read user "+id, err)
		}
		if u.ExternalID != nil && *u.ExternalID == ext {
			return u, nil
		}
	}
	email, first, last := in.Settings.ActivationEmail, in.CompanyName, "Administrator"
	if in.Settings.AccountsBasedOn == "primary_contact" {
		if in.Contact == nil || in.Contact.Email == "" {
			return acronis.User{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("company %d has no primary contact with an email address; set one in Autotask or base accounts on the company name", in.CompanyID), ErrTypeRefused, nil)
		}
		email, first, last = in.Contact.Email, in.Contact.FirstName, in.Contact.LastName
	}
	if email == "" {
		return acronis.User{}, temporal.NewNonRetryableApplicationError("no activation email is configured for accounts based on the company name", ErrTypeRefused, nil)
	}
	login, err := freeLogin(ctx, api, loginCandidates(in, email))
	if err != nil {
		return acronis.User{}, err
	}
	u, err := api.CreateUser(ctx, acronis.UserCreate{
		TenantID:   tenantID,
		Login:      login,
		Contact:    acronis.Contact{Email: email, Firstname: first, Lastname: last},
		ExternalID: &ext,
	})
	if err != nil {
		return acronis.User{}, classify("create admin user "+login, err)
	}
	if _, err := api.SetAccessPolicies(ctx, u.ID, []acronis.AccessPolicy{acronis.NewAccessPolicy(u.ID, tenantID, acronis.RoleCompanyAdmin)}); err != nil {
		return u, classify("grant company_admin to "+login, err)
	}
	a.audit(ctx, in.CompanyID, tenantID, auditUserCreate, "customer administrator for the new tenant", nil, map[string]any{"login": login, "email": email, "role": acronis.RoleCompanyAdmin})
	return u, nil
}

var notLogin = regexp.MustCompile(`[^a-z0-9._-]+`)

// loginCandidates are tried in order; the last one includes the company id and is practically always free.
func loginCandidates(in ProvisionInput, email string) []string {
	slug := strings.Trim(notLogin.ReplaceAllString(strings.ToLower(in.CompanyName), "-"), "-._")
	if slug == "" {
		slug = "customer"
	}
	if len(slug) > 40 {
		slug = slug[:40]
	}
	var out []string
	if in.Settings.AccountsBasedOn == "primary_contact" {
		out = append(out, strings.ToLower(email))
	} else {
		out = append(out, slug+"-admin")
	}
	return append(out, fmt.Sprintf("%s-%d-admin", slug, in.CompanyID))
}

func freeLogin(ctx context.Context, api AcronisAPI, candidates []string) (string, error) {
	for _, l := range candidates {
		free, err := api.CheckLogin(ctx, l)
		if err != nil {
			return "", classify("check login "+l, err)
		}
		if free {
			return l, nil
		}
	}
	return "", temporal.NewNonRetryableApplicationError("no free login among "+strings.Join(candidates, ", "), ErrTypeRefused, nil)
}

// sendActivationOnce sends the activation email unless the audit log shows it
// was sent: the audit row is the durable proof, written right after sending.
func (a *Acronis) sendActivationOnce(ctx context.Context, api AcronisAPI, companyID int64, tenantID string, u acronis.User) (time.Time, error) {
	if u.Activated {
		return time.Time{}, nil
	}
	page, err := a.Store.ListAudit(ctx, store.AuditFilter{TenantID: &tenantID, KindPrefix: auditActivationEmail, Limit: 50})
	if err != nil {
		return time.Time{}, classify("check activation email history", err)
	}
	for _, e := range page.Entries {
		if e.Target == "user:"+u.ID {
			return e.At, nil
		}
	}
	if err := api.SendActivationEmail(ctx, u.ID); err != nil {
		return time.Time{}, classify("send activation email", err)
	}
	now := time.Now().UTC()
	entry := store.AuditEntry{Actor: "provisioning", Kind: auditActivationEmail, System: "acronis", CompanyID: &companyID, TenantID: &tenantID,
		Target: "user:" + u.ID, Reason: "activation email for the new customer administrator", After: mustJSON(map[string]any{"email": u.Contact.Email, "login": u.Login})}
	if err := a.Store.AppendAudit(ctx, entry); err != nil {
		return now, classify("record activation email", err)
	}
	return now, nil
}

// ApplyQuotas makes the tenant's offering items match the desired quotas,
// writing only what differs. Items to turn off keep their status where they
// have one and get quota 0, because Acronis refuses to turn off an item in use.
func (a *Acronis) ApplyQuotas(ctx context.Context, in ApplyQuotasInput) (AppliedQuotas, error) {
	ctx = shadow.WithCustomer(ctx, in.CompanyID, in.Warnings)
	api, err := a.Client(ctx)
	if err != nil {
		return AppliedQuotas{}, err
	}
	current, err := api.ListOfferingItems(ctx, in.TenantID, acronis.AllEditions)
	if err != nil {
		return AppliedQuotas{}, classify("read offering items of "+in.TenantID, err)
	}
	byKey := make(map[string]acronis.OfferingItem, len(current))
	for _, it := range current {
		byKey[it.Key()] = it
	}
	var changes []acronis.OfferingItem
	var report []QuotaChange
	for _, q := range in.Quotas {
		want := acronis.OfferingItem{ApplicationID: q.Item.ApplicationID, Name: q.Item.Name, InfraID: q.Item.InfraID, Status: acronis.StatusOn}
		cur, exists := byKey[want.Key()]
		switch {
		case q.Enabled && q.Value == nil:
			want.Quota = acronis.UnlimitedQuota()
		case q.Enabled && q.Soft:
			want.Quota = acronis.SoftQuota(float64(*q.Value))
		case q.Enabled:
			want.Quota = acronis.HardQuota(float64(*q.Value))
		case exists && cur.Enabled():
			want.Quota = acronis.HardQuota(0)
		default:
			continue // off and should stay off
		}
		if exists && cur.Enabled() && sameQuota(cur.Quota, want.Quota) {
			continue
		}
		if exists && cur.Quota != nil {
			want.Quota.Version = cur.Quota.Version
		}
		if want.ApplicationID == "" {
			want.ApplicationID = cur.ApplicationID
		}
		changes = append(changes, want)
		report = append(report, QuotaChange{Item: q.Item.Key(), Before: describe(cur, exists), After: describe(want, true)})
	}
	out := AppliedQuotas{At: time.Now().UTC(), Shadow: isShadow(api)}
	if in.KeepUsage {
		changes, report, out.Held, err = holdBelowUsage(ctx, api, in, byKey, changes, report)
		if err != nil {
			return AppliedQuotas{}, err
		}
	}
	out.Changed = report
	if len(changes) == 0 {
		return out, nil
	}
	if _, err := api.SetOfferingItems(ctx, in.TenantID, changes); err != nil {
		return AppliedQuotas{}, classify("set offering items of "+in.TenantID, err)
	}
	a.audit(ctx, in.CompanyID, in.TenantID, auditQuotas, in.Reason, beforeOf(report), afterOf(report))
	return out, nil
}

// holdBelowUsage keeps back the writes that set a quota below the tenant's
// usage unless a confirmed plan showed that very quota. Usage is read only
// when some hard quota goes down from a higher number or from unlimited, so
// provisioning and raises cost no extra call. An item that is off holds no
// usage: Acronis refuses to turn off an item in use.
func holdBelowUsage(ctx context.Context, api AcronisAPI, in ApplyQuotasInput, current map[string]acronis.OfferingItem,
	changes []acronis.OfferingItem, report []QuotaChange) ([]acronis.OfferingItem, []QuotaChange, []QuotaChange, error) {
	lowers := false
	for _, ch := range changes {
		cur, exists := current[ch.Key()]
		if ch.Quota.Unlimited() || ch.Quota.Overage == nil || !exists || !cur.Enabled() {
			continue
		}
		if cur.Quota.Unlimited() || *cur.Quota.Value > *ch.Quota.Value {
			lowers = true
			break
		}
	}
	if !lowers {
		return changes, report, nil, nil
	}
	usages, err := api.GetTenantUsages(ctx, in.TenantID)
	if err != nil {
		return nil, nil, nil, classify("read usages of "+in.TenantID, err)
	}
	used := map[string]float64{}
	for _, u := range usages {
		used[acronis.OfferingItem{Name: u.Name, InfraID: u.InfraID}.Key()] += u.Value
	}
	var keep []acronis.OfferingItem
	var kept, held []QuotaChange
	for i, ch := range changes {
		// A soft quota blocks nothing: only a hard one below usage is held.
		hard := !ch.Quota.Unlimited() && ch.Quota.Overage != nil
		if hard && *ch.Quota.Value < used[ch.Key()] && in.Confirmed[report[i].Item] != report[i].After {
			held = append(held, report[i])
			continue
		}
		keep, kept = append(keep, ch), append(kept, report[i])
	}
	return keep, kept, held, nil
}

func sameQuota(a, b *acronis.Quota) bool {
	if a.Unlimited() || b.Unlimited() {
		return a.Unlimited() == b.Unlimited()
	}
	ov := func(q *acronis.Quota) float64 {
		if q.Overage == nil {
			return -1
		}
		return *q.Overage
	}
	return *a.Value == *b.Value && ov(a) == ov(b)
}

func describe(it acronis.OfferingItem, exists bool) string {
	switch {
	case !exists || !it.Enabled():
		return "off"
	case it.Quota.Unlimited():
		return "unlimited"
	case it.Quota.Overage == nil:
		return strconv.FormatFloat(*it.Quota.Value, 'f', -1, 64) + " (soft)"
	default:
		return strconv.FormatFloat(*it.Quota.Value, 'f', -1, 64)
	}
}

func beforeOf(cs []QuotaChange) map[string]string {
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		m[c.Item] = c.Before
	}
	return m
}

func afterOf(cs []QuotaChange) map[string]string {
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		m[c.Item] = c.After
	}
	return m
}

// EnableTenant turns a disabled tenant back on (services returned during deprovisioning).
func (a *Acronis) EnableTenant(ctx context.Context, in TenantStateInput) error {
	return a.setEnabled(ctx, in, true)
}

// DisableTenant turns a tenant off; its data stays until it is deleted.
func (a *Acronis) DisableTenant(ctx context.Context, in TenantStateInput) error {
	return a.setEnabled(ctx, in, false)
}

func (a *Acronis) setEnabled(ctx context.Context, in TenantStateInput, enabled bool) error {
	ctx = shadow.WithCustomer(ctx, in.CompanyID, nil)
	api, err := a.Client(ctx)
	if err != nil {
		return err
	}
	t, err := api.GetTenant(ctx, in.TenantID)
	if err != nil {
		return classify("read tenant "+in.TenantID, err)
	}
	if t.Enabled == enabled {
		return nil
	}
	if _, err := api.SetTenantEnabled(ctx, t.ID, t.Version, enabled); err != nil {
		return classify(fmt.Sprintf("set tenant %s enabled=%v", t.ID, enabled), err)
	}
	a.audit(ctx, in.CompanyID, t.ID, auditTenantUpdate, in.Reason, map[string]any{"enabled": t.Enabled}, map[string]any{"enabled": enabled})
	return nil
}

// DeleteTenant deletes a tenant, disabling it first as Acronis requires. A
// tenant already gone counts as deleted, so a retry after a lost answer succeeds.
func (a *Acronis) DeleteTenant(ctx context.Context, in TenantStateInput) error {
	ctx = shadow.WithCustomer(ctx, in.CompanyID, nil)
	api, err := a.Client(ctx)
	if err != nil {
		return err
	}
	t, err := api.GetTenant(ctx, in.TenantID)
	if acronis.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return classify("read tenant "+in.TenantID, err)
	}
	if !t.DeletedAt.IsZero() {
		return nil
	}
	if t.Enabled {
		if t, err = api.SetTenantEnabled(ctx, t.ID, t.Version, false); err != nil {
			return classify("disable tenant before deleting it", err)
		}
	}
	if err := api.DeleteTenant(ctx, t.ID, t.Version); err != nil && !acronis.IsNotFound(err) {
		return classify("delete tenant "+t.ID, err)
	}
	a.audit(ctx, in.CompanyID, t.ID, auditTenantDelete, in.Reason, map[string]any{"name": t.Name}, nil)
	return nil
}

// MapExistingTenant checks that the partner may manage the tenant and records
// the manual mapping; a self-service tenant, one with support access disabled,
// one that is not a customer or sub-partner, or one mapped elsewhere is refused.
func (a *Acronis) MapExistingTenant(ctx context.Context, in MapInput) error {
	api, err := a.Client(ctx)
	if err != nil {
		return err
	}
	t, err := a.checkMappable(ctx, api, in)
	if err != nil {
		return err
	}
	_, err = a.Store.MapCustomer(ctx, store.CustomerMapping{CompanyID: in.CompanyID, TenantID: in.TenantID, How: store.MappedManually},
		store.Actor{Name: in.Actor, RequestID: in.RequestID, Reason: "mapped to existing tenant " + t.Name})
	if errors.Is(err, store.ErrConflict) {
		other, _ := a.Store.CustomerMappingByTenant(ctx, in.TenantID)
		msg := fmt.Sprintf("tenant %s is already mapped", t.Name)
		if other.CompanyID != 0 {
			msg += fmt.Sprintf(" to Autotask company %d", other.CompanyID)
		}
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeAlreadyMapped, err)
	}
	return classify("record mapping", err)
}

// CheckMappable refuses what MapExistingTenant would refuse, writing nothing,
// so a mapping's plan is only made for a tenant that can be mapped.
func (a *Acronis) CheckMappable(ctx context.Context, in MapInput) error {
	api, err := a.Client(ctx)
	if err != nil {
		return err
	}
	t, err := a.checkMappable(ctx, api, in)
	if err != nil {
		return err
	}
	if other, err := a.Store.CustomerMappingByTenant(ctx, in.TenantID); err == nil && other.CompanyID != in.CompanyID {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("tenant %s is already mapped to Autotask company %d", t.Name, other.CompanyID), ErrTypeAlreadyMapped, nil)
	}
	return nil
}

func (a *Acronis) checkMappable(ctx context.Context, api AcronisAPI, in MapInput) (acronis.Tenant, error) {
	t, err := api.GetTenant(ctx, in.TenantID)
	if err != nil {
		return t, classify("read tenant "+in.TenantID, err)
	}
	if t.Kind != acronis.KindCustomer && t.Kind != acronis.KindPartner {
		return t, temporal.NewNonRetryableApplicationError(fmt.Sprintf("tenant %s is a %s; only customer and sub-partner tenants can be mapped", t.Name, t.Kind), ErrTypeRefused, nil)
	}
	m, err := api.CheckManageable(ctx, in.TenantID)
	if err != nil {
		return t, classify("check access to tenant "+in.TenantID, err)
	}
	if !m.Manageable {
		return t, temporal.NewNonRetryableApplicationError(fmt.Sprintf("tenant %s cannot be managed by the integration: %s", t.Name, m.Reason), ErrTypeNotManageable, nil)
	}
	return t, nil
}

// Catalog lists the offering items the partner can give customers, grouped as
// the service-mapping screen shows them.
func (a *Acronis) Catalog(ctx context.Context) ([]entitlement.Item, error) {
	api, err := a.Client(ctx)
	if err != nil {
		return nil, err
	}
	items, err := api.AvailableForChild(ctx, api.PartnerTenantID(), acronis.KindCustomer, acronis.AllEditions)
	if err != nil {
		return nil, classify("list offering items available to customers", err)
	}
	return CatalogFromOfferingItems(items), nil
}

// CatalogFromOfferingItems classifies Acronis offering items: infra items are
// storage, "_pack_" items are advanced packs, the rest are standard workloads.
func CatalogFromOfferingItems(items []acronis.OfferingItem) []entitlement.Item {
	out := make([]entitlement.Item, 0, len(items))
	for _, it := range items {
		group := entitlement.GroupStandard
		switch {
		case it.Type == acronis.ItemTypeInfra:
			group = entitlement.GroupStorage
		case strings.Contains(it.Name, "_pack_") || strings.HasPrefix(it.Name, "adv_") || strings.HasPrefix(it.Name, "p_adv_"):
			group = entitlement.GroupAdvanced
		}
		out = append(out, entitlement.Item{Name: it.Name, ApplicationID: it.ApplicationID, Group: group, InfraID: it.InfraID, Bytes: it.MeasurementUnit == acronis.UnitBytes})
	}
	return out
}

// audit records one Acronis write. It is best effort: the write already
// happened, and failing the activity now would repeat it.
func (a *Acronis) audit(ctx context.Context, companyID int64, tenantID, kind, reason string, before, after any) {
	e := store.AuditEntry{Actor: "integration", Kind: kind, System: "acronis", CompanyID: &companyID, TenantID: &tenantID, Target: "tenant:" + tenantID, Reason: reason}
	if before != nil {
		e.Before = mustJSON(before)
	}
	if after != nil {
		e.After = mustJSON(after)
	}
	if err := a.Store.AppendAudit(ctx, e); err != nil {
		activity.GetLogger(ctx).Error("audit log write failed", "kind", kind, "error", err)
	}
}

// isShadow reports whether api records writes instead of sending them.
func isShadow(api AcronisAPI) bool {
	g, ok := api.(interface{ Shadow() bool })
	return ok && g.Shadow()
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return b
}

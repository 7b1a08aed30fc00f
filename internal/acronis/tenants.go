package acronis

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Tenant kinds.
const (
	KindPartner  = "partner"
	KindFolder   = "folder"
	KindCustomer = "customer"
	KindUnit     = "unit"
)

// Tenant is an Account Management v2 tenant (partner, folder, customer, unit).
// Version must be sent back on every change.
type Tenant struct {
	ID       string   `json:"id"`
	Version  int64    `json:"version"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	ParentID string   `json:"parent_id,omitempty"`
	Path     []string `json:"path,omitempty"`
	Enabled  bool     `json:"enabled"`
	// CustomerID is a free external id "for reporting".
	CustomerID   *string `json:"customer_id"`
	CustomerType string  `json:"customer_type,omitempty"`
	// InternalTag is for integrators; the platform ignores it.
	InternalTag *string   `json:"internal_tag"`
	Language    string    `json:"language,omitempty"`
	Contact     Contact   `json:"contact"`
	Contacts    []Contact `json:"contacts,omitempty"`
	// AncestralAccess false means self-service: the partner cannot act inside.
	AncestralAccess bool       `json:"ancestral_access"`
	UpdateLock      UpdateLock `json:"update_lock"`
	// MFAStatus is enabled, disabled or disable_in_progress.
	MFAStatus string `json:"mfa_status,omitempty"`
	// PricingMode is trial, production or suspended.
	PricingMode             string  `json:"pricing_mode,omitempty"`
	ProductionStartDate     *string `json:"production_start_date,omitempty"`
	HasChildren             bool    `json:"has_children"`
	OwnerID                 *string `json:"owner_id"`
	BrandID                 *int64  `json:"brand_id"`
	BrandUUID               string  `json:"brand_uuid,omitempty"`
	DefaultIDPID            *string `json:"default_idp_id"`
	ExternalOperationStatus string  `json:"external_operation_status,omitempty"`
	CreatedAt               Time    `json:"created_at,omitzero"`
	UpdatedAt               Time    `json:"updated_at,omitzero"`
	DeletedAt               Time    `json:"deleted_at,omitzero"`
	// OfferingItems are embedded only with with_offering_items.
	OfferingItems []OfferingItem `json:"offering_items,omitempty"`
}

// Contact is a tenant's or user's contact record.
type Contact struct {
	ID               string   `json:"id,omitempty"`
	Email            string   `json:"email,omitempty"`
	EmailConfirmed   *bool    `json:"email_confirmed,omitempty"`
	Firstname        string   `json:"firstname,omitempty"`
	Lastname         string   `json:"lastname,omitempty"`
	Phone            string   `json:"phone,omitempty"`
	Address1         string   `json:"address1,omitempty"`
	Address2         string   `json:"address2,omitempty"`
	City             string   `json:"city,omitempty"`
	State            string   `json:"state,omitempty"`
	Zipcode          string   `json:"zipcode,omitempty"`
	Country          string   `json:"country,omitempty"`
	Title            *string  `json:"title,omitempty"`
	Website          *string  `json:"website,omitempty"`
	Industry         *string  `json:"industry,omitempty"`
	OrganizationSize *string  `json:"organization_size,omitempty"`
	AAN              *string  `json:"aan,omitempty"`
	ExternalID       *string  `json:"external_id,omitempty"`
	Types            []string `json:"types,omitempty"`
	CreatedAt        Time     `json:"created_at,omitzero"`
	UpdatedAt        Time     `json:"updated_at,omitzero"`
}

// UpdateLock, when enabled, lets only users of OwnerID's tenant change the tenant.
type UpdateLock struct {
	Enabled bool    `json:"enabled"`
	OwnerID *string `json:"owner_id"`
}

// SelfService reports whether the tenant is in self-service management mode,
// in which the partner may not manage its users or services.
func (t Tenant) SelfService() bool { return !t.AncestralAccess }

// TenantQuery filters GET /tenants. UUIDs, ParentID and SubtreeRootID are
// mutually exclusive.
type TenantQuery struct {
	UUIDs         []string
	ParentID      string
	SubtreeRootID string
	// UpdatedSince keeps tenants updated after this instant (RFC 3339).
	UpdatedSince time.Time
	// Limit is the page size (0: server default).
	Limit int
	// After is the cursor of the next page; when set, the filters are ignored
	// because the cursor carries them.
	After string
	// LOD is stamps, basic, full_without_contacts or full.
	LOD          string
	WithContacts bool
	AllowDeleted bool
}

func (q TenantQuery) values() url.Values {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.After != "" {
		v.Set("after", q.After)
		return v
	}
	if len(q.UUIDs) > 0 {
		v.Set("uuids", strings.Join(q.UUIDs, ","))
	}
	if q.ParentID != "" {
		v.Set("parent_id", q.ParentID)
	}
	if q.SubtreeRootID != "" {
		v.Set("subtree_root_id", q.SubtreeRootID)
	}
	if !q.UpdatedSince.IsZero() {
		v.Set("updated_since", q.UpdatedSince.UTC().Format(time.RFC3339))
	}
	if q.LOD != "" {
		v.Set("lod", q.LOD)
	}
	if q.WithContacts {
		v.Set("with_contacts", "true")
	}
	if q.AllowDeleted {
		v.Set("allow_deleted", "true")
	}
	return v
}

// TenantPage is one page of GET /tenants.
type TenantPage struct {
	Items  []Tenant `json:"items"`
	Paging Paging   `json:"paging"`
	// Timestamp is the server time of the answer; use it as the next
	// updated_since so no change falls between two syncs.
	Timestamp Time `json:"timestamp,omitzero"`
}

// GetTenant reads one tenant.
func (c *Client) GetTenant(ctx context.Context, id string) (Tenant, error) {
	var t Tenant
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(id), nil), &t)
	return t, err
}

// ListTenants reads one page of tenants; follow Paging.Cursors.After.
func (c *Client) ListTenants(ctx context.Context, q TenantQuery) (TenantPage, error) {
	var p TenantPage
	err := c.do(ctx, get(AccountPath+"/tenants", q.values()), &p)
	return p, err
}

// EachTenant pages through GET /tenants, calling fn per page until the last
// page or fn's error; it returns the first page's server timestamp for the
// next incremental sync.
func (c *Client) EachTenant(ctx context.Context, q TenantQuery, fn func([]Tenant) error) (time.Time, error) {
	var stamp time.Time
	for first := true; ; first = false {
		p, err := c.ListTenants(ctx, q)
		if err != nil {
			return stamp, err
		}
		if first {
			stamp = p.Timestamp.Time
		}
		if err := fn(p.Items); err != nil {
			return stamp, err
		}
		if p.Paging.Cursors.After == "" || len(p.Items) == 0 {
			return stamp, nil
		}
		q = TenantQuery{Limit: q.Limit, After: p.Paging.Cursors.After}
	}
}

// GetTenants reads tenants by id (uuids filter), in batches of 100.
func (c *Client) GetTenants(ctx context.Context, ids []string) ([]Tenant, error) {
	var out []Tenant
	for start := 0; start < len(ids); start += 100 {
		batch := ids[start:min(start+100, len(ids))]
		_, err := c.EachTenant(ctx, TenantQuery{UUIDs: batch}, func(ts []Tenant) error {
			out = append(out, ts...)
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// TenantChildren lists the ids of a tenant's direct children.
func (c *Client) TenantChildren(ctx context.Context, id string) ([]string, error) {
	var r struct {
		Items []string `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(id)+"/children", nil), &r)
	return r.Items, err
}

// TenantCreate is the body of POST /tenants; Name, Kind and ParentID are required.
type TenantCreate struct {
	Name            string      `json:"name"`
	Kind            string      `json:"kind"`
	ParentID        string      `json:"parent_id"`
	CustomerID      *string     `json:"customer_id,omitempty"`
	InternalTag     *string     `json:"internal_tag,omitempty"`
	Language        string      `json:"language,omitempty"`
	Contact         *Contact    `json:"contact,omitempty"`
	Enabled         *bool       `json:"enabled,omitempty"`
	AncestralAccess *bool       `json:"ancestral_access,omitempty"`
	UpdateLock      *UpdateLock `json:"update_lock,omitempty"`
}

// CreateTenant creates a tenant (in trial mode, as Acronis does) and returns it.
func (c *Client) CreateTenant(ctx context.Context, t TenantCreate) (Tenant, error) {
	var out Tenant
	err := c.do(ctx, call{method: http.MethodPost, path: AccountPath + "/tenants", body: t}, &out)
	return out, err
}

// TenantUpdate is the body of PUT /tenants/{id}: Version is the tenant's
// current version, nil fields are left unchanged.
type TenantUpdate struct {
	Version         int64       `json:"version"`
	Name            *string     `json:"name,omitempty"`
	Kind            *string     `json:"kind,omitempty"`
	CustomerID      *string     `json:"customer_id,omitempty"`
	InternalTag     *string     `json:"internal_tag,omitempty"`
	Language        *string     `json:"language,omitempty"`
	Contact         *Contact    `json:"contact,omitempty"`
	Enabled         *bool       `json:"enabled,omitempty"`
	AncestralAccess *bool       `json:"ancestral_access,omitempty"`
	UpdateLock      *UpdateLock `json:"update_lock,omitempty"`
}

// UpdateTenant changes a tenant; a stale Version fails with a version conflict.
func (c *Client) UpdateTenant(ctx context.Context, id string, u TenantUpdate) (Tenant, error) {
	var out Tenant
	err := c.do(ctx, call{method: http.MethodPut, path: AccountPath + "/tenants/" + esc(id), body: u, idempotent: true}, &out)
	return out, err
}

// SetTenantEnabled enables or disables a tenant at the given version.
func (c *Client) SetTenantEnabled(ctx context.Context, id string, version int64, enabled bool) (Tenant, error) {
	return c.UpdateTenant(ctx, id, TenantUpdate{Version: version, Enabled: &enabled})
}

// DeleteTenant deletes a disabled tenant with all its children, users and
// backups; Acronis refuses an enabled tenant (error 1006).
func (c *Client) DeleteTenant(ctx context.Context, id string, version int64) error {
	q := url.Values{"version": {strconv.FormatInt(version, 10)}}
	return c.do(ctx, call{method: http.MethodDelete, path: AccountPath + "/tenants/" + esc(id), query: q, idempotent: true}, nil)
}

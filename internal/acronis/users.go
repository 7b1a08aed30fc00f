package acronis

import (
	"context"

	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Role ids for access policies.
const (
	RolePartnerAdmin  = "partner_admin"
	RoleCompanyAdmin  = "company_admin"
	RoleReadonlyAdmin = "readonly_admin"
	RoleBackupUser    = "backup_user"
)

// User is an Account Management v2 user account.
type User struct {
	ID               string   `json:"id"`
	Version          int64    `json:"version"`
	Login            string   `json:"login"`
	TenantID         string   `json:"tenant_id"`
	PersonalTenantID string   `json:"personal_tenant_id,omitempty"`
	Activated        bool     `json:"activated"`
	Enabled          bool     `json:"enabled"`
	MFAStatus        string   `json:"mfa_status,omitempty"`
	Contact          Contact  `json:"contact"`
	Language         string   `json:"language,omitempty"`
	ExternalID       *string  `json:"external_id,omitempty"`
	Notifications    []string `json:"notifications,omitempty"`
	BusinessTypes    []string `json:"business_types,omitempty"`
	CreatedAt        Time     `json:"created_at,omitzero"`
	UpdatedAt        Time     `json:"updated_at,omitzero"`
}

// UserCreate is the body of POST /users; TenantID, Login and Contact.Email are required.
type UserCreate struct {
	TenantID      string   `json:"tenant_id"`
	Login         string   `json:"login"`
	Contact       Contact  `json:"contact"`
	Language      string   `json:"language,omitempty"`
	Enabled       *bool    `json:"enabled,omitempty"`
	ExternalID    *string  `json:"external_id,omitempty"`
	Notifications []string `json:"notifications,omitempty"`
	BusinessTypes []string `json:"business_types,omitempty"`
}

// CheckLogin reports whether a login is still free (204) or taken (409).
func (c *Client) CheckLogin(ctx context.Context, login string) (bool, error) {
	err := c.do(ctx, get(AccountPath+"/users/check_login", url.Values{"username": {login}}), nil)
	switch {
	case err == nil:
		return true, nil
	case kindOf(err) == KindConflict:
		return false, nil
	}
	return false, err
}

// CreateUser creates a user (not activated, without roles).
func (c *Client) CreateUser(ctx context.Context, u UserCreate) (User, error) {
	var out User
	err := c.do(ctx, call{method: http.MethodPost, path: AccountPath + "/users", body: u}, &out)
	return out, err
}

// GetUser reads a user, e.g. to see whether it was activated.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	var u User
	err := c.do(ctx, get(AccountPath+"/users/"+esc(id), nil), &u)
	return u, err
}

// TenantUsers lists the ids of a tenant's users. A self-service tenant or one
// without support access answers 403.
func (c *Client) TenantUsers(ctx context.Context, tenantID string) ([]string, error) {
	var r struct {
		Items []string `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(tenantID)+"/users", nil), &r)
	return r.Items, err
}

// DeleteUser deletes a user at its current version.
func (c *Client) DeleteUser(ctx context.Context, id string, version int64) error {
	q := url.Values{"version": {strconv.FormatInt(version, 10)}}
	return c.do(ctx, call{method: http.MethodDelete, path: AccountPath + "/users/" + esc(id), query: q, idempotent: true}, nil)
}

// SendActivationEmail asks Acronis to mail the user an activation link.
func (c *Client) SendActivationEmail(ctx context.Context, userID string) error {
	return c.do(ctx, call{method: http.MethodPost, path: AccountPath + "/users/" + esc(userID) + "/send-activation-email", body: struct{}{}}, nil)
}

// AccessPolicy grants a role on a tenant to a user. New policies use the nil
// UUID for ID and IssuerID and version 0.
type AccessPolicy struct {
	ID                string `json:"id"`
	IssuerID          string `json:"issuer_id"`
	RoleID            string `json:"role_id"`
	TenantID          string `json:"tenant_id"`
	TrusteeID         string `json:"trustee_id"`
	TrusteeType       string `json:"trustee_type"`
	Version           int64  `json:"version"`
	ResourceNamespace string `json:"resource_namespace,omitempty"`
	CreatedAt         Time   `json:"created_at,omitzero"`
	UpdatedAt         Time   `json:"updated_at,omitzero"`
}

// NilUUID is the id of a policy not created yet.
const NilUUID = "00000000-0000-0000-0000-000000000000"

// NewAccessPolicy is a new grant of role on tenantID to userID.
func NewAccessPolicy(userID, tenantID, role string) AccessPolicy {
	return AccessPolicy{ID: NilUUID, IssuerID: NilUUID, RoleID: role, TenantID: tenantID, TrusteeID: userID, TrusteeType: "user"}
}

// GetAccessPolicies lists a user's roles.
func (c *Client) GetAccessPolicies(ctx context.Context, userID string) ([]AccessPolicy, error) {
	var r struct {
		Items []AccessPolicy `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/users/"+esc(userID)+"/access_policies", nil), &r)
	return r.Items, err
}

// SetAccessPolicies replaces a user's roles.
func (c *Client) SetAccessPolicies(ctx context.Context, userID string, policies []AccessPolicy) ([]AccessPolicy, error) {
	body := struct {
		Items []AccessPolicy `json:"items"`
	}{Items: policies}
	var r struct {
		Items []AccessPolicy `json:"items"`
	}
	err := c.do(ctx, call{method: http.MethodPut, path: AccountPath + "/users/" + esc(userID) + "/access_policies", body: body, idempotent: true}, &r)
	return r.Items, err
}

// Manageability says whether the partner may manage a tenant, and why not.
type Manageability struct {
	Manageable bool
	// Reason is "self-service" or "support access disabled" when not manageable.
	Reason string
}

// CheckManageable tells whether the partner can act inside a tenant: not in
// self-service mode (ancestral_access=false) and with support access, which
// shows as being allowed to list the tenant's users.
func (c *Client) CheckManageable(ctx context.Context, tenantID string) (Manageability, error) {
	t, err := c.GetTenant(ctx, tenantID)
	if err != nil {
		return Manageability{}, fmt.Errorf("acronis: read tenant %s: %w", tenantID, err)
	}
	if t.SelfService() {
		return Manageability{Reason: "self-service"}, nil
	}
	if _, err := c.TenantUsers(ctx, tenantID); err != nil {
		if IsForbidden(err) {
			return Manageability{Reason: "support access disabled"}, nil
		}
		return Manageability{}, fmt.Errorf("acronis: probe access to tenant %s: %w", tenantID, err)
	}
	return Manageability{Manageable: true}, nil
}

package acronis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Application types.
const (
	// AppTypeBackup is the Cyber Protection service.
	AppTypeBackup   = "backup"
	AppTypePlatform = "platform"
)

// CyberProtectionAppID is the id the Cyber Protection service has had in
// every published sample; look it up with CyberProtection rather than rely on it.
const CyberProtectionAppID = "6e6d758d-8e74-3ae3-ac84-50eb0dff12eb"

// Application is a service (Cyber Protection, File Sync & Share, …).
type Application struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	APIBaseURL string          `json:"api_base_url,omitempty"`
	Usages     json.RawMessage `json:"usages,omitempty"`
}

// ListApplications lists the data center's services.
func (c *Client) ListApplications(ctx context.Context) ([]Application, error) {
	var r struct {
		Items []Application `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/applications", nil), &r)
	return r.Items, err
}

// CyberProtection finds the Cyber Protection service (type "backup").
func (c *Client) CyberProtection(ctx context.Context) (Application, error) {
	apps, err := c.ListApplications(ctx)
	if err != nil {
		return Application{}, err
	}
	for _, a := range apps {
		if a.Type == AppTypeBackup {
			return a, nil
		}
	}
	return Application{}, fmt.Errorf("acronis: no application of type %q: %w", AppTypeBackup, ErrNotFound)
}

// TenantApplications lists the ids of the services enabled for a tenant.
func (c *Client) TenantApplications(ctx context.Context, tenantID string) ([]string, error) {
	var r struct {
		Items []string `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(tenantID)+"/applications", nil), &r)
	return r.Items, err
}

// EnableApplication binds a service to a tenant; its offering items still
// have to be enabled.
func (c *Client) EnableApplication(ctx context.Context, appID, tenantID string) error {
	return c.do(ctx, call{method: http.MethodPost, path: AccountPath + "/applications/" + esc(appID) + "/bindings/tenants/" + esc(tenantID), idempotent: true}, nil)
}

// DisableApplication removes a service from a tenant.
func (c *Client) DisableApplication(ctx context.Context, appID, tenantID string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: AccountPath + "/applications/" + esc(appID) + "/bindings/tenants/" + esc(tenantID), idempotent: true}, nil)
}

// APIClient is an API client registration (GET /clients/{id}).
type APIClient struct {
	ClientID                string `json:"client_id,omitempty"`
	TenantID                string `json:"tenant_id"`
	Type                    string `json:"type,omitempty"`
	Status                  string `json:"status,omitempty"`
	CreatedBy               string `json:"created_by,omitempty"`
	LastAccessAt            Time   `json:"last_access_at,omitzero"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	Data                    struct {
		ClientName string `json:"client_name,omitempty"`
	} `json:"data"`
}

// GetAPIClient reads an API client; its TenantID is the partner tenant.
func (c *Client) GetAPIClient(ctx context.Context, clientID string) (APIClient, error) {
	var a APIClient
	err := c.do(ctx, get(AccountPath+"/clients/"+esc(clientID), nil), &a)
	return a, err
}

package acronis

import (
	"context"
	"net/url"
	"strings"
)

// Infra is a storage (or other infrastructure) a tenant may use.
type Infra struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	OwnerTenantID    string   `json:"owner_tenant_id,omitempty"`
	LocationID       string   `json:"location_id,omitempty"`
	PlatformOwned    bool     `json:"platform_owned"`
	URL              string   `json:"url,omitempty"`
	Capabilities     []string `json:"capabilities"`
	ContentURL       string   `json:"content_url,omitempty"`
	ContentMobileURL string   `json:"content_mobile_url,omitempty"`
	// BackendType is acronis, google, azure or amazon_s3.
	BackendType string `json:"backend_type,omitempty"`
	Version     int64  `json:"version"`
	Readonly    bool   `json:"readonly"`
}

// TenantInfraIDs lists the ids of the infrastructures available to a tenant.
func (c *Client) TenantInfraIDs(ctx context.Context, tenantID string) ([]string, error) {
	var r struct {
		Infras []string `json:"infras"`
	}
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(tenantID)+"/infra", nil), &r)
	return r.Infras, err
}

// GetInfras reads infrastructures by id.
func (c *Client) GetInfras(ctx context.Context, ids []string) ([]Infra, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var r struct {
		Items []Infra `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/infra", url.Values{"uuids": {strings.Join(ids, ",")}}), &r)
	return r.Items, err
}

// TenantStorages reads every infrastructure of a tenant that can hold backups.
func (c *Client) TenantStorages(ctx context.Context, tenantID string) ([]Infra, error) {
	ids, err := c.TenantInfraIDs(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	all, err := c.GetInfras(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		for _, c := range in.Capabilities {
			if c == "backup" {
				out = append(out, in)
				break
			}
		}
	}
	return out, nil
}

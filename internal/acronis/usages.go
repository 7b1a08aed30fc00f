package acronis

import (
	"context"
	"net/url"
	"strings"
)

// Usage is the live usage of one offering item by one tenant. Acronis updates
// it every few hours; PAYG billing takes AbsoluteValue.
type Usage struct {
	TenantUUID string `json:"tenant_uuid"`
	// TenantID is the tenant's numeric API v1 id.
	TenantID        int64   `json:"tenant_id"`
	ApplicationID   string  `json:"application_id"`
	Name            string  `json:"name"`
	UsageName       string  `json:"usage_name"`
	Edition         *string `json:"edition"`
	Type            string  `json:"type"`
	MeasurementUnit string  `json:"measurement_unit"`
	InfraID         string  `json:"infra_id,omitempty"`
	// RangeStart is the start of the collection period (default: 1st of month).
	RangeStart Time `json:"range_start,omitzero"`
	// Value is the current usage, AbsoluteValue the accumulated one.
	Value         float64            `json:"value"`
	AbsoluteValue float64            `json:"absolute_value"`
	OfferingItem  *UsageOfferingItem `json:"offering_item,omitempty"`
}

// UsageOfferingItem is the related item's state embedded in a usage.
type UsageOfferingItem struct {
	Status int    `json:"status"`
	Quota  *Quota `json:"quota,omitempty"`
}

// TenantUsages groups the usages of one tenant in a batch answer.
type TenantUsages struct {
	Tenant string  `json:"tenant"`
	Usages []Usage `json:"usages"`
}

// GetTenantUsages reads one tenant's usages, optionally only the named ones.
func (c *Client) GetTenantUsages(ctx context.Context, tenantID string, usageNames ...string) ([]Usage, error) {
	q := url.Values{}
	if len(usageNames) > 0 {
		q.Set("usage_names", strings.Join(usageNames, ","))
	}
	var r struct {
		Items []Usage `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(tenantID)+"/usages", q), &r)
	return r.Items, err
}

// UsagesBatchSize is how many tenants one batched usages request carries.
const UsagesBatchSize = 50

// GetUsages reads the usages of many tenants with GET /tenants/usages?tenants=,
// UsagesBatchSize tenants per request.
func (c *Client) GetUsages(ctx context.Context, tenantIDs []string, usageNames ...string) ([]TenantUsages, error) {
	var out []TenantUsages
	for start := 0; start < len(tenantIDs); start += UsagesBatchSize {
		batch := tenantIDs[start:min(start+UsagesBatchSize, len(tenantIDs))]
		q := url.Values{"tenants": {strings.Join(batch, ",")}}
		if len(usageNames) > 0 {
			q.Set("usage_names", strings.Join(usageNames, ","))
		}
		var r struct {
			Items []TenantUsages `json:"items"`
		}
		if err := c.do(ctx, get(AccountPath+"/tenants/usages", q), &r); err != nil {
			return out, err
		}
		out = append(out, r.Items...)
	}
	return out, nil
}

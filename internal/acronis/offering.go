package acronis

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Offering item types and measurement units.
const (
	ItemTypeCount   = "count"
	ItemTypeFeature = "feature"
	ItemTypeInfra   = "infra"

	UnitBytes    = "bytes"
	UnitQuantity = "quantity"
	UnitSeconds  = "seconds"
	UnitNA       = "n/a"
)

// Offering item statuses.
const (
	StatusOff = 0
	StatusOn  = 1
)

// AllEditions asks for the items of every edition (the default is the legacy
// "standard" edition only).
const AllEditions = "*"

// OfferingItem is a sellable unit of a service for one tenant (a workload
// count, a feature, a storage), with its quota. Its identity within a tenant
// is Name plus InfraID.
type OfferingItem struct {
	ApplicationID string  `json:"application_id"`
	Name          string  `json:"name"`
	Edition       *string `json:"edition"`
	// UsageName is Name without the edition prefix (e.g. "workstations").
	UsageName string `json:"usage_name,omitempty"`
	Status    int    `json:"status"`
	Locked    *bool  `json:"locked,omitempty"`
	// Type is count, feature or infra.
	Type    string `json:"type,omitempty"`
	InfraID string `json:"infra_id,omitempty"`
	// MeasurementUnit is bytes (binary: 1073741824 = 1 GB), quantity, seconds or n/a.
	MeasurementUnit string `json:"measurement_unit,omitempty"`
	// Quota is absent on disabled items.
	Quota     *Quota `json:"quota,omitempty"`
	TenantID  string `json:"tenant_id,omitempty"`
	UpdatedAt Time   `json:"updated_at,omitzero"`
	DeletedAt Time   `json:"deleted_at,omitzero"`
}

// Key identifies an item within a tenant: name and storage.
func (o OfferingItem) Key() string { return o.Name + "|" + o.InfraID }

// Enabled reports whether the item is on.
func (o OfferingItem) Enabled() bool { return o.Status == StatusOn }

// Quota limits an offering item: Value is the soft quota, Overage how far use
// may exceed it before being blocked (Value+Overage is the hard limit); a nil
// Value is unlimited. Version must equal the current one when changing it.
type Quota struct {
	Value   *float64 `json:"value"`
	Overage *float64 `json:"overage"`
	Version int64    `json:"version"`
}

// Unlimited reports whether the quota has no limit.
func (q *Quota) Unlimited() bool { return q == nil || q.Value == nil }

// HardQuota is a quota of exactly n with no overage allowed, as the product
// sets for prepaid items.
func HardQuota(n float64) *Quota {
	zero := 0.0
	return &Quota{Value: &n, Overage: &zero}
}

// SoftQuota is a quota of n that use may exceed without limit: Acronis
// restricts use only past value + overage, and a quota without overage is
// soft only (reference §3.3). Set for prepaid items with overage allowed.
func SoftQuota(n float64) *Quota { return &Quota{Value: &n} }

// UnlimitedQuota is a quota without limit, as set for pay-as-you-go items.
func UnlimitedQuota() *Quota { return &Quota{} }

// ListOfferingItems lists a tenant's offering items of an edition ("*" for
// all, "" for Acronis' default).
func (c *Client) ListOfferingItems(ctx context.Context, tenantID, edition string) ([]OfferingItem, error) {
	q := url.Values{}
	if edition != "" {
		q.Set("edition", edition)
	}
	var r struct {
		Items []OfferingItem `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(tenantID)+"/offering_items", q), &r)
	return r.Items, err
}

// AvailableForChild lists the items a tenant may give to a child of the given
// kind (e.g. customer): the partner's catalogue for service mapping.
func (c *Client) AvailableForChild(ctx context.Context, parentID, kind, edition string) ([]OfferingItem, error) {
	q := url.Values{}
	if kind != "" {
		q.Set("kind", kind)
	}
	if edition != "" {
		q.Set("edition", edition)
	}
	var r struct {
		Items []OfferingItem `json:"items"`
	}
	err := c.do(ctx, get(AccountPath+"/tenants/"+esc(parentID)+"/offering_items/available_for_child", q), &r)
	return r.Items, err
}

// offeringItemPut is one item of the PUT body: only what Acronis reads.
type offeringItemPut struct {
	ApplicationID string `json:"application_id"`
	Name          string `json:"name"`
	Status        int    `json:"status"`
	InfraID       string `json:"infra_id,omitempty"`
	Quota         *Quota `json:"quota,omitempty"`
}

// PutOfferingItems sends one PUT /tenants/{id}/offering_items with items as
// given (status and quota with their current versions) and returns Acronis'
// answer. Most callers want SetOfferingItems.
func (c *Client) PutOfferingItems(ctx context.Context, tenantID string, items []OfferingItem) ([]OfferingItem, error) {
	body := struct {
		OfferingItems []offeringItemPut `json:"offering_items"`
	}{OfferingItems: make([]offeringItemPut, 0, len(items))}
	for _, it := range items {
		p := offeringItemPut{ApplicationID: it.ApplicationID, Name: it.Name, Status: it.Status, InfraID: it.InfraID}
		if it.Status == StatusOn && it.Quota != nil {
			q := *it.Quota
			p.Quota = &q
		}
		body.OfferingItems = append(body.OfferingItems, p)
	}
	var r struct {
		Items []OfferingItem `json:"items"`
	}
	err := c.do(ctx, call{method: http.MethodPut, path: AccountPath + "/tenants/" + esc(tenantID) + "/offering_items", body: body, idempotent: true}, &r)
	return r.Items, err
}

// SetOfferingItems enables/disables items and sets their quotas. The quota
// versions in items are used as given (0 for a tenant never changed); on a
// version conflict (426, 409 or error 1001) the tenant's current items are
// re-read, their versions taken over, and the PUT retried once.
func (c *Client) SetOfferingItems(ctx context.Context, tenantID string, items []OfferingItem) ([]OfferingItem, error) {
	out, err := c.PutOfferingItems(ctx, tenantID, items)
	if err == nil || !IsConflict(err) {
		return out, err
	}
	current, rerr := c.ListOfferingItems(ctx, tenantID, AllEditions)
	if rerr != nil {
		return nil, fmt.Errorf("acronis: re-read offering items of %s after a version conflict: %w", tenantID, rerr)
	}
	versions := make(map[string]int64, len(current))
	for _, it := range current {
		if it.Quota != nil {
			versions[it.Key()] = it.Quota.Version
		}
	}
	retry := make([]OfferingItem, len(items))
	for i, it := range items {
		retry[i] = it
		if it.Quota != nil {
			q := *it.Quota
			q.Version = versions[it.Key()]
			retry[i].Quota = &q
		}
	}
	out, err = c.PutOfferingItems(ctx, tenantID, retry)
	if err != nil {
		return nil, fmt.Errorf("acronis: set offering items of %s (retried after a version conflict): %w", tenantID, err)
	}
	return out, nil
}

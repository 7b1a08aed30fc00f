package activities

import (
	"context"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
)

// ReadTenantItems reads a tenant's offering items with their current usage,
// so a plan can say what each write changes and warn before a quota goes
// below what the tenant already uses. It writes nothing.
func (a *Acronis) ReadTenantItems(ctx context.Context, tenantID string) ([]plan.ItemState, error) {
	api, err := a.Client(ctx)
	if err != nil {
		return nil, err
	}
	items, err := api.ListOfferingItems(ctx, tenantID, acronis.AllEditions)
	if err != nil {
		return nil, classify("read offering items of "+tenantID, err)
	}
	usages, err := api.GetTenantUsages(ctx, tenantID)
	if err != nil {
		return nil, classify("read usages of "+tenantID, err)
	}
	key := func(name, infra string) string {
		if infra == "" {
			return name
		}
		return name + "@" + infra
	}
	used := map[string]float64{}
	for _, u := range usages {
		used[key(u.Name, u.InfraID)] = u.Value
	}
	out := make([]plan.ItemState, 0, len(items))
	for _, it := range items {
		k := key(it.Name, it.InfraID)
		s := plan.ItemState{Key: k, Enabled: it.Enabled(), Usage: used[k]}
		if it.Quota != nil && !it.Quota.Unlimited() {
			s.Quota, s.Overage = it.Quota.Value, it.Quota.Overage
		}
		out = append(out, s)
	}
	return out, nil
}

// SwitchToProduction ends a tenant's trial: production pricing mode, audited.
// A tenant already in production is left as it is.
func (a *Acronis) SwitchToProduction(ctx context.Context, in TenantStateInput) error {
	api, err := a.Client(ctx)
	if err != nil {
		return err
	}
	t, err := api.GetTenant(ctx, in.TenantID)
	if err != nil {
		return classify("read tenant "+in.TenantID, err)
	}
	if t.PricingMode == "production" {
		return nil
	}
	if _, err := api.SetPricingMode(ctx, in.TenantID, "production"); err != nil {
		return classify("set production mode", err)
	}
	a.audit(ctx, in.CompanyID, in.TenantID, auditTenantUpdate, in.Reason, map[string]any{"pricing_mode": t.PricingMode}, map[string]any{"pricing_mode": "production"})
	return nil
}

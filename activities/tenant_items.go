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
	return itemStates(items, usages), nil
}

// TenantsItems is ReadTenantItems for many tenants, for previews of many
// customers: offering items one tenant at a time, usages in batches of
// acronis.UsagesBatchSize tenants a request, so a plan over N tenants costs
// about N requests instead of 2N. A tenant whose items cannot be read is in
// failed with why; err is a failure of the whole read.
func TenantsItems(ctx context.Context, a *Acronis, ids []string) (out map[string][]plan.ItemState, failed map[string]error, err error) {
	api, err := a.Client(ctx)
	if err != nil {
		return nil, nil, err
	}
	out, failed = map[string][]plan.ItemState{}, map[string]error{}
	usages := map[string][]acronis.Usage{}
	if batch, ok := api.(interface {
		GetUsages(ctx context.Context, tenantIDs []string, usageNames ...string) ([]acronis.TenantUsages, error)
	}); ok {
		got, err := batch.GetUsages(ctx, ids)
		if err != nil {
			return nil, nil, classify("read the usages of the planned tenants", err)
		}
		for _, t := range got {
			usages[t.Tenant] = append(usages[t.Tenant], t.Usages...)
		}
	} else {
		for _, id := range ids {
			u, err := api.GetTenantUsages(ctx, id)
			if err != nil {
				failed[id] = classify("read usages of "+id, err)
				continue
			}
			usages[id] = u
		}
	}
	for _, id := range ids {
		if failed[id] != nil {
			continue
		}
		items, err := api.ListOfferingItems(ctx, id, acronis.AllEditions)
		if err != nil {
			failed[id] = classify("read offering items of "+id, err)
			continue
		}
		out[id] = itemStates(items, usages[id])
	}
	return out, failed, nil
}

// itemStates joins a tenant's offering items with their usage.
func itemStates(items []acronis.OfferingItem, usages []acronis.Usage) []plan.ItemState {
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
	return out
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

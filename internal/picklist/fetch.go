package picklist

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// maxBillingCodes bounds the allocation codes read (Autotask databases hold
// tens of them; the bound keeps a pathological one from paging forever).
const maxBillingCodes = 2000

// FetchAutotask reads one Autotask list through at, whose view decides the
// budget priority and caching.
func FetchAutotask(ctx context.Context, at *autotask.Client, name Name) (List, error) {
	src, ok := sources[name]
	if !ok || name == Storages {
		return List{}, fmt.Errorf("picklist: %q is not an Autotask list", name)
	}
	if name == BillingCodes {
		return fetchBillingCodes(ctx, at)
	}
	fields, err := at.Fields(ctx, src.entity)
	if err != nil {
		return List{}, err
	}
	opts, ok := autotask.Picklist(fields, src.field)
	if !ok {
		return List{}, fmt.Errorf("picklist: Autotask %s has no %s picklist", src.entity, src.field)
	}
	opts = slices.Clone(opts)
	slices.SortStableFunc(opts, func(a, b autotask.PicklistValue) int { return a.SortOrder - b.SortOrder })
	l := List{Name: name, Source: "Autotask " + src.entity + "." + src.field, Values: []Value{}, FetchedAt: time.Now().UTC()}
	for _, o := range opts {
		if o.IsActive {
			l.Values = append(l.Values, Value{ID: o.Value, Label: o.Label, ParentID: o.ParentValue, IsDefault: o.IsDefaultValue})
		}
	}
	return l, nil
}

// fetchBillingCodes reads the active allocation codes of the Recurring
// Contract Service type; the type's code is resolved by its label.
func fetchBillingCodes(ctx context.Context, at *autotask.Client) (List, error) {
	fields, err := at.Fields(ctx, "BillingCodes")
	if err != nil {
		return List{}, err
	}
	typ, err := autotask.PicklistCode(fields, "billingCodeType", "Recurring Contract Service")
	if err != nil {
		return List{}, err
	}
	l := List{Name: BillingCodes, Source: "Autotask BillingCodes (active, Recurring Contract Service)", Values: []Value{}, FetchedAt: time.Now().UTC()}
	q := autotask.NewQuery(autotask.Eq("isActive", true), autotask.Eq("billingCodeType", typ)).Limit(autotask.MaxPageSize)
	err = autotask.QueryPages(ctx, at, q, func(page []autotask.BillingCode) error {
		for _, bc := range page {
			l.Values = append(l.Values, Value{ID: strconv.FormatInt(bc.ID, 10), Label: bc.Name})
		}
		if len(l.Values) >= maxBillingCodes {
			return fmt.Errorf("picklist: more than %d allocation codes", maxBillingCodes)
		}
		return nil
	})
	if err != nil {
		return List{}, fmt.Errorf("query allocation codes: %w", err)
	}
	return l, nil
}

// FetchStorages reads the backup storages of the partner tenant: the ones a
// customer's default storage and storage classes can name.
func FetchStorages(ctx context.Context, ac *acronis.Client) (List, error) {
	infras, err := ac.TenantStorages(ctx, ac.PartnerTenantID())
	if err != nil {
		return List{}, fmt.Errorf("list the partner's storages: %w", err)
	}
	l := List{Name: Storages, Source: "Acronis infra of the partner tenant (backup)", Values: []Value{}, FetchedAt: time.Now().UTC()}
	for _, in := range infras {
		label := in.Name
		if label == "" {
			label = in.ID
		}
		l.Values = append(l.Values, Value{ID: in.ID, Label: label})
	}
	return l, nil
}

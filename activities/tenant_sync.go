package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/readmodel"
)

// TenantSyncAcronis is what the tenant sync needs of the Acronis client.
type TenantSyncAcronis interface {
	PartnerTenantID() string
	EachTenant(ctx context.Context, q acronis.TenantQuery, fn func([]acronis.Tenant) error) (time.Time, error)
	TenantUsers(ctx context.Context, tenantID string) ([]string, error)
}

// TenantSyncStore is the read model's tenant side.
type TenantSyncStore interface {
	SaveTenants(ctx context.Context, ts []readmodel.Tenant, run int64, at time.Time) (int, error)
	MarkUnseenTenantsDeleted(ctx context.Context, run int64, at time.Time) (int, error)
	TenantsToProbe(ctx context.Context, limit int, olderThan time.Time) ([]string, error)
	SetSupportAccess(ctx context.Context, tenantID string, allowed bool, at time.Time) error
	MarkSuggestionsStale(ctx context.Context) error
	RefreshSuggestions(ctx context.Context, limit int) (done, remaining int, err error)
}

// TenantSync copies the partner's Acronis tenants into the read model, so
// the tenants list, the mapping suggestions and the mapping health need no
// Acronis request (issue 16). It runs on the Acronis pool.
type TenantSync struct {
	Acronis func(ctx context.Context) (TenantSyncAcronis, error)
	Store   TenantSyncStore
	Now     func() time.Time
}

// TenantSyncResult reports one run.
type TenantSyncResult struct {
	Run     int64 `json:"run"`
	Tenants int   `json:"tenants"`
	Deleted int   `json:"deleted"`
	Probed  int   `json:"probed"`
	// Changed counts tenants new or changed in what suggestions weigh.
	Changed int `json:"changed"`
	// Suggested counts companies whose suggestions were recomputed;
	// SuggestPending those still due (the workflow runs again soon).
	Suggested      int `json:"suggested"`
	SuggestPending int `json:"suggestPending"`
}

const (
	// tenantPageSize is the listing's page size.
	tenantPageSize = 500
	// probesPerRun bounds the support-access probes (one request each) per
	// run; reprobeAfter is how long a probe's answer is trusted.
	probesPerRun = 50
	reprobeAfter = 24 * time.Hour
	// suggestBatch companies are recomputed per step, for at most suggestBudget per run.
	suggestBatch  = 100
	suggestBudget = time.Minute
)

// SyncTenants lists every tenant under the partner (run numbers each
// complete listing), marks the ones no longer listed as deleted, and probes
// the support access of a few tenants whose answer is unknown or old.
func (s *TenantSync) SyncTenants(ctx context.Context, run int64) (TenantSyncResult, error) {
	api, err := s.Acronis(ctx)
	if err != nil {
		return TenantSyncResult{}, err
	}
	now := time.Now().UTC()
	if s.Now != nil {
		now = s.Now().UTC()
	}
	res := TenantSyncResult{Run: run}
	partner := api.PartnerTenantID()
	_, err = api.EachTenant(ctx, acronis.TenantQuery{SubtreeRootID: partner, Limit: tenantPageSize}, func(ts []acronis.Tenant) error {
		rows := make([]readmodel.Tenant, 0, len(ts))
		for _, t := range ts {
			if t.ID == partner {
				continue
			}
			rows = append(rows, tenantRow(t))
		}
		res.Tenants += len(rows)
		activity.RecordHeartbeat(ctx, res.Tenants)
		changed, err := s.Store.SaveTenants(ctx, rows, run, now)
		res.Changed += changed
		return err
	})
	if err != nil {
		return res, classify("list the Acronis tenants under the partner", err)
	}
	if res.Deleted, err = s.Store.MarkUnseenTenantsDeleted(ctx, run, now); err != nil {
		return res, classify("mark vanished tenants", err)
	}
	ids, err := s.Store.TenantsToProbe(ctx, probesPerRun, now.Add(-reprobeAfter))
	if err != nil {
		return res, classify("list tenants to probe", err)
	}
	for _, id := range ids {
		_, err := api.TenantUsers(ctx, id)
		switch {
		case err == nil:
			err = s.Store.SetSupportAccess(ctx, id, true, now)
		case acronis.IsForbidden(err):
			err = s.Store.SetSupportAccess(ctx, id, false, now)
		case acronis.IsNotFound(err):
			continue // deleted since the listing: the next run marks it
		default:
			return res, classify(fmt.Sprintf("probe support access of tenant %s", id), err)
		}
		if err != nil {
			return res, classify("record support access", err)
		}
		res.Probed++
	}
	if err := s.refreshSuggestions(ctx, &res); err != nil {
		return res, err
	}
	return res, nil
}

// refreshSuggestions recomputes the suggestions of companies whose own data
// or whose candidate tenants changed, for at most suggestBudget: a fuzzy
// search costs milliseconds per company, so 10,000 companies take a few
// runs, and the customers list then reads them without searching.
func (s *TenantSync) refreshSuggestions(ctx context.Context, res *TenantSyncResult) error {
	if res.Changed > 0 {
		if err := s.Store.MarkSuggestionsStale(ctx); err != nil {
			return classify("mark suggestions stale", err)
		}
	}
	deadline := time.Now().Add(suggestBudget)
	for {
		done, remaining, err := s.Store.RefreshSuggestions(ctx, suggestBatch)
		if err != nil {
			return classify("recompute suggestions", err)
		}
		res.Suggested += done
		res.SuggestPending = remaining
		activity.RecordHeartbeat(ctx, res.Tenants)
		if done == 0 || remaining == 0 || time.Now().After(deadline) {
			return nil
		}
	}
}

// tenantRow is the read model's view of an Acronis tenant.
func tenantRow(t acronis.Tenant) readmodel.Tenant {
	r := readmodel.Tenant{ID: t.ID, Name: t.Name, Kind: t.Kind, ParentID: t.ParentID, Enabled: t.Enabled,
		ContactEmail: t.Contact.Email, SelfService: t.SelfService(), UpdatedAt: t.UpdatedAt.Time}
	if r.ContactEmail == "" {
		for _, c := range t.Contacts {
			if c.Email != "" {
				r.ContactEmail = c.Email
				break
			}
		}
	}
	if t.InternalTag != nil {
		r.InternalTag = *t.InternalTag
	}
	if t.CustomerID != nil {
		r.CustomerRef = *t.CustomerID
	}
	return r
}

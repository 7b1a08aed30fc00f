// Package planner previews admin changes across customers and applies them
// (issue 14): for a scope of customers, under the saved configuration or
// under settings and mappings not saved yet, it answers with the exact writes
// each customer's workflow would make. The plans come from the workflows' own
// planner (activities.Store.PlanWith, workflows.PreviewCustomer) fed with the
// state each workflow reports, so a preview is what runs, not a copy of it.
// A plan is stored and applied by its id only while its inputs still hold.
package planner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"golang.org/x/sync/errgroup"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// parallel bounds the customers planned at once: each costs a workflow query
// and two Acronis reads.
const parallel = 4

// Store is what the planner keeps and reads in PostgreSQL; *store.Store satisfies it.
type Store interface {
	KnownCompanies(ctx context.Context) ([]int64, error)
	CurrentSettings(ctx context.Context) (store.SettingsVersion, error)
	CustomerMappingByTenant(ctx context.Context, tenantID string) (store.CustomerMapping, error)
	ConfigGeneration(ctx context.Context) (string, error)
	SavePlanSet(ctx context.Context, p plan.Set, actor store.Actor) error
	PlanSet(ctx context.Context, id string) (plan.Set, error)
	ClaimPlanSet(ctx context.Context, id string, now time.Time) error
	ReleasePlanSet(ctx context.Context, id string) error
	ApplyPlanSet(ctx context.Context, p plan.Set, settingsDoc json.RawMessage, mappings []store.ServiceMapping, replaceMappings bool, actor store.Actor, at time.Time) error
}

// Decider is the workflows' planner; *activities.Store satisfies it.
type Decider interface {
	LoadPlanConfig(ctx context.Context) (activities.PlanConfig, error)
	PlanWith(ctx context.Context, cfg activities.PlanConfig, in activities.PlanInput, tenantID *string) (entitlement.Plan, error)
}

// Customers queries and messages customer workflows; workflows.Customers satisfies it.
type Customers interface {
	State(ctx context.Context, companyID int64) (workflows.CustomerState, error)
	Replan(ctx context.Context, companyID int64, generation string) error
	Update(ctx context.Context, co workflows.Company, name string, arg any) (workflows.ActionResult, error)
}

// ItemReader reads the offering items and usage of many tenants from
// Acronis (activities.TenantsItems); failed holds the tenants it could not read.
type ItemReader func(ctx context.Context, tenantIDs []string) (items map[string][]plan.ItemState, failed map[string]error, err error)

// Service previews and applies plans.
type Service struct {
	DB        Store
	Decide    Decider
	Customers Customers
	Items     ItemReader
	Now       func() time.Time
}

// Request is a preview: a scope and, optionally, changes not saved yet.
// Settings and service mappings in Change are already validated documents.
type Request struct {
	Scope  plan.Scope
	Change plan.Changes
}

// DriftError is the answer to applying a plan whose inputs moved: nothing was written.
type DriftError struct {
	SettingsVersion *[2]int64
	Drifts          []plan.Drift
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("the plan no longer holds: %d customers changed since it was made; preview again", len(e.Drifts))
}

// Applied is the answer of a successful apply.
type Applied struct {
	Set plan.Set `json:"plan"`
	// Warnings say what was saved but could not be completed at once; the
	// next contract sync completes it.
	Warnings []string `json:"warnings,omitempty"`
}

// Preview plans the request's scope and stores the plan.
func (s *Service) Preview(ctx context.Context, req Request, actor store.Actor) (plan.Set, error) {
	set, err := s.make(ctx, req)
	if err != nil {
		return plan.Set{}, err
	}
	set.CreatedBy = actor.Name
	if err := s.DB.SavePlanSet(ctx, set, actor); err != nil {
		return plan.Set{}, err
	}
	return set, nil
}

// Get reads a stored plan.
func (s *Service) Get(ctx context.Context, id string) (plan.Set, error) { return s.DB.PlanSet(ctx, id) }

// Apply re-plans a stored plan's scope under its changes; when every input
// still holds it saves the changes (one transaction), maps the companies it
// maps with each mapping's own plan id, and asks every customer in scope to
// re-plan at once. Otherwise it writes nothing and answers *DriftError.
func (s *Service) Apply(ctx context.Context, id string, actor store.Actor) (Applied, error) {
	now := s.Now()
	if err := s.DB.ClaimPlanSet(ctx, id, now); err != nil {
		return Applied{}, err
	}
	old, err := s.DB.PlanSet(ctx, id)
	if err != nil {
		return Applied{}, errors.Join(err, s.DB.ReleasePlanSet(ctx, id))
	}
	fresh, err := s.make(ctx, Request{Scope: old.Scope, Change: old.Change})
	if err != nil {
		return Applied{}, errors.Join(err, s.DB.ReleasePlanSet(ctx, id))
	}
	if d := drift(old, fresh); d != nil {
		return Applied{}, errors.Join(d, s.DB.ReleasePlanSet(ctx, id))
	}
	var mappings []store.ServiceMapping
	if old.Change.ServiceMappings != nil {
		if err := json.Unmarshal(old.Change.ServiceMappings, &mappings); err != nil {
			return Applied{}, errors.Join(fmt.Errorf("decode the plan's service mappings: %w", err), s.DB.ReleasePlanSet(ctx, id))
		}
	}
	if err := s.DB.ApplyPlanSet(ctx, old, old.Change.Settings, mappings, old.Change.ServiceMappings != nil, actor, now); err != nil {
		return Applied{}, errors.Join(err, s.DB.ReleasePlanSet(ctx, id))
	}
	out := Applied{Set: old}
	out.Set.Status, out.Set.AppliedAt, out.Set.AppliedBy = plan.StatusApplied, &now, actor.Name
	byCompany := map[int64]plan.Entry{}
	for _, e := range old.Customers {
		byCompany[e.CompanyID] = e
	}
	mapped := map[int64]bool{}
	for _, m := range old.Change.CustomerMappings {
		mapped[m.CompanyID] = true
		e := byCompany[m.CompanyID]
		_, err := s.Customers.Update(ctx, workflows.Company{ID: m.CompanyID, Name: e.CompanyName}, workflows.UpdateMap,
			workflows.MapRequest{TenantID: m.TenantID, Actor: actor.Name, PlanID: e.ID})
		if err != nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("company %d was not mapped to tenant %s: %v", m.CompanyID, m.TenantID, err))
		}
	}
	for _, e := range old.Customers {
		below := e.BelowUsage()
		if mapped[e.CompanyID] || below == nil {
			continue // a mapping confirms its own plan
		}
		_, err := s.Customers.Update(ctx, workflows.Company{ID: e.CompanyID, Name: e.CompanyName}, workflows.UpdateConfirmPlan,
			workflows.ConfirmRequest{PlanID: old.ID, Actor: actor.Name, Quotas: below})
		if err != nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("customer %d: the quotas below usage were not confirmed: %v", e.CompanyID, err))
		}
	}
	gen, err := s.DB.ConfigGeneration(ctx)
	if err != nil {
		out.Warnings = append(out.Warnings, "customers were not asked to re-plan at once ("+err.Error()+"); the next contract sync does it")
		return out, nil
	}
	for _, e := range old.Customers {
		if err := s.Customers.Replan(ctx, e.CompanyID, gen); err != nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("customer %d was not asked to re-plan at once (%v); the next contract sync does it", e.CompanyID, err))
		}
	}
	return out, nil
}

// make plans every customer of the request's scope.
func (s *Service) make(ctx context.Context, req Request) (plan.Set, error) {
	now := s.Now().UTC()
	version := int64(0)
	switch cur, err := s.DB.CurrentSettings(ctx); {
	case err == nil:
		version = cur.Version
	case !errors.Is(err, store.ErrNotFound):
		return plan.Set{}, err
	}
	cfg, err := s.Decide.LoadPlanConfig(ctx)
	if err != nil {
		return plan.Set{}, err
	}
	if req.Change.Settings != nil {
		if cfg.Settings, err = settings.Decode(req.Change.Settings); err != nil {
			return plan.Set{}, fmt.Errorf("decode the plan's settings: %w", err)
		}
	}
	if req.Change.ServiceMappings != nil {
		cfg.Mappings = nil
		if err := json.Unmarshal(req.Change.ServiceMappings, &cfg.Mappings); err != nil {
			return plan.Set{}, fmt.Errorf("decode the plan's service mappings: %w", err)
		}
	}
	mapTo := map[int64]string{}
	for _, m := range req.Change.CustomerMappings {
		mapTo[m.CompanyID] = m.TenantID
	}
	companies, err := s.scope(ctx, req)
	if err != nil {
		return plan.Set{}, err
	}
	set := plan.Set{Status: plan.StatusPreview, Scope: req.Scope, Change: req.Change, SettingsVersion: version,
		CreatedAt: now, ExpiresAt: now.Add(plan.SetTTL)}
	// First every customer is planned from its workflow's state alone; then
	// the tenants of those whose plan writes quotas or deprovisions are read
	// together, and those are planned again with what Acronis holds.
	var mu sync.Mutex
	var drafts []*draft
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, id := range companies {
		g.Go(func() error {
			d, skip, err := s.customer(gctx, cfg, id, mapTo[id], now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				return err
			case skip != "":
				set.Skipped = append(set.Skipped, plan.Skipped{CompanyID: id, Reason: skip})
			default:
				drafts = append(drafts, d)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return plan.Set{}, err
	}
	var read []string
	for _, d := range drafts {
		if d.read {
			read = append(read, d.tenant)
		}
	}
	items, failed := map[string][]plan.ItemState{}, map[string]error{}
	if len(read) > 0 {
		if items, failed, err = s.Items(ctx, read); err != nil {
			return plan.Set{}, fmt.Errorf("read the planned tenants from Acronis: %w", err)
		}
	}
	for _, d := range drafts {
		if d.read {
			if err := failed[d.tenant]; err != nil {
				set.Skipped = append(set.Skipped, plan.Skipped{CompanyID: d.st.CompanyID, Reason: "could not read tenant " + d.tenant + " from Acronis: " + err.Error()})
				continue
			}
			d.preview(items[d.tenant], now)
		}
		set.Customers = append(set.Customers, d.entry)
	}
	sort.Slice(set.Customers, func(i, j int) bool { return set.Customers[i].CompanyID < set.Customers[j].CompanyID })
	sort.Slice(set.Skipped, func(i, j int) bool { return set.Skipped[i].CompanyID < set.Skipped[j].CompanyID })
	set.Summarize()
	ids := make([]string, len(set.Customers))
	for i, c := range set.Customers {
		ids[i] = c.ID
	}
	set.ID = plan.ID(req.Scope, req.Change, version, ids, now.UnixNano())
	return set, nil
}

// scope lists the companies a request plans: those it names (and those it
// maps), or every company a customer workflow may exist for.
func (s *Service) scope(ctx context.Context, req Request) ([]int64, error) {
	seen := map[int64]bool{}
	var out []int64
	add := func(id int64) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if req.Scope.All {
		known, err := s.DB.KnownCompanies(ctx)
		if err != nil {
			return nil, err
		}
		for _, id := range known {
			add(id)
		}
	}
	for _, id := range req.Scope.CompanyIDs {
		add(id)
	}
	for _, m := range req.Change.CustomerMappings {
		add(m.CompanyID)
	}
	return out, nil
}

// draft is one customer planned from its workflow's state; read says its
// tenant must be read and the plan made again with the tenant's items.
type draft struct {
	st     workflows.CustomerState
	p      entitlement.Plan
	mapTo  string
	tenant string
	read   bool
	entry  plan.Entry
	// extra are the planner's own warnings (a tenant mapped elsewhere),
	// after the preview's.
	extra []string
}

// preview (re)makes the customer's plan from the tenant's items (nil: not read).
func (d *draft) preview(current []plan.ItemState, now time.Time) {
	d.entry.Customer = workflows.PreviewCustomer(d.st, d.p, d.mapTo, current, now)
	d.entry.Warnings = append(d.entry.Warnings, d.extra...)
	d.entry.Inputs.QuotasRead = digest(current)
}

// customer plans one company from its workflow's state; skip says why it
// cannot be planned.
func (s *Service) customer(ctx context.Context, cfg activities.PlanConfig, companyID int64, mapTo string, now time.Time) (*draft, string, error) {
	st, err := s.Customers.State(ctx, companyID)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, fmt.Sprintf("no customer workflow yet: the contract sync has not seen this company; POST /api/v1/customers/%d/sync starts it", companyID), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read the state of customer %d: %w", companyID, err)
	}
	d := &draft{st: st, mapTo: mapTo, tenant: st.TenantID}
	if mapTo != "" {
		d.tenant = mapTo
	}
	if st.Snapshot != nil {
		var override *string
		if mapTo != "" {
			override = &mapTo
		}
		if d.p, err = s.Decide.PlanWith(ctx, cfg, activities.PlanInput{Snapshot: *st.Snapshot, Today: now}, override); err != nil {
			return nil, "", fmt.Errorf("plan customer %d: %w", companyID, err)
		}
	}
	if mapTo != "" && mapTo != st.TenantID {
		switch m, err := s.DB.CustomerMappingByTenant(ctx, mapTo); {
		case err == nil && m.CompanyID != companyID:
			d.extra = append(d.extra, fmt.Sprintf("%s: tenant %s is mapped to company %d; the mapping will be refused", plan.WarnAlreadyMapped, mapTo, m.CompanyID))
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, "", err
		}
	}
	// The tenant is read only when the plan writes quotas or deprovisions it:
	// a change that moves nothing else costs no Acronis request per customer.
	d.preview(nil, now)
	d.read = d.tenant != "" && !st.Deprovision.Deleted && (mapTo != "" || needsTenant(d.entry.Customer))
	if st.Snapshot != nil {
		d.entry.Inputs.Snapshot = activities.SnapshotFingerprint(*st.Snapshot)
	}
	d.entry.Inputs.Mapping = d.tenant
	d.entry.Inputs.State = digest(st.Deprovision, st.Applied, st.TrialEndsAt, st.ProvisionRequested, st.Unmanaged)
	return d, "", nil
}

// needsTenant reports whether a plan made without the tenant's items must be
// made again with them: it writes quotas (compared with the current ones and
// their usage), or deprovisions a tenant that may be in use.
func needsTenant(c plan.Customer) bool {
	if len(c.Items) > 0 {
		return true
	}
	for _, s := range c.Steps {
		if strings.HasPrefix(s.Action, "disable-tenant") || strings.HasPrefix(s.Action, "delete-tenant") || strings.HasPrefix(s.Action, "zero-quotas") {
			return true
		}
	}
	return false
}

// drift compares a stored plan with the same plan made now.
func drift(old, fresh plan.Set) *DriftError {
	d := &DriftError{}
	if old.SettingsVersion != fresh.SettingsVersion {
		d.SettingsVersion = &[2]int64{old.SettingsVersion, fresh.SettingsVersion}
	}
	now := map[int64]plan.Entry{}
	for _, e := range fresh.Customers {
		now[e.CompanyID] = e
	}
	for _, e := range old.Customers {
		f, ok := now[e.CompanyID]
		delete(now, e.CompanyID)
		switch {
		case !ok:
			d.Drifts = append(d.Drifts, plan.Drift{CompanyID: e.CompanyID, Changed: []string{"no longer plannable"}})
		case f.ID != e.ID:
			changed := e.Inputs.Diff(f.Inputs)
			if len(changed) == 0 {
				changed = []string{"configuration"}
			}
			d.Drifts = append(d.Drifts, plan.Drift{CompanyID: e.CompanyID, Changed: changed})
		}
	}
	for id := range now {
		d.Drifts = append(d.Drifts, plan.Drift{CompanyID: id, Changed: []string{"new customer in scope"}})
	}
	if d.SettingsVersion == nil && len(d.Drifts) == 0 {
		return nil
	}
	sort.Slice(d.Drifts, func(i, j int) bool { return d.Drifts[i].CompanyID < d.Drifts[j].CompanyID })
	return d
}

func digest(v ...any) string {
	raw, _ := json.Marshal(v)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

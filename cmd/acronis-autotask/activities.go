package main

import (
	"context"
	"time"

	"go.temporal.io/sdk/worker"
	"go.uber.org/fx"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/internal/connections"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/planner"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// asActivities hands a constructor's result to the worker's registration group.
func asActivities(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"activities"`))
}

// activitiesModule builds every activity struct and workflow from the
// process's dependencies for the worker to register.
var activitiesModule = fx.Module("activities",
	fx.Provide(
		func(st *store.Store) *activities.WriteGate { return &activities.WriteGate{Store: st} },
		newAcronisActivities,
		asActivities(func(a *activities.Acronis) any { return a }),
		asActivities(func(p *connections.Provider, st *store.Store, g *activities.WriteGate) any {
			return &activities.Autotask{Client: autotaskAt(p, g, autotask.PriorityBilling), Audit: activities.GatedStore{Store: st, Gate: g}}
		}),
		asActivities(func(st *store.Store, a *activities.Acronis, day dayLength) any {
			return &activities.Store{DB: st, Catalog: a.Catalog, Day: day.d}
		}),
		asActivities(func(p *connections.Provider, st *store.Store, cust workflows.Customers, cfg config.Config, g *activities.WriteGate) any {
			return &activities.ContractSync{
				Autotask:    autotaskAt(p, g, autotask.PriorityScan),
				HourlyLimit: cfg.AutotaskHourlyBudget,
				Store:       st,
				Customers:   cust,
				Audit:       activities.GatedStore{Store: st, Gate: g},
			}
		}),
		asActivities(func(p *connections.Provider, st *store.Store, g *activities.WriteGate) any {
			return &activities.Usage{
				Acronis:  func(ctx context.Context) (activities.UsageAcronis, error) { return acronisBehind(ctx, p, g) },
				Autotask: autotaskAt(p, g, autotask.PriorityBilling),
				Store:    activities.GatedStore{Store: st, Gate: g},
			}
		}),
		fx.Annotate(func() any { return workflows.CustomerWorkflow }, fx.ResultTags(`group:"workflows"`)),
		fx.Annotate(func() any { return workflows.UsageReportWorkflow }, fx.ResultTags(`group:"workflows"`)),
		fx.Annotate(func() any { return workflows.ContractSyncWorkflow }, fx.ResultTags(`group:"workflows"`)),
		asActivities(func(p *connections.Provider, st *store.Store, cust workflows.Customers, day dayLength, g *activities.WriteGate) any {
			return &activities.Alerts{
				Acronis:  func(ctx context.Context) (activities.AlertsAcronis, error) { return acronisBehind(ctx, p, g) },
				Autotask: autotaskAt(p, g, autotask.PriorityTickets),
				Store:    st,
				Notifier: workflows.Alerts{Client: cust.Client, TaskQueue: cust.TaskQueue},
				Day:      day.d,
				Audit:    activities.GatedStore{Store: st, Gate: g},
			}
		}),
		fx.Annotate(func() any { return workflows.AlertSyncWorkflow }, fx.ResultTags(`group:"workflows"`)),
		asActivities(func(p *connections.Provider, st *store.Store) any {
			return &activities.TenantSync{
				Acronis: func(ctx context.Context) (activities.TenantSyncAcronis, error) { return p.Acronis(ctx) },
				Store:   st,
			}
		}),
		fx.Annotate(func() any { return workflows.TenantSyncWorkflow }, fx.ResultTags(`group:"workflows"`)),
		fx.Annotate(func() any { return workflows.AlertTicketWorkflow }, fx.ResultTags(`group:"workflows"`)),
	),
	// Every worker makes sure the singletons run (contract sync, tenant sync, alert sync, usage report);
	// starting one that runs joins it.
	fx.Invoke(func(lc fx.Lifecycle, w worker.Worker, cust workflows.Customers) {
		lc.Append(fx.StartHook(func(ctx context.Context) error {
			if err := cust.SyncNow(ctx); err != nil {
				return err
			}
			if err := cust.TenantSyncNow(ctx); err != nil {
				return err
			}
			if err := (workflows.Alerts{Client: cust.Client, TaskQueue: cust.TaskQueue}).SyncNow(ctx); err != nil {
				return err
			}
			_, err := cust.Client.ExecuteWorkflow(ctx, workflows.UsageReportStartOptions(cust.TaskQueue), workflows.UsageReportWorkflow, workflows.UsageReportState{})
			return err
		}))
	}),
)

// autotaskAt hands activities the Autotask client spending the shared budget
// at priority p: tickets first, then billing, then scans (README, "Autotask
// budget"); behind the write gate, so shadow mode records its writes.
func autotaskAt(p *connections.Provider, g *activities.WriteGate, prio autotask.Priority) func(context.Context) (*autotask.Client, error) {
	return func(ctx context.Context) (*autotask.Client, error) {
		c, err := p.Autotask(ctx)
		if err != nil {
			return nil, err
		}
		return g.Autotask(ctx, c.WithPriority(prio))
	}
}

// acronisBehind is the Acronis client behind the write gate.
func acronisBehind(ctx context.Context, p *connections.Provider, g *activities.WriteGate) (*activities.GatedAcronis, error) {
	c, err := p.Acronis(ctx)
	if err != nil {
		return nil, err
	}
	return g.Acronis(ctx, c)
}

func newAcronisActivities(st *store.Store, p *connections.Provider, g *activities.WriteGate) *activities.Acronis {
	return &activities.Acronis{
		Client: func(ctx context.Context) (activities.AcronisAPI, error) { return acronisBehind(ctx, p, g) },
		Store:  activities.GatedStore{Store: st, Gate: g},
	}
}

// newPlanner previews and applies plans in the server with the workflows'
// own planner: the same store activities (same day length) and tenant reads.
func newPlanner(st *store.Store, p *connections.Provider, cust workflows.Customers, day dayLength) *planner.Service {
	acr := newAcronisActivities(st, p, &activities.WriteGate{Store: st})
	return &planner.Service{
		DB:        st,
		Decide:    activities.Planner{Store: &activities.Store{DB: st, Catalog: acr.Catalog, Day: day.d}},
		Customers: cust,
		Items: func(ctx context.Context, ids []string) (map[string][]plan.ItemState, map[string]error, error) {
			return activities.TenantsItems(ctx, acr, ids)
		},
		Now: time.Now,
	}
}

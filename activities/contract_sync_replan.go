package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"
)

// replan tells every known customer to re-plan when the saved configuration
// (settings, service mappings) changed since the last run, so an admin's
// change reaches every customer within one run of the sync, without another
// call (issue 14). It reads only PostgreSQL: each workflow re-plans from the
// snapshot it holds, so a re-plan costs no Autotask request.
//
// The first run only records the generation: it delivers every company's
// snapshot anyway, and each is planned under the configuration of that moment.
// A cursor from before this change has no generation: its first run after the
// upgrade signals everyone once, which re-plans and writes only differences.
func (s *ContractSync) replan(ctx context.Context, cur *SyncCursor, res *SyncResult) error {
	gen, err := s.Store.ConfigGeneration(ctx)
	if err != nil {
		return classify("read configuration generation", err)
	}
	if gen == cur.ConfigGeneration {
		return nil
	}
	if !cur.LastRun.IsZero() {
		ids, err := s.Store.KnownCompanies(ctx)
		if err != nil {
			return classify("list customers to re-plan", err)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		for _, id := range ids {
			g.Go(func() error { return s.Customers.Replan(gctx, id, gen) })
		}
		if err := g.Wait(); err != nil {
			return classify("signal customers to re-plan", err)
		}
		res.Replanned = len(ids)
		activity.RecordHeartbeat(ctx, fmt.Sprintf("told %d customers to re-plan", len(ids)))
	}
	cur.ConfigGeneration = gen
	return nil
}

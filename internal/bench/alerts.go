package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"

	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// alerts measures alert → ticket latency when the alert workflows run.
func (e *env) alerts(ctx context.Context) error {
	a := &e.res.Alerts
	if _, err := e.temporal.DescribeWorkflowExecution(ctx, workflows.AlertSyncWorkflowID, ""); err != nil {
		var nf *serviceerror.NotFound
		if !errors.As(err, &nf) {
			a.Note = "not measured: " + err.Error()
			return nil
		}
		a.Note = "not measured: tickets not implemented yet (no alert-sync workflow runs in the worker)"
		e.progress("alert → ticket: %s", a.Note)
		return nil
	}
	o := e.opts
	var targets []*company
	for _, c := range e.comps {
		if c.tenantID != "" {
			targets = append(targets, c)
		}
	}
	if o.Alerts <= 0 || len(targets) == 0 {
		a.Note = "not measured: no alerts requested or no tenants"
		return nil
	}
	rng := rand.New(rand.NewPCG(o.DataSeed, 0xa1e7))
	type raised struct {
		id      string
		at      time.Time
		latency time.Duration
		done    bool
	}
	e.progress("alert → ticket: raising %d alerts over %s", o.Alerts, o.ChangeSpread)
	before := e.counts()
	t0 := time.Now()
	list := make([]*raised, 0, o.Alerts)
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range o.Alerts {
			due := t0.Add(time.Duration(int64(o.ChangeSpread) * int64(i) / int64(o.Alerts)))
			if sleep(ctx, time.Until(due)) != nil {
				return
			}
			c := targets[rng.IntN(len(targets))]
			at := time.Now()
			id, err := e.ac.RaiseAlert(acsandbox.AlertSpec{TenantID: c.tenantID, Type: "BackupFailed", Severity: "error",
				Details: map[string]any{"resourceName": fmt.Sprintf("BENCH-%05d", i), "planName": "bench"}})
			if err != nil {
				mu.Lock()
				a.RaiseErrors++
				mu.Unlock()
				continue
			}
			mu.Lock()
			list = append(list, &raised{id: id, at: at})
			mu.Unlock()
		}
	}()
	deadline := t0.Add(o.ChangeSpread + o.AlertTimeout)
	for {
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			wg.Wait()
			return err
		}
		now := time.Now()
		mu.Lock()
		cur := slices.Clone(list)
		mu.Unlock()
		open := 0
		for _, r := range cur {
			if r.done {
				continue
			}
			if len(e.at.TicketsByExternalID(r.id)) > 0 {
				r.done, r.latency = true, now.Sub(r.at)
				continue
			}
			open++
		}
		if len(cur)+a.RaiseErrors >= o.Alerts && open == 0 {
			break
		}
		if now.After(deadline) {
			break
		}
	}
	wg.Wait()
	var ls []time.Duration
	for _, r := range list {
		if r.done {
			ls = append(ls, r.latency)
		} else {
			a.TimedOut++
		}
	}
	after := e.counts()
	a.Measured, a.Raised = true, len(list)
	a.Latency = round(Summarize(ls))
	a.AutotaskRequests = after.at - before.at
	a.Note = ""
	e.progress("alert → ticket: %d/%d tickets; p50 %.1fs p99 %.1fs; %d timed out", a.Latency.Count, a.Raised, a.Latency.P50, a.Latency.P99, a.TimedOut)
	return nil
}

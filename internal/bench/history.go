package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// history finds the longest workflow histories (events of the current run).
func (e *env) history(ctx context.Context) {
	h := &e.res.History
	ids := []string{workflows.ContractSyncWorkflowID, workflows.UsageReportWorkflowID, workflows.AlertSyncWorkflowID}
	singletons := len(ids)
	for _, c := range e.comps {
		ids = append(ids, workflows.CustomerWorkflowID(c.id))
	}
	type hl struct {
		id string
		n  int64
	}
	out := make([]hl, len(ids))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				d, err := e.temporal.DescribeWorkflowExecution(dctx, ids[i], "")
				cancel()
				if err == nil {
					out[i] = hl{ids[i], d.GetWorkflowExecutionInfo().GetHistoryLength()}
				}
			}
		}()
	}
	wg.Wait()
	var total int64
	for i, v := range out {
		if v.id == "" {
			continue
		}
		if i < singletons {
			h.Singletons = append(h.Singletons, WorkflowHistory{ID: v.id, Events: v.n})
			continue
		}
		h.CustomerWorkflows++
		total += v.n
		if v.n > h.MaxCustomer.Events {
			h.MaxCustomer = WorkflowHistory{ID: v.id, Events: v.n}
		}
	}
	if h.CustomerWorkflows > 0 {
		h.MeanCustomerEvents = round1(float64(total) / float64(h.CustomerWorkflows))
	}
	e.progress("histories: %d customer workflows, longest %s (%d events), mean %.1f; singletons %v",
		h.CustomerWorkflows, h.MaxCustomer.ID, h.MaxCustomer.Events, h.MeanCustomerEvents, h.Singletons)
}

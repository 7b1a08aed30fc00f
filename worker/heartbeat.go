package worker

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// heartbeatEvery is how often a running activity tells Temporal it is alive.
// Workflows set heartbeat timeouts of a few times this, so when a worker dies
// its activities are retried elsewhere in seconds, not after their whole
// StartToClose timeout.
const heartbeatEvery = 5 * time.Second

// heartbeats is a worker interceptor that heartbeats every running activity
// whose options ask for heartbeats, so activities need not do it themselves.
type heartbeats struct {
	interceptor.WorkerInterceptorBase
}

func (*heartbeats) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &heartbeatActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type heartbeatActivity struct {
	interceptor.ActivityInboundInterceptorBase
	details *detailsKeeper
}

// Init wraps the activity's outbound calls to remember its own heartbeat
// details: a periodic heartbeat re-sends them, because an empty one would
// replace them and a retry would lose where the attempt got to.
func (h *heartbeatActivity) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	h.details = &detailsKeeper{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: outbound}}
	return h.Next.Init(h.details)
}

func (h *heartbeatActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	if activity.GetInfo(ctx).HeartbeatTimeout <= 0 || h.details == nil {
		return h.Next.ExecuteActivity(ctx, in)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				h.details.resend(ctx)
			}
		}
	}()
	return h.Next.ExecuteActivity(ctx, in)
}

// detailsKeeper remembers the details of the activity's last own heartbeat.
type detailsKeeper struct {
	interceptor.ActivityOutboundInterceptorBase
	mu   sync.Mutex
	last []any
}

func (d *detailsKeeper) RecordHeartbeat(ctx context.Context, details ...any) {
	d.mu.Lock()
	d.last = details
	d.mu.Unlock()
	d.Next.RecordHeartbeat(ctx, details...)
}

func (d *detailsKeeper) resend(ctx context.Context) {
	d.mu.Lock()
	last := d.last
	d.mu.Unlock()
	d.Next.RecordHeartbeat(ctx, last...)
}

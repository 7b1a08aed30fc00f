// Package worker builds the Temporal client and worker and registers the
// project's workflows and activities; fx starts and stops them with the process.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.uber.org/fx"

	"github.com/acronis-autotask/acronis-autotask/internal/codec"
	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// ClientModule provides a client.Client for the server and the worker.
var ClientModule = fx.Module("temporal-client", fx.Provide(NewClient))

// Module runs a worker on the configured task queue for the life of the process.
var Module = fx.Module("temporal-worker",
	fx.Provide(NewWorker),
	fx.Invoke(func(worker.Worker) {}),
)

// NewClient connects lazily, so the REST API starts (and reports not ready)
// while Temporal is still coming up. Every payload and failure message is
// encrypted with SECRETS_KEY before it leaves the process.
func NewClient(lc fx.Lifecycle, cfg config.Config, log *slog.Logger, metrics client.MetricsHandler) (client.Client, error) {
	opts := ClientOptions(cfg, log, metrics)
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", cfg.TemporalAddress, err)
	}
	lc.Append(fx.StopHook(c.Close))
	return c, nil
}

// ClientOptions are the connection from the SDK's environment configuration
// (address, namespace, API key, TLS: config.TemporalOptions) with the
// project's logger, payload encryption and the SDK metrics handler.
func ClientOptions(cfg config.Config, log *slog.Logger, metrics client.MetricsHandler) client.Options {
	opts := cfg.Temporal
	if opts.HostPort == "" {
		opts.HostPort, opts.Namespace = cfg.TemporalAddress, cfg.TemporalNamespace
	}
	dc := codec.DataConverter(cfg.Keyring)
	opts.Logger = tlog.NewStructuredLogger(log.With("component", "temporal"))
	opts.DataConverter = dc
	opts.FailureConverter = codec.FailureConverter(dc)
	opts.MetricsHandler = metrics
	return opts
}

// Activities a worker runs at once, per pool. Activities wait in their task
// queue, where no timeout runs, rather than in a vendor's rate limiter inside
// their StartToClose (BENCHMARKS.md, finding 1); each vendor has its own pool
// so a backlog on one API never holds the slots of the other (finding 6).
const (
	// Workflow-queue activities: the store, and the syncs that page through both APIs.
	maxConcurrentActivities = 50
	// Acronis: about 8 requests per provisioning; 40 × 8 requests at the
	// default 20 requests/s is 16 s of queueing, well inside a 2-minute timeout.
	maxConcurrentAcronis = 40
	// Autotask: past its burst the hourly budget serves 2.5 requests/s, and
	// Autotask allows 3 concurrent requests per endpoint; 20 activities of 1–3
	// requests each wait at most about 25 s.
	maxConcurrentAutotask = 20
)

// Registrations is what a worker registers; the fx graph fills it from the
// activities the process builds.
type Registrations struct {
	fx.In
	Activities []any `group:"activities"`
	Workflows  []any `group:"workflows"`
}

// NewWorker registers everything and ties Start/Stop to the fx lifecycle (not
// worker.Run, which would compete with fx for the interrupt signal). The
// returned worker polls the workflow queue; two more poll the vendor queues
// (workflows.PoolAcronis, PoolAutotask). Every pool registers
// every activity, so an activity scheduled on any queue, by any version of
// the workflows, finds a worker.
func NewWorker(lc fx.Lifecycle, c client.Client, cfg config.Config, reg Registrations, log *slog.Logger) worker.Worker {
	// The SDK's cache is per process and caches 10,000 workflows by default:
	// with one workflow per customer that alone outgrows a small worker.
	if cfg.WorkflowCacheSize > 0 {
		worker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	}
	pools := Pools(c, cfg.TaskQueue, reg.Workflows, reg.Activities)
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
				// Temporal Cloud and locked-down clusters refuse this; operators register them instead.
				log.Warn("could not register search attributes; register them with `temporal operator search-attribute create`", "error", err.Error())
			}
			for i, w := range pools {
				if err := w.Start(); err != nil {
					for _, started := range pools[:i] {
						started.Stop()
					}
					return fmt.Errorf("start worker pool %d: %w", i, err)
				}
			}
			return nil
		},
		OnStop: func(context.Context) error {
			for _, w := range pools {
				w.Stop()
			}
			return nil
		},
	})
	return pools[0]
}

// Pools builds the worker of the workflow queue (first) and one worker per
// vendor queue; each registers every activity.
func Pools(c client.Client, queue string, wfs, acts []any) []worker.Worker {
	main := worker.New(c, queue, worker.Options{
		// A non-determinism bug fails the run visibly instead of retrying forever.
		WorkflowPanicPolicy:                worker.FailWorkflow,
		Interceptors:                       []interceptor.WorkerInterceptor{&heartbeats{}},
		MaxConcurrentActivityExecutionSize: maxConcurrentActivities,
	})
	for _, wf := range wfs {
		main.RegisterWorkflow(wf)
	}
	pools := []worker.Worker{main}
	for _, p := range []struct {
		pool workflows.Pool
		size int
	}{{workflows.PoolAcronis, maxConcurrentAcronis}, {workflows.PoolAutotask, maxConcurrentAutotask}} {
		pools = append(pools, worker.New(c, p.pool.TaskQueue(queue), worker.Options{
			DisableWorkflowWorker:              true,
			Interceptors:                       []interceptor.WorkerInterceptor{&heartbeats{}},
			MaxConcurrentActivityExecutionSize: p.size,
		}))
	}
	for _, w := range pools {
		for _, a := range acts {
			w.RegisterActivity(a)
		}
	}
	return pools
}

// EnsureSearchAttributes registers the project's search attributes in the
// namespace when missing: upserting an unknown one would wedge every workflow.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, k := range workflows.SearchAttributes() {
		if _, ok := have.GetCustomAttributes()[k.GetName()]; !ok {
			missing[k.GetName()] = enumspb.IndexedValueType(k.GetValueType())
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attributes to %s: %w", namespace, err)
	}
	return nil
}

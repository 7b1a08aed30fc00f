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
func NewClient(lc fx.Lifecycle, cfg config.Config, log *slog.Logger) (client.Client, error) {
	dc := codec.DataConverter(cfg.Keyring)
	c, err := client.NewLazyClient(client.Options{
		HostPort:         cfg.TemporalAddress,
		Namespace:        cfg.TemporalNamespace,
		Logger:           tlog.NewStructuredLogger(log.With("component", "temporal")),
		DataConverter:    dc,
		FailureConverter: codec.FailureConverter(dc),
	})
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", cfg.TemporalAddress, err)
	}
	lc.Append(fx.StopHook(c.Close))
	return c, nil
}

// maxConcurrentActivities bounds the activities one worker runs at once: about
// what the Acronis client's 20 requests/s serve well within a 2-minute timeout.
const maxConcurrentActivities = 50

// Registrations is what a worker registers; the fx graph fills it from the
// activities the process builds.
type Registrations struct {
	fx.In
	Activities []any `group:"activities"`
	Workflows  []any `group:"workflows"`
}

// NewWorker registers everything and ties Start/Stop to the fx lifecycle (not
// worker.Run, which would compete with fx for the interrupt signal).
func NewWorker(lc fx.Lifecycle, c client.Client, cfg config.Config, reg Registrations, log *slog.Logger) worker.Worker {
	w := worker.New(c, cfg.TaskQueue, worker.Options{
		// A non-determinism bug fails the run visibly instead of retrying forever.
		WorkflowPanicPolicy: worker.FailWorkflow,
		Interceptors:        []interceptor.WorkerInterceptor{&heartbeats{}},
		// Activities wait in the task queue, where no timeout runs, rather than
		// in the vendors' rate limiters inside their StartToClose (BENCHMARKS.md, finding 1).
		MaxConcurrentActivityExecutionSize: maxConcurrentActivities,
	})
	for _, wf := range reg.Workflows {
		w.RegisterWorkflow(wf)
	}
	for _, a := range reg.Activities {
		w.RegisterActivity(a)
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
				// Temporal Cloud and locked-down clusters refuse this; operators register them instead.
				log.Warn("could not register search attributes; register them with `temporal operator search-attribute create`", "error", err.Error())
			}
			return w.Start()
		},
		OnStop: func(context.Context) error { w.Stop(); return nil },
	})
	return w
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

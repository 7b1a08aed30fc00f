package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Pool is the worker pool an activity runs on. Activities run in one pool
// per vendor API, each on its own task queue (the workflow's queue plus a
// suffix), so a backlog on one API, e.g. Autotask's hourly budget during an
// alert storm, never holds the slots the other API's work needs
// (BENCHMARKS.md, finding 6). Every place that schedules an activity names
// its pool, so the queue an activity waits in is read where it is scheduled,
// next to what the activity does.
type Pool string

const (
	// PoolLocal is the workflow's own task queue: the store, and the syncs
	// that page through both APIs under their own budgets.
	PoolLocal Pool = ""
	// PoolAcronis runs activities that call only the Acronis API.
	PoolAcronis Pool = "-acronis"
	// PoolAutotask runs activities that call only the Autotask API.
	PoolAutotask Pool = "-autotask"
)

// TaskQueue is the pool's task queue next to the workflow queue base.
func (p Pool) TaskQueue(base string) string { return base + string(p) }

// activityOptions says how one activity is scheduled: its pool, its time
// budget and retries, and the summary the Temporal UI shows for it.
type activityOptions struct {
	Pool         Pool
	Summary      string
	StartToClose time.Duration
	// Heartbeat is short because the worker heartbeats every running
	// activity: a dead worker's step is retried within seconds, not after
	// its whole StartToClose.
	Heartbeat time.Duration
	Retry     *temporal.RetryPolicy
}

// on returns the options with the pool and summary of one call.
func (o activityOptions) on(pool Pool, summary string) activityOptions {
	o.Pool, o.Summary = pool, summary
	return o
}

// withActivityOptions is the one place activity options are built. Task
// queues and summaries are not part of replay matching, so a running
// workflow picks up a change of either without a version marker.
func withActivityOptions(ctx workflow.Context, o activityOptions) workflow.Context {
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: o.StartToClose,
		HeartbeatTimeout:    o.Heartbeat,
		RetryPolicy:         o.Retry,
		Summary:             o.Summary,
	}
	if o.Pool != PoolLocal {
		opts.TaskQueue = o.Pool.TaskQueue(workflow.GetInfo(ctx).TaskQueueName)
	}
	return workflow.WithActivityOptions(ctx, opts)
}

// executeActivity schedules one activity with o.
func executeActivity(ctx workflow.Context, o activityOptions, activity any, args ...any) workflow.Future {
	return workflow.ExecuteActivity(withActivityOptions(ctx, o), activity, args...)
}

// stepBackoff is how long an entity workflow (customer, alert) waits before
// it retries a step that failed failures times in a row, past the activity's
// own retries: 2, 4, 8 … minutes, at most about an hour.
func stepBackoff(failures int) time.Duration {
	return time.Duration(1<<min(failures, 6)) * time.Minute
}

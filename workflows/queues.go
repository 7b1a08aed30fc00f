package workflows

import (
	"reflect"
	"runtime"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// Activities run in one worker pool per vendor API, each on its own task
// queue (the workflow's queue plus a suffix), so a backlog on one API, e.g.
// Autotask's hourly budget during an alert storm, never holds the slots the
// other API's work needs (BENCHMARKS.md, finding 6). Everything else runs on
// the workflow's own queue.
const (
	AcronisQueueSuffix  = "-acronis"
	AutotaskQueueSuffix = "-autotask"
)

// Alert activities are one type with methods for both vendors and the store.
var alertActivityQueues = map[string]string{
	"AlertCreateTicket": AutotaskQueueSuffix,
	"AlertAddNote":      AutotaskQueueSuffix,
	"AlertCloseTicket":  AutotaskQueueSuffix,
	"AlertReopenTicket": AutotaskQueueSuffix,
	"AlertDismiss":      AcronisQueueSuffix,
}

// queueSuffix is the suffix of the task queue an activity method runs on,
// decided by its receiver type: (*Acronis) and (*Autotask) call one API each.
func queueSuffix(activity any) string {
	fn := runtime.FuncForPC(reflect.ValueOf(activity).Pointer())
	if fn == nil {
		return ""
	}
	name := strings.TrimSuffix(fn.Name(), "-fm")
	method := name[strings.LastIndex(name, ".")+1:]
	switch {
	case strings.Contains(name, ".(*Acronis)."):
		return AcronisQueueSuffix
	case strings.Contains(name, ".(*Autotask)."):
		return AutotaskQueueSuffix
	case strings.Contains(name, ".(*Alerts)."):
		return alertActivityQueues[method]
	}
	return ""
}

// routed sets the task queue of the activity options in ctx to the pool of the
// API the activity calls. Task queues are not part of replay matching, so
// running workflows pick this up without a version marker.
func routed(ctx workflow.Context, activity any) workflow.Context {
	suffix := queueSuffix(activity)
	if suffix == "" {
		return ctx
	}
	opts := workflow.GetActivityOptions(ctx)
	opts.TaskQueue = workflow.GetInfo(ctx).TaskQueueName + suffix
	return workflow.WithActivityOptions(ctx, opts)
}

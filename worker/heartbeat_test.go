package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// slowActivity never heartbeats itself and outlives its heartbeat timeout.
func slowActivity(ctx context.Context) (string, error) {
	select {
	case <-time.After(3 * heartbeatEvery):
		return "done", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func slowWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    2 * heartbeatEvery,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var out string
	err := workflow.ExecuteActivity(ctx, slowActivity).Get(ctx, &out)
	return out, err
}

func runSlow(t *testing.T, interceptors []interceptor.WorkerInterceptor) (string, error) {
	return runWorkflow(t, "heartbeat-test", interceptors, slowWorkflow, slowActivity)
}

// runWorkflow runs wf to its end on a fresh dev server with a worker of act.
func runWorkflow(t *testing.T, queue string, interceptors []interceptor.WorkerInterceptor, wf, act any) (string, error) {
	t.Helper()
	srv := testenv.StartTemporal(t, client.Options{}, workflows.SearchAttributes())
	c := srv.Client()
	w := worker.New(c, queue, worker.Options{Interceptors: interceptors})
	w.RegisterWorkflow(wf)
	w.RegisterActivity(act)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: queue}, wf)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	err = run.Get(context.Background(), &out)
	return out, err
}

func TestHeartbeats_KeepALongActivityAliveWithoutItsOwnHeartbeats(t *testing.T) {
	if out, err := runSlow(t, []interceptor.WorkerInterceptor{&heartbeats{}}); err != nil || out != "done" {
		t.Fatalf("with the interceptor: %q, %v; want done", out, err)
	}
	// Without it the same activity times out: the test would catch a no-op interceptor.
	if _, err := runSlow(t, nil); err == nil {
		t.Fatal("without the interceptor the activity survived its heartbeat timeout")
	}
}

// resumingActivity heartbeats where it got to, outlives a few periodic
// heartbeats, and fails its first attempt; the retry reports what it resumed from.
func resumingActivity(ctx context.Context) (string, error) {
	if activity.HasHeartbeatDetails(ctx) {
		var step string
		if err := activity.GetHeartbeatDetails(ctx, &step); err != nil {
			return "", err
		}
		return "resumed from " + step, nil
	}
	activity.RecordHeartbeat(ctx, "tenant 42")
	time.Sleep(2*heartbeatEvery + time.Second)
	return "", errors.New("first attempt fails after the periodic heartbeats")
}

func resumingWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    4 * heartbeatEvery,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2, InitialInterval: time.Second},
	})
	var out string
	err := workflow.ExecuteActivity(ctx, resumingActivity).Get(ctx, &out)
	return out, err
}

func TestHeartbeats_KeepTheActivitysOwnDetailsForItsRetry(t *testing.T) {
	out, err := runWorkflow(t, "heartbeat-details", []interceptor.WorkerInterceptor{&heartbeats{}}, resumingWorkflow, resumingActivity)
	if err != nil {
		t.Fatal(err)
	}
	if out != "resumed from tenant 42" {
		t.Fatalf("retry = %q; want it to resume from the first attempt's own heartbeat", out)
	}
}

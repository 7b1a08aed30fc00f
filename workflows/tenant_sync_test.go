package workflows

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/acronis-autotask/acronis-autotask/activities"
)

func TestTenantSync_NumbersCompleteListingsAndHurriesWhileSuggestionsArePending(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	checkPools(t, env)
	start := time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	var runs []int64
	var at []time.Duration
	env.OnActivity(activities.TenantSyncActs.SyncTenants, mock.Anything, mock.Anything).Return(
		func(_ context.Context, run int64) (activities.TenantSyncResult, error) {
			runs = append(runs, run)
			at = append(at, env.Now().Sub(start))
			switch len(runs) {
			case 1:
				return activities.TenantSyncResult{Run: run, SuggestPending: 500}, nil
			case 2:
				return activities.TenantSyncResult{}, errors.New("Acronis is down")
			}
			return activities.TenantSyncResult{Run: run}, nil
		})
	env.RegisterDelayedCallback(env.CancelWorkflow, 12*time.Minute)
	env.ExecuteWorkflow(TenantSyncWorkflow, TenantSyncState{})
	// A failed listing is not complete: its number is used again.
	if len(runs) < 4 || !slices.Equal(runs[:4], []int64{1, 2, 2, 3}) {
		t.Fatalf("runs = %v, want 1, 2, 2 (retry after a failure), 3", runs)
	}
	if d := at[1] - at[0]; d != suggestPendingWait {
		t.Errorf("second run %s after the first, want %s while suggestions are pending", d, suggestPendingWait)
	}
	if d := at[3] - at[2]; d != tenantSyncEvery {
		t.Errorf("fourth run %s after the third, want the interval %s", d, tenantSyncEvery)
	}
}

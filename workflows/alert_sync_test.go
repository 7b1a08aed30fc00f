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

func TestAlertSync_CarriesTheCursorRunsOnIntervalAndOnSyncNow(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	checkPools(t, env)
	env.SetStartTime(alertBase)
	var got []activities.AlertCursor
	var calls []time.Time
	env.OnActivity(activities.AlertActs.SyncAlerts, mock.Anything, mock.Anything).Return(
		func(_ context.Context, cur activities.AlertCursor) (activities.AlertSyncResult, error) {
			got = append(got, cur)
			calls = append(calls, env.Now())
			if len(got) == 2 {
				return activities.AlertSyncResult{}, errors.New("Acronis is down")
			}
			next := activities.AlertCursor{Loaded: true, UpdatedAfter: alertBase.Add(time.Duration(len(got)) * time.Hour)}
			return activities.AlertSyncResult{Cursor: next, NextRunIn: time.Minute}, nil
		})
	// "Sync now" long before the next interval.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalSyncNow, nil) }, 10*time.Second)
	env.RegisterDelayedCallback(env.CancelWorkflow, 3*time.Minute)
	env.ExecuteWorkflow(AlertSyncWorkflow, AlertSyncState{})

	if len(got) < 3 {
		t.Fatalf("runs = %d, want at least 3", len(got))
	}
	if d := calls[1].Sub(calls[0]); d > 15*time.Second {
		t.Errorf("second run %s after the first, want at once on sync-now", d)
	}
	// The failed run (2nd) does not move the cursor: the 3rd starts where the 1st ended.
	if !got[1].UpdatedAfter.Equal(alertBase.Add(time.Hour)) || !got[2].UpdatedAfter.Equal(got[1].UpdatedAfter) {
		t.Errorf("cursors = %v, want the first run's cursor passed to the next two", got)
	}
	// "Sync now" includes the completed-ticket check, until a run succeeds with it.
	if checks := []bool{got[0].CheckTickets, got[1].CheckTickets, got[2].CheckTickets}; !slices.Equal(checks, []bool{false, true, true}) {
		t.Errorf("ticket checks asked = %v, want [false true true]: only the sync-now run and its retry", checks)
	}
	if len(got) > 3 && got[3].CheckTickets {
		t.Error("the run after a successful sync-now run asked for a ticket check again")
	}
}

package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func TestPlanSets_AppliedOnceWhileFreshAndAllOrNothing(t *testing.T) {
	ctx := context.Background()
	st := testenv.MustOpenDB(t)
	now := time.Now().UTC()
	_, err := st.SaveSettings(ctx, json.RawMessage(`{"billingEnabled":true}`), 0, admin)
	require.NoError(t, err)
	_, err = st.ReplaceServiceMappings(ctx, []store.ServiceMapping{storageMapping()}, admin)
	require.NoError(t, err)

	p := plan.Set{ID: "plan-a", Scope: plan.Scope{All: true}, SettingsVersion: 1, CreatedAt: now, CreatedBy: admin.Name, ExpiresAt: now.Add(plan.SetTTL)}
	require.NoError(t, st.SavePlanSet(ctx, p, admin))
	got, err := st.PlanSet(ctx, "plan-a")
	require.NoError(t, err)
	require.Equal(t, plan.StatusPreview, got.Status)
	_, err = st.PlanSet(ctx, "plan-none")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Claimed once: a second claim (another admin, another server) is a conflict.
	require.NoError(t, st.ClaimPlanSet(ctx, "plan-a", now))
	require.ErrorIs(t, st.ClaimPlanSet(ctx, "plan-a", now), store.ErrConflict)
	require.ErrorIs(t, st.ClaimPlanSet(ctx, "plan-none", now), store.ErrNotFound)

	// Settings saved since the plan was made: nothing of it is saved, the mappings included.
	_, err = st.SaveSettings(ctx, json.RawMessage(`{"billingEnabled":false}`), 1, admin)
	require.NoError(t, err)
	err = st.ApplyPlanSet(ctx, p, json.RawMessage(`{"billingEnabled":true,"twoWaySync":true}`), []store.ServiceMapping{}, true, admin, now)
	require.ErrorIs(t, err, store.ErrConflict)
	mappings, err := st.ListServiceMappings(ctx)
	require.NoError(t, err)
	require.Len(t, mappings, 1, "a refused plan removed the mappings")
	cur, err := st.CurrentSettings(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), cur.Version)

	// Released, re-made over version 2 and applied: settings and mappings together, once.
	require.NoError(t, st.ReleasePlanSet(ctx, "plan-a"))
	p.SettingsVersion = 2
	require.NoError(t, st.ClaimPlanSet(ctx, "plan-a", now))
	require.NoError(t, st.ApplyPlanSet(ctx, p, json.RawMessage(`{"billingEnabled":true}`), []store.ServiceMapping{}, true, admin, now))
	mappings, err = st.ListServiceMappings(ctx)
	require.NoError(t, err)
	require.Empty(t, mappings)
	got, err = st.PlanSet(ctx, "plan-a")
	require.NoError(t, err)
	require.Equal(t, plan.StatusApplied, got.Status)
	require.Equal(t, admin.Name, got.AppliedBy)
	require.ErrorIs(t, st.ClaimPlanSet(ctx, "plan-a", now), store.ErrConflict)

	// An expired preview cannot be claimed.
	old := plan.Set{ID: "plan-b", CreatedAt: now.Add(-2 * plan.SetTTL), CreatedBy: admin.Name, ExpiresAt: now.Add(-plan.SetTTL)}
	require.NoError(t, st.SavePlanSet(ctx, old, admin))
	err = st.ClaimPlanSet(ctx, "plan-b", now)
	require.True(t, errors.Is(err, store.ErrConflict) && strings.Contains(err.Error(), "expired"), "claim of an expired plan: %v", err)
}

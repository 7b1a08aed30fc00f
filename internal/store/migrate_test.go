package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/testenv"
)

func schemaVersion(t *testing.T, databaseURL string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), databaseURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var v int64
	require.NoError(t, conn.QueryRow(context.Background(),
		"SELECT max(version_id) FROM goose_db_version WHERE is_applied").Scan(&v))
	return v
}

func TestMigrate_RerunIsNoOp(t *testing.T) {
	ctx := testContext(t)
	u := testenv.DatabaseURL(t)
	before := schemaVersion(t, u)
	require.NoError(t, store.Migrate(ctx, u), "second run")
	require.NoError(t, store.Migrate(ctx, u), "third run")
	assert.Equal(t, before, schemaVersion(t, u), "schema version after re-runs")
	assert.GreaterOrEqual(t, before, int64(7), "schema version")
}

func TestMigrate_ConcurrentProcessesMigrateOnce(t *testing.T) {
	ctx := testContext(t)
	u := testenv.NewEmptyDatabase(t)
	const runners = 4
	errs := make([]error, runners)
	var wg sync.WaitGroup
	for i := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = store.Migrate(ctx, u)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "runner %d", i)
	}
	conn, err := pgx.Connect(ctx, u)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var applied, distinct int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id)
		FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct))
	assert.Equal(t, distinct, applied, "each migration recorded once")
	assert.GreaterOrEqual(t, applied, 7, "migrations applied")
}

func TestEnsureDatabase_CreatesOnceThenNoOp(t *testing.T) {
	ctx := testContext(t)
	u := testenv.NewEmptyDatabase(t) // exists already: must be a no-op
	require.NoError(t, store.EnsureDatabase(ctx, u))

	// Drop it, then EnsureDatabase must create it again (the cleanup drops it).
	cfg, err := pgx.ParseConfig(u)
	require.NoError(t, err)
	name := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = store.EnsureDatabase(ctx, u) }()
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "concurrent EnsureDatabase %d", i)
	}
	var exists bool
	require.NoError(t, admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	assert.True(t, exists, "database %s exists", name)
}

func TestOpen_ReportsUnreachableDatabase(t *testing.T) {
	ctx := testContext(t)
	_, err := store.Open(ctx, "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "store: connect")
}

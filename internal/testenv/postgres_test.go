package testenv

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

func TestMain(m *testing.M) { os.Exit(RunWithDB(m)) }

func TestDatabaseName_FitsPostgresAndTheSweepPattern(t *testing.T) {
	now := time.Date(2026, 11, 24, 18, 30, 0, 0, time.UTC)
	for _, pkg := range []string{"store", "github.com/x/Very-Long.Package-Name_with_many_parts_v2", "", "__"} {
		name := databaseName(pkg, now)
		assert.LessOrEqual(t, len(name), 63, "length of %q", name)
		assert.Regexp(t, staleName, name, "package %q", pkg)
		assert.True(t, strings.HasPrefix(name, namePrefix), "prefix of %q", name)
	}
	assert.NotEqual(t, databaseName("store", now), databaseName("store", now), "random suffix")
	assert.Contains(t, databaseName("store", now), "_20261124183000_")
}

func TestWithDatabase_ReplacesOnlyTheDatabase(t *testing.T) {
	got, err := withDatabase("postgres://u:p@db.example:6543/postgres?sslmode=disable", "testenv_x")
	require.NoError(t, err)
	assert.Equal(t, "postgres://u:p@db.example:6543/testenv_x?sslmode=disable", got)
	_, err = withDatabase("host=localhost dbname=postgres", "x")
	assert.Error(t, err, "a keyword/value DSN")
}

func TestMustOpenDB_EveryTestStartsEmpty(t *testing.T) {
	ctx := context.Background()
	st := MustOpenDB(t)
	require.NoError(t, st.SetCursor(ctx, "c", json.RawMessage(`1`)))
	_, err := st.SaveSettings(ctx, json.RawMessage(`{}`), 0, storeActor)
	require.NoError(t, err)

	st2 := MustOpenDB(t)
	_, err = st2.Cursor(ctx, "c")
	assert.Error(t, err, "cursor after reset")
	_, err = st2.CurrentSettings(ctx)
	assert.Error(t, err, "settings after reset")
	var audits int
	require.NoError(t, st2.Pool().QueryRow(ctx, "SELECT count(*) FROM audit_log").Scan(&audits))
	assert.Equal(t, 0, audits, "audit rows after reset")
	// Identities restart, so ids are predictable within a test.
	_, err = st2.SaveSettings(ctx, json.RawMessage(`{}`), 0, storeActor)
	require.NoError(t, err)
	var id int64
	require.NoError(t, st2.Pool().QueryRow(ctx, "SELECT id FROM audit_log").Scan(&id))
	assert.Equal(t, int64(1), id, "first audit id after reset")
}

func TestNewTestDatabase_MigratedAndDroppedAtCleanup(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		u := NewTestDatabase(t)
		cfg, err := pgx.ParseConfig(u)
		require.NoError(t, err)
		name = cfg.Database
		assert.NotEqual(t, DatabaseURL(t), u, "a database of its own")
		conn, err := pgx.Connect(context.Background(), u)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		var tables int
		require.NoError(t, conn.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables))
		assert.GreaterOrEqual(t, tables, 9, "tables after migration")
	})
	assert.False(t, databaseExists(t, name), "database %s after the test", name)
}

func TestSweepStale_DropsOnlyOldTestDatabases(t *testing.T) {
	ctx := context.Background()
	old := namePrefix + "sweeptest_20000101000000_abcdef"
	fresh := databaseName("sweeptest", time.Now())
	other := "sweeptest_not_ours_20000101000000_abcdef"
	conn := adminConn(t)
	for _, n := range []string{old, fresh, other} {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{n}.Sanitize())
		require.NoError(t, err, n)
		t.Cleanup(func() {
			_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
		})
	}
	sweepStale(ctx)
	assert.False(t, databaseExists(t, old), "old test database %s", old)
	assert.True(t, databaseExists(t, fresh), "fresh test database %s", fresh)
	assert.True(t, databaseExists(t, other), "a database testenv did not name %s", other)
}

func TestSecretsKey_MatchesKeyring(t *testing.T) {
	k, err := secrets.ParseKeyring(SecretsKey(t))
	require.NoError(t, err)
	assert.Equal(t, Keyring(t).PrimaryKeyID(), k.PrimaryKeyID())
	sealed, err := Keyring(t).Encrypt([]byte("x"), nil)
	require.NoError(t, err)
	plain, err := k.Decrypt(sealed, nil)
	require.NoError(t, err)
	assert.Equal(t, "x", string(plain))
}

func adminConn(t *testing.T) *pgx.Conn {
	t.Helper()
	packageURL(t) // skips when PostgreSQL is unavailable
	cfg, err := pgx.ParseConfig(BaseURL())
	require.NoError(t, err)
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	var exists bool
	require.NoError(t, adminConn(t).QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	return exists
}

var storeActor = store.Actor{Name: "testenv"}

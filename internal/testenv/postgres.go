// Package testenv gives tests of any package a real, migrated PostgreSQL
// database: one throwaway database per test package, reset between tests and
// dropped at the end, in the style of golang/pkgsite's test helpers.
//
// Use it from TestMain so the database is dropped when the package's tests end:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.RunWithDB(m)) }
//
//	func TestSomething(t *testing.T) {
//		st := testenv.MustOpenDB(t) // empty tables, closed at the end of the test
//		...
//	}
//
// Tests that share the package database must not call t.Parallel; a test that
// needs isolation calls NewTestDatabase for a database of its own.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// DefaultBaseURL is the server tests use when TEST_DATABASE_URL is unset: the
// local development PostgreSQL with trust authentication.
const DefaultBaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// namePrefix marks databases this package creates, so leftovers can be found
// and removed safely.
const namePrefix = "testenv_"

// staleAfter is how old a leftover test database must be before it is swept.
const staleAfter = 24 * time.Hour

// opTimeout bounds every administrative step so a stuck server fails tests
// instead of hanging them.
const opTimeout = 60 * time.Second

// pkgDB is the test binary's shared database. A test binary is one package, so
// process-wide state is exactly "per package"; it is set once and then only read.
var pkgDB struct {
	once    sync.Once
	url     string
	key     string
	keyring *secrets.Keyring
	err     error
}

// BaseURL returns TEST_DATABASE_URL or DefaultBaseURL: the server on which
// test databases are created (its own database is only used to create them).
func BaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultBaseURL
}

// RunWithDB creates and migrates the package database, runs the tests and
// drops the database; call it from TestMain and pass its result to os.Exit.
// When PostgreSQL is unreachable the tests still run and the ones needing the
// database skip (or fail when TEST_DATABASE_REQUIRED or CI is set).
func RunWithDB(m *testing.M) int {
	// testing.Short needs the flags parsed; m.Run would parse them later.
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		// `go test -short` promises no PostgreSQL: tests needing it skip.
		return m.Run()
	}
	setup()
	if pkgDB.err != nil {
		fmt.Fprintf(os.Stderr, "testenv: no test database: %v\n", pkgDB.err)
	}
	code := m.Run()
	if pkgDB.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := dropDatabase(ctx, pkgDB.url); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		}
	}
	return code
}

// setup creates the package database once. Without RunWithDB it runs on first
// use and the database outlives the test binary until a later run sweeps it.
func setup() {
	pkgDB.once.Do(func() {
		pkgDB.key = secrets.GenerateKey()
		pkgDB.keyring, pkgDB.err = secrets.ParseKeyring(pkgDB.key)
		if pkgDB.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		sweepStale(ctx)
		pkgDB.url, pkgDB.err = createDatabase(ctx, true)
	})
}

// packageURL returns the shared database's URL or ends the test when there is none.
func packageURL(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		unavailable(tb, nil)
	}
	setup()
	if pkgDB.err != nil {
		unavailable(tb, pkgDB.err)
	}
	return pkgDB.url
}

// unavailable skips or fails a test that needs PostgreSQL and cannot have it.
// In -short mode it always skips, even in CI.
func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("testenv: skipping, needs PostgreSQL (not in -short mode)")
	}
	if os.Getenv("TEST_DATABASE_REQUIRED") != "" || os.Getenv("CI") != "" {
		tb.Fatalf("testenv: PostgreSQL is required: %v", err)
	}
	tb.Skipf("testenv: skipping, PostgreSQL unavailable (set TEST_DATABASE_URL, or start it: "+
		"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): %v", err)
}

// MustOpenDB returns a Store on the package database with every table emptied,
// closed when the test ends. Its keyring is Keyring(tb).
func MustOpenDB(tb testing.TB) *store.Store {
	tb.Helper()
	u := DatabaseURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	st, err := store.Open(ctx, u, pkgDB.keyring)
	if err != nil {
		tb.Fatalf("testenv: open store: %v", err)
	}
	tb.Cleanup(st.Close)
	return st
}

// DatabaseURL returns the URL of the package database with every table
// emptied, for tests that start a server or worker of their own on it.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	u := packageURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := Reset(ctx, u); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return u
}

// NewTestDatabase creates a migrated database for this test alone and drops it
// when the test ends; for tests that run in parallel or change the schema.
func NewTestDatabase(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, true)
}

// NewEmptyDatabase creates an unmigrated database for this test alone and drops
// it when the test ends; for testing migrations themselves.
func NewEmptyDatabase(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, false)
}

func newDatabase(tb testing.TB, migrate bool) string {
	tb.Helper()
	if testing.Short() {
		unavailable(tb, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	u, err := createDatabase(ctx, migrate)
	if err != nil {
		unavailable(tb, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := dropDatabase(ctx, u); err != nil {
			tb.Errorf("testenv: %v", err)
		}
	})
	return u
}

// Keyring returns the keyring the package's stores use: a random key made
// once per test binary, so nothing depends on a real SECRETS_KEY.
func Keyring(tb testing.TB) *secrets.Keyring {
	tb.Helper()
	setup()
	if pkgDB.keyring == nil {
		tb.Fatalf("testenv: no keyring: %v", pkgDB.err)
	}
	return pkgDB.keyring
}

// SecretsKey returns Keyring's key in SECRETS_KEY form, for tests that start
// a process of their own on the package database.
func SecretsKey(tb testing.TB) string {
	tb.Helper()
	Keyring(tb)
	return pkgDB.key
}

// Reset empties every table of the database at databaseURL except goose's
// version table, and restarts identities, so each test starts from nothing.
func Reset(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("reset: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var tables []string
	rows, err := conn.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables
		WHERE schemaname = 'public' AND tablename <> 'goose_db_version' ORDER BY tablename`)
	if err != nil {
		return fmt.Errorf("reset: list tables: %w", err)
	}
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("reset: list tables: %w", err)
	}
	if len(tables) == 0 {
		return nil
	}
	if _, err := conn.Exec(ctx, "TRUNCATE TABLE "+strings.Join(tables, ", ")+" RESTART IDENTITY CASCADE"); err != nil {
		return fmt.Errorf("reset: truncate: %w", err)
	}
	return nil
}

// createDatabase makes a database named after the test package with a
// timestamp and random suffix on the base server, migrated when asked.
func createDatabase(ctx context.Context, migrate bool) (string, error) {
	name := databaseName(packageName(), time.Now())
	u, err := withDatabase(BaseURL(), name)
	if err != nil {
		return "", err
	}
	if err := store.EnsureDatabase(ctx, u); err != nil {
		return "", err
	}
	if migrate {
		if err := store.Migrate(ctx, u); err != nil {
			_ = dropDatabase(ctx, u)
			return "", err
		}
	}
	return u, nil
}

// dropDatabase removes the database at u, disconnecting anything still on it.
func dropDatabase(ctx context.Context, u string) error {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return fmt.Errorf("drop test database: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("drop test database %s: connect: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop test database %s: %w", name, err)
	}
	return nil
}

var staleName = regexp.MustCompile(`^` + namePrefix + `[a-z0-9_]*_(\d{14})_[0-9a-f]{6}$`)

// sweepStale drops test databases left behind by crashed or TestMain-less runs
// more than staleAfter ago; failures are ignored, as the sweep is best effort.
func sweepStale(ctx context.Context) {
	cfg, err := pgx.ParseConfig(BaseURL())
	if err != nil {
		return
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, namePrefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		m := staleName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		created, err := time.Parse("20060102150405", m[1])
		if err != nil || time.Since(created) < staleAfter {
			continue
		}
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
	}
}

// packageName guesses the test package from the test binary's name
// ("store.test" → "store").
func packageName() string {
	base := filepath.Base(os.Args[0])
	base = strings.TrimSuffix(base, ".exe")
	return strings.TrimSuffix(base, ".test")
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName builds "testenv_<package>_<UTC timestamp>_<random>", at most 63
// bytes (PostgreSQL's identifier limit).
func databaseName(pkg string, now time.Time) string {
	p := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(pkg), "_"), "_")
	if len(p) > 24 {
		p = p[:24]
	}
	if p == "" {
		p = "pkg"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return namePrefix + p + "_" + now.UTC().Format("20060102150405") + "_" + hex.EncodeToString(b)
}

// withDatabase returns base with its database replaced by name.
func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("TEST_DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

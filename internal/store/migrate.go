package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver goose needs
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockID is the advisory lock key every migrating process takes, so
// two processes starting at once migrate one after the other. It spells
// "acatmigr" in ASCII; any constant would do as long as it never changes.
const migrationLockID int64 = 0x61636174_6d696772

// Migrate applies every pending migration to the database at databaseURL. It is
// idempotent and safe to run from several processes at once: each waits on a
// PostgreSQL advisory lock, and the later ones find nothing left to do.
func Migrate(ctx context.Context, databaseURL string) error {
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return fmt.Errorf("migrate: open database: %w", err)
	}
	defer db.Close()

	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: read embedded migrations: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithSessionLocker(advisoryLocker{id: migrationLockID}),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrate: prepare migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: apply migrations: %w", err)
	}
	return nil
}

// advisoryLocker is a goose session locker that blocks on pg_advisory_lock
// instead of polling, so a second process waits exactly as long as the first
// one migrates and still honours ctx cancellation.
type advisoryLocker struct{ id int64 }

// SessionLock waits for the migration lock on conn.
func (l advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.id); err != nil {
		return fmt.Errorf("take migration lock %d: %w", l.id, err)
	}
	return nil
}

// SessionUnlock releases the migration lock held by conn.
func (l advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", l.id).Scan(&released); err != nil {
		return fmt.Errorf("release migration lock %d: %w", l.id, err)
	}
	if !released {
		return fmt.Errorf("release migration lock %d: the session did not hold it", l.id)
	}
	return nil
}

// EnsureDatabase creates the database named in databaseURL when it does not
// exist, connecting to the "postgres" database of the same server; `make dev`
// calls it so a fresh PostgreSQL needs no manual setup.
func EnsureDatabase(ctx context.Context, databaseURL string) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("ensure database: parse URL: %w", err)
	}
	name := cfg.Database
	if name == "" {
		return errors.New("ensure database: the URL names no database")
	}
	admin := cfg.Copy()
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("ensure database %q: connect to the postgres database: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("ensure database %q: look it up: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == codeUniqueViolation) {
		return nil // another process created it between our check and our CREATE
	}
	if err != nil {
		return fmt.Errorf("ensure database %q: create: %w", name, err)
	}
	return nil
}

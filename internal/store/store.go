// Package store keeps the integration's durable state in PostgreSQL:
// settings, credentials, mappings, ledgers, cursors and the audit log. Natural
// keys and constraints live in the schema so duplicates are impossible even
// when workers retry or run concurrently.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acronis-autotask/acronis-autotask/internal/secrets"
)

// Store is the repository over one PostgreSQL database; it is safe for
// concurrent use and holds no state besides its pool and keyring.
type Store struct {
	pool    *pgxpool.Pool
	keyring *secrets.Keyring
}

// Querier is what both a pool and a transaction offer, so helpers such as
// AppendAuditTx can join a caller's transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Open connects to databaseURL and checks the connection. keyring encrypts and
// decrypts credentials; it may be nil for tools that never touch them.
// The schema must already be migrated (see Migrate).
func Open(ctx context.Context, databaseURL string, keyring *secrets.Keyring) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("store: parse database URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: create pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool, keyring: keyring}, nil
}

// Close releases every connection; the Store is unusable afterwards.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Pool exposes the connection pool for callers that need queries this package
// does not offer (tests, ad-hoc projections).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in one transaction, committing when fn returns nil and rolling
// back otherwise, so several writes (and their audit rows) land together.
func (s *Store) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// inTx is InTx with the error mapped to the package's sentinels and wrapped
// with what failed.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	if err := pgx.BeginFunc(ctx, s.pool, fn); err != nil {
		return wrap(what, err)
	}
	return nil
}

// noRows reports whether a single-row query found nothing.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

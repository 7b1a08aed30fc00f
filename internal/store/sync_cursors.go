package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// SyncCursor is the position of one incremental sync stream (for example
// "autotask.contracts": last modification time and highest id seen).
type SyncCursor struct {
	Name      string
	Value     json.RawMessage
	UpdatedAt time.Time
}

// Cursor returns the named cursor, or ErrNotFound before the first sync.
func (s *Store) Cursor(ctx context.Context, name string) (SyncCursor, error) {
	var c SyncCursor
	err := s.pool.QueryRow(ctx, `SELECT name, value, updated_at FROM sync_cursors WHERE name = $1`, name).
		Scan(&c.Name, &c.Value, &c.UpdatedAt)
	if err != nil {
		return SyncCursor{}, wrap(fmt.Sprintf("read cursor %s", name), err)
	}
	return c, nil
}

// SetCursor stores value as the named cursor unconditionally.
func (s *Store) SetCursor(ctx context.Context, name string, value json.RawMessage) error {
	if !json.Valid(value) {
		return fmt.Errorf("set cursor %s: %w", name, invalidf("value is not valid JSON"))
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO sync_cursors (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()`, name, string(value))
	if err != nil {
		return wrap(fmt.Sprintf("set cursor %s", name), err)
	}
	return nil
}

// SwapCursor stores value only if the cursor still holds expected (compared
// as JSON; nil expected means "not set yet"), so two pollers of the same
// stream cannot move it backwards. A mismatch is ErrConflict.
func (s *Store) SwapCursor(ctx context.Context, name string, expected, value json.RawMessage) error {
	what := fmt.Sprintf("swap cursor %s", name)
	if !json.Valid(value) {
		return fmt.Errorf("%s: %w", what, invalidf("value is not valid JSON"))
	}
	var sql string
	args := []any{name, string(value)}
	if expected == nil {
		sql = `INSERT INTO sync_cursors (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`
	} else {
		sql = `UPDATE sync_cursors SET value = $2, updated_at = now() WHERE name = $1 AND value = $3::jsonb`
		args = append(args, string(expected))
	}
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return wrap(what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w: it no longer holds the expected value", what, ErrConflict)
	}
	return nil
}

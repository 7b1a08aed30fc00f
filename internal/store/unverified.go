package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Scopes of unverified values.
const (
	ScopeSettings      = "settings"
	ScopeAlertMappings = "alert-mappings"
)

// States of an unverified value.
const (
	// StateUnverified: the vendor could not be reached to check the value.
	StateUnverified = "unverified"
	// StateInvalid: a later check found the vendor does not offer the value.
	StateInvalid = "invalid"
)

// UnverifiedValue is a saved id that the vendor's list did not confirm:
// Key is the alert type of an alert mapping ("" for settings), Field the
// value's JSON path, Message why it is not verified.
type UnverifiedValue struct {
	Scope     string
	Key       string
	Field     string
	Value     string
	State     string
	Message   string
	Since     time.Time
	CheckedAt time.Time
}

// maxUnverifiedMessage bounds a stored message (the column allows 4000 characters).
const maxUnverifiedMessage = 1000

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ListUnverified lists the unverified values of scope by key and field.
func (s *Store) ListUnverified(ctx context.Context, scope string) ([]UnverifiedValue, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT scope, key, field, value, state, message, since, checked_at
		FROM unverified_values WHERE scope = $1 ORDER BY key, field`, scope)
	if err != nil {
		return nil, wrap("list unverified values", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnverifiedValue, error) {
		var v UnverifiedValue
		err := r.Scan(&v.Scope, &v.Key, &v.Field, &v.Value, &v.State, &v.Message, &v.Since, &v.CheckedAt)
		return v, err
	})
	if err != nil {
		return nil, wrap("list unverified values", err)
	}
	return out, nil
}

// replaceUnverifiedTx makes vals the unverified values of scope (of the
// given keys only, when keys is not nil). A value still unverified keeps the
// time it first was.
func replaceUnverifiedTx(ctx context.Context, tx pgx.Tx, scope string, keys []string, vals []UnverifiedValue) error {
	var err error
	if keys == nil {
		_, err = tx.Exec(ctx, `DELETE FROM unverified_values WHERE scope = $1 AND NOT (key || '.' || field = ANY($2))`, scope, fieldKeys(vals))
	} else {
		_, err = tx.Exec(ctx, `DELETE FROM unverified_values WHERE scope = $1 AND key = ANY($2) AND NOT (key || '.' || field = ANY($3))`,
			scope, keys, fieldKeys(vals))
	}
	if err != nil {
		return fmt.Errorf("replace unverified values: %w", err)
	}
	for _, v := range vals {
		state := v.State
		if state == "" {
			state = StateUnverified
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO unverified_values (scope, key, field, value, state, message)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (scope, key, field) DO UPDATE SET
				since = CASE WHEN unverified_values.value = EXCLUDED.value THEN unverified_values.since ELSE now() END,
				value = EXCLUDED.value, state = EXCLUDED.state, message = EXCLUDED.message, checked_at = now()`,
			scope, v.Key, v.Field, v.Value, state, clip(v.Message, maxUnverifiedMessage))
		if err != nil {
			return fmt.Errorf("save unverified value %s %s: %w", v.Key, v.Field, err)
		}
	}
	return nil
}

func fieldKeys(vals []UnverifiedValue) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.Key + "." + v.Field
	}
	return out
}

// Rechecked records a later check of v: verified removes it, otherwise its
// state and message are updated. Either applies only while the saved value
// is still v.Value, so a check never overrides a newer save.
func (s *Store) Rechecked(ctx context.Context, v UnverifiedValue, verified bool) error {
	var err error
	if verified {
		_, err = s.pool.Exec(ctx, `DELETE FROM unverified_values WHERE scope = $1 AND key = $2 AND field = $3 AND value = $4`,
			v.Scope, v.Key, v.Field, v.Value)
	} else {
		_, err = s.pool.Exec(ctx, `
			UPDATE unverified_values SET state = $5, message = $6, checked_at = now()
			WHERE scope = $1 AND key = $2 AND field = $3 AND value = $4`,
			v.Scope, v.Key, v.Field, v.Value, v.State, clip(v.Message, maxUnverifiedMessage))
	}
	return wrap("record the check of an unverified value", err)
}

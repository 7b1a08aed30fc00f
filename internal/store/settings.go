package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SettingsVersion is one saved version of the integration settings document.
// Version is what a writer must send back to save over it.
type SettingsVersion struct {
	Version   int64
	Document  json.RawMessage
	UpdatedAt time.Time
	UpdatedBy string
}

// CurrentSettings returns the latest settings version, or ErrNotFound when
// settings were never saved (callers then use the defaults).
func (s *Store) CurrentSettings(ctx context.Context) (SettingsVersion, error) {
	v, err := currentSettings(ctx, s.pool)
	if err != nil {
		return SettingsVersion{}, wrap("current settings", err)
	}
	return v, nil
}

func currentSettings(ctx context.Context, q Querier) (SettingsVersion, error) {
	var v SettingsVersion
	err := q.QueryRow(ctx, `
		SELECT version, document, updated_at, updated_by
		FROM settings_versions ORDER BY version DESC LIMIT 1`,
	).Scan(&v.Version, &v.Document, &v.UpdatedAt, &v.UpdatedBy)
	return v, err
}

// SaveSettings appends doc as the version after expectedVersion (0 for the
// first save) and writes its audit row in the same transaction. When another
// save got there first it returns ErrConflict and writes nothing, so
// concurrent editors never silently overwrite each other.
func (s *Store) SaveSettings(ctx context.Context, doc json.RawMessage, expectedVersion int64, actor Actor) (SettingsVersion, error) {
	var saved SettingsVersion
	err := s.inTx(ctx, fmt.Sprintf("save settings over version %d", expectedVersion), func(tx pgx.Tx) error {
		var err error
		saved, err = saveSettingsTx(ctx, tx, doc, expectedVersion, actor)
		return err
	})
	if err != nil {
		return SettingsVersion{}, err
	}
	return saved, nil
}

// SaveCheckedSettings is SaveSettings for a document whose ids were checked
// against the vendors' lists: unverified are the ids that could not be
// checked, and they replace the settings' unverified values in the same
// transaction, so the two never disagree.
func (s *Store) SaveCheckedSettings(ctx context.Context, doc json.RawMessage, expectedVersion int64, actor Actor, unverified []UnverifiedValue) (SettingsVersion, error) {
	var saved SettingsVersion
	err := s.inTx(ctx, fmt.Sprintf("save settings over version %d", expectedVersion), func(tx pgx.Tx) error {
		var err error
		if saved, err = saveSettingsTx(ctx, tx, doc, expectedVersion, actor); err != nil {
			return err
		}
		return replaceUnverifiedTx(ctx, tx, ScopeSettings, nil, unverified)
	})
	if err != nil {
		return SettingsVersion{}, err
	}
	return saved, nil
}

func saveSettingsTx(ctx context.Context, tx pgx.Tx, doc json.RawMessage, expectedVersion int64, actor Actor) (SettingsVersion, error) {
	if expectedVersion < 0 {
		return SettingsVersion{}, invalidf("expected version must not be negative")
	}
	if !json.Valid(doc) {
		return SettingsVersion{}, invalidf("document is not valid JSON")
	}
	var before json.RawMessage
	cur, err := currentSettings(ctx, tx)
	switch {
	case noRows(err):
		cur.Version = 0
	case err != nil:
		return SettingsVersion{}, fmt.Errorf("read current version: %w", err)
	default:
		before = cur.Document
	}
	if cur.Version != expectedVersion {
		return SettingsVersion{}, fmt.Errorf("%w: current version is %d", ErrConflict, cur.Version)
	}
	// The primary key on version makes a concurrent save of the same
	// version fail here, after the read above saw the same current version.
	var saved SettingsVersion
	err = tx.QueryRow(ctx, `
		INSERT INTO settings_versions (version, document, updated_by)
		VALUES ($1, $2, $3)
		RETURNING version, document, updated_at, updated_by`,
		expectedVersion+1, string(doc), actor.Name,
	).Scan(&saved.Version, &saved.Document, &saved.UpdatedAt, &saved.UpdatedBy)
	if err != nil {
		return SettingsVersion{}, err
	}
	_, err = AppendAuditTx(ctx, tx, AuditEntry{
		Kind:   KindSettingsUpdate,
		System: SystemAdmin,
		Target: fmt.Sprintf("settings version %d", saved.Version),
		Before: before,
		After:  saved.Document,
	}.WithActor(actor))
	return saved, err
}

// SettingsHistory returns up to limit versions, newest first, so admins can
// see who changed what and when.
func (s *Store) SettingsHistory(ctx context.Context, limit int) ([]SettingsVersion, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.pool.Query(ctx, `
		SELECT version, document, updated_at, updated_by
		FROM settings_versions ORDER BY version DESC LIMIT $1`, limit)
	if err != nil {
		return nil, wrap("settings history", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SettingsVersion, error) {
		var v SettingsVersion
		err := r.Scan(&v.Version, &v.Document, &v.UpdatedAt, &v.UpdatedBy)
		return v, err
	})
	if err != nil {
		return nil, wrap("settings history", err)
	}
	return out, nil
}

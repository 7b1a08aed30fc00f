-- Integration settings are one JSON document; every save appends a version so
-- history is kept and concurrent editors cannot overwrite each other.

-- +goose Up
CREATE TABLE settings_versions (
    version    bigint      PRIMARY KEY CHECK (version >= 1),
    document   jsonb       NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text        NOT NULL CHECK (updated_by <> '')
);

CREATE TRIGGER settings_versions_append_only BEFORE UPDATE OR DELETE ON settings_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- +goose Down
DROP TABLE settings_versions;

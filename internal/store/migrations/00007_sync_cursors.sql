-- Incremental sync positions (last seen modification time, highest id, page
-- token), one per named stream, so a restarted worker resumes where it stopped.

-- +goose Up
CREATE TABLE sync_cursors (
    name       text        PRIMARY KEY CHECK (name <> ''),
    value      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sync_cursors;

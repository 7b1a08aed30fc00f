-- Credentials for the external systems; the secret is stored only as an
-- AES-256-GCM ciphertext together with the id of the key that sealed it.

-- +goose Up
CREATE TABLE credentials (
    system            text        PRIMARY KEY CHECK (system IN ('autotask', 'acronis')),
    public            jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(public) = 'object'),
    secret_ciphertext bytea       NOT NULL CHECK (length(secret_ciphertext) > 0),
    key_id            text        NOT NULL CHECK (key_id <> ''),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text        NOT NULL CHECK (updated_by <> '')
);

-- +goose Down
DROP TABLE credentials;

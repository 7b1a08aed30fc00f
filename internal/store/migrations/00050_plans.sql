-- Plans over a scope of customers (issue 14): previewed, stored, then
-- applied once by id while their inputs still hold. The document is the
-- plan as the API shows it (internal/plan.Set).

-- +goose Up
CREATE TABLE plans (
    id          text        PRIMARY KEY CHECK (id <> ''),
    status      text        NOT NULL CHECK (status IN ('preview', 'applying', 'applied')),
    document    jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL CHECK (created_by <> ''),
    expires_at  timestamptz NOT NULL,
    applied_at  timestamptz,
    applied_by  text
);

CREATE INDEX plans_created_idx ON plans (created_at DESC);

-- +goose Down
DROP TABLE plans;

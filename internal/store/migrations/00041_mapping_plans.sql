-- Bulk mapping previews (issue 16): a combined plan of company → tenant
-- mappings, validated and stored under an id, then applied by that id.
-- Structured like issue 14's plans (preview, then apply by id) so it can
-- move onto them once they land.

-- +goose Up
CREATE TABLE mapping_plans (
    id          text        PRIMARY KEY CHECK (id <> ''),
    status      text        NOT NULL CHECK (status IN ('preview', 'applying', 'applied')),
    source      text        NOT NULL,
    items       jsonb       NOT NULL,
    skipped     jsonb       NOT NULL DEFAULT '[]',
    results     jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL CHECK (created_by <> ''),
    expires_at  timestamptz NOT NULL,
    applied_at  timestamptz,
    applied_by  text
);

-- +goose Down
DROP TABLE mapping_plans;

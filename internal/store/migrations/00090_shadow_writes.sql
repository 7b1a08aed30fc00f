-- Shadow mode (issue 14 item 5): each write the integration would have sent
-- to Autotask or Acronis, recorded instead of sent. One row per distinct
-- write (its natural key), so a retried activity or a repeated plan records once.

-- +goose Up
CREATE TABLE shadow_writes (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text        NOT NULL UNIQUE CHECK (key <> ''),
    company_id  bigint,
    vendor      text        NOT NULL CHECK (vendor IN ('acronis', 'autotask')),
    operation   text        NOT NULL CHECK (operation <> ''),
    target      text        NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}',
    warnings    jsonb       NOT NULL DEFAULT '[]',
    workflow_id text        NOT NULL DEFAULT '',
    activity    text        NOT NULL DEFAULT '',
    first_at    timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX shadow_writes_company_idx ON shadow_writes (company_id, id);

-- +goose Down
DROP TABLE shadow_writes;

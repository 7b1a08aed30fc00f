-- What the contract sync has seen in Autotask, so it signals a customer only
-- when something changed. Autotask gives contract services and their units no
-- modification time (reference §4.9): unit rows are compared one by one.

-- +goose Up
CREATE TABLE autotask_unit_rows (
    kind        text        NOT NULL CHECK (kind IN ('service', 'bundle')),
    id          bigint      NOT NULL,
    contract_id bigint      NOT NULL,
    item_id     bigint      NOT NULL,  -- service or service bundle id
    units       bigint      NOT NULL,
    start_date  timestamptz,
    end_date    timestamptz,
    seen_cycle  bigint      NOT NULL,  -- full-scan cycle that last saw the row
    PRIMARY KEY (kind, id)
);

CREATE INDEX autotask_unit_rows_cycle_idx ON autotask_unit_rows (kind, seen_cycle);

CREATE TABLE company_snapshots (
    company_id  bigint      PRIMARY KEY,
    fingerprint text        NOT NULL CHECK (fingerprint <> ''),
    observed_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE company_snapshots;
DROP TABLE autotask_unit_rows;

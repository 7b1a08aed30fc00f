-- Every usage number reported to Autotask is a ledger row keyed by contract
-- service, period and metric; reporting twice never double-bills and a
-- correction is a new revision that supersedes the previous one.

-- +goose Up
CREATE TABLE usage_ledger (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_service_id bigint      NOT NULL CHECK (contract_service_id > 0),
    period_start        timestamptz NOT NULL,
    period_end          timestamptz NOT NULL,
    metric              text        NOT NULL CHECK (metric <> ''),
    revision            integer     NOT NULL DEFAULT 1 CHECK (revision >= 1),
    raw_value           numeric     NOT NULL CHECK (raw_value >= 0),
    raw_unit            text        NOT NULL CHECK (raw_unit <> ''),
    billed_value        numeric     NOT NULL CHECK (billed_value >= 0),
    billed_unit         text        NOT NULL CHECK (billed_unit <> ''),
    rounding            text        NOT NULL DEFAULT '',
    samples             jsonb       NOT NULL DEFAULT '[]',
    adjustment_id       bigint      UNIQUE CHECK (adjustment_id > 0),
    state               text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'reported', 'superseded')),
    reason              text        NOT NULL DEFAULT '',
    supersedes          bigint      UNIQUE REFERENCES usage_ledger (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    reported_at         timestamptz,
    UNIQUE (contract_service_id, period_start, period_end, metric, revision),
    CHECK (period_end > period_start),
    CHECK ((revision = 1) = (supersedes IS NULL)),
    CHECK (revision = 1 OR reason <> ''),
    CHECK (state <> 'reported' OR adjustment_id IS NOT NULL),
    CHECK ((adjustment_id IS NULL) = (reported_at IS NULL))
);

-- At most one current (not superseded) row per natural key.
CREATE UNIQUE INDEX usage_ledger_current_idx ON usage_ledger (contract_service_id, period_start, period_end, metric)
    WHERE state <> 'superseded';
CREATE INDEX usage_ledger_state_idx ON usage_ledger (state) WHERE state = 'pending';

-- +goose Down
DROP TABLE usage_ledger;

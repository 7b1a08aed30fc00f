-- Closed billing periods are settled from Acronis usage reports (issue 18):
-- usage_reports remembers the report of each period before it is polled, so
-- a restarted worker finds it instead of creating a second one; every ledger
-- row records where its number came from (a report's stored copy, or live
-- samples) and whether it is an estimate.

-- +goose Up
CREATE TABLE usage_reports (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    tenant_id    text        NOT NULL CHECK (tenant_id <> ''),
    report_id    text        UNIQUE CHECK (report_id <> ''),
    stored_id    text        CHECK (stored_id <> ''),
    status       text        NOT NULL DEFAULT 'creating'
        CHECK (status IN ('creating', 'in_progress', 'saved', 'failed', 'settled')),
    error        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end > period_start),
    CHECK (status = 'creating' OR status = 'failed' OR report_id IS NOT NULL),
    CHECK (status NOT IN ('saved', 'settled') OR stored_id IS NOT NULL)
);

-- One live (not failed) report per period: a failed one is kept for the
-- record and a new one replaces it.
CREATE UNIQUE INDEX usage_reports_live_idx ON usage_reports (period_start, period_end) WHERE status <> 'failed';

ALTER TABLE usage_ledger
    ADD COLUMN source   jsonb   NOT NULL DEFAULT '{}',
    ADD COLUMN estimate boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE usage_ledger DROP COLUMN estimate, DROP COLUMN source;
DROP TABLE usage_reports;

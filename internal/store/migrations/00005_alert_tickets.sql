-- One Autotask ticket per Acronis alert and generation. The external id is
-- what the ticket carries in Autotask, so a unique index on it makes a
-- duplicate ticket impossible even when a worker retries.

-- +goose Up
CREATE TABLE alert_tickets (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id    text        NOT NULL CHECK (alert_id <> '' AND position('#' IN alert_id) = 0),
    generation  integer     NOT NULL DEFAULT 1 CHECK (generation >= 1),
    external_id text        GENERATED ALWAYS AS (
                    CASE WHEN generation = 1 THEN alert_id ELSE alert_id || '#' || generation::text END
                ) STORED CHECK (length(external_id) <= 50),
    ticket_id   bigint      UNIQUE CHECK (ticket_id > 0),
    company_id  bigint      NOT NULL CHECK (company_id > 0),
    tenant_id   text        NOT NULL DEFAULT '',
    alert_type  text        NOT NULL CHECK (alert_type <> ''),
    resource    text        NOT NULL DEFAULT '',
    state       text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    opened_at   timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    reopened_at timestamptz,
    occurrences integer     NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (alert_id, generation),
    CONSTRAINT alert_tickets_external_id_key UNIQUE (external_id),
    CHECK (state = 'open' OR closed_at IS NOT NULL)
);

-- At most one open ticket per alert.
CREATE UNIQUE INDEX alert_tickets_one_open_idx ON alert_tickets (alert_id) WHERE state = 'open';
CREATE INDEX alert_tickets_company_idx ON alert_tickets (company_id, state);

-- +goose Down
DROP TABLE alert_tickets;

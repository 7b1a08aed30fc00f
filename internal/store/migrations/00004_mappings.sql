-- Admin-maintained mappings: Acronis offering items to Autotask services,
-- Autotask companies to Acronis tenants, Acronis alert types to ticket fields.

-- +goose Up
CREATE TABLE service_mappings (
    application_id        text        NOT NULL CHECK (application_id <> ''),
    offering_item         text        NOT NULL CHECK (offering_item <> ''),
    -- Storage items exist once per storage; each storage maps on its own ('' for other items).
    infra_id              text        NOT NULL DEFAULT '',
    autotask_service_id   bigint      CHECK (autotask_service_id > 0),
    autotask_service_name text        NOT NULL CHECK (autotask_service_name <> ''),
    free                  boolean     NOT NULL DEFAULT false,
    raw_unit              text        NOT NULL CHECK (raw_unit <> ''),
    billed_unit           text        NOT NULL CHECK (billed_unit <> ''),
    divisor               numeric     NOT NULL DEFAULT 1 CHECK (divisor > 0),
    rounding              text        NOT NULL DEFAULT 'up' CHECK (rounding IN ('up', 'down', 'nearest')),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    updated_by            text        NOT NULL CHECK (updated_by <> ''),
    PRIMARY KEY (application_id, offering_item, infra_id)
);

CREATE TABLE customer_mappings (
    company_id bigint      PRIMARY KEY CHECK (company_id > 0),
    tenant_id  text        NOT NULL UNIQUE CHECK (tenant_id <> ''),
    how        text        NOT NULL CHECK (how IN ('manual', 'automatic')),
    state      text        NOT NULL DEFAULT 'mapped' CHECK (state <> ''),
    last_error text        NOT NULL DEFAULT '',
    mapped_at  timestamptz NOT NULL DEFAULT now(),
    mapped_by  text        NOT NULL CHECK (mapped_by <> ''),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX customer_mappings_state_idx ON customer_mappings (state);

CREATE TABLE alert_mappings (
    alert_type     text        PRIMARY KEY CHECK (alert_type <> ''),
    create_ticket  boolean     NOT NULL DEFAULT false,
    priority       bigint,
    status         bigint,
    queue_id       bigint,
    issue_type     bigint,
    sub_issue_type bigint,
    ticket_type    bigint,
    is_default     boolean     NOT NULL DEFAULT false,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text        NOT NULL CHECK (updated_by <> ''),
    CHECK (sub_issue_type IS NULL OR issue_type IS NOT NULL)
);

-- +goose Down
DROP TABLE alert_mappings;
DROP TABLE customer_mappings;
DROP TABLE service_mappings;

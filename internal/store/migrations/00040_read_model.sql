-- The local read model of both vendors (issue 16): Autotask companies kept by
-- the contract sync and Acronis tenants kept by the tenant sync, so the
-- customers and tenants lists, the mapping suggestions and the mapping health
-- cost no vendor request. pg_trgm indexes the names for contains-search and
-- fuzzy matching.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE rm_companies (
    company_id         bigint      PRIMARY KEY CHECK (company_id >= 0),
    name               text        NOT NULL,
    -- name_key is suggest.Normalize(name): legal suffixes, punctuation and case removed.
    name_key           text        NOT NULL,
    -- initials of name_key's words ("international business machines" → "ibm"), for abbreviations.
    initials           text        NOT NULL DEFAULT '',
    company_type       integer     NOT NULL DEFAULT 0,
    company_type_label text        NOT NULL DEFAULT '',
    active             boolean     NOT NULL,
    contact_name       text        NOT NULL DEFAULT '',
    contact_email      text        NOT NULL DEFAULT '',
    email_domain       text        NOT NULL DEFAULT '',
    -- Recurring Service contracts in force today, and their summary (id, name, dates, service and bundle ids).
    eligible_contracts integer     NOT NULL DEFAULT 0,
    contracts          jsonb       NOT NULL DEFAULT '[]',
    modified_at        timestamptz,
    synced_at          timestamptz NOT NULL DEFAULT now(),
    -- suggestions_stale says rm_suggestions must be recomputed for the company.
    suggestions_stale  boolean     NOT NULL DEFAULT true
);

CREATE INDEX rm_companies_stale ON rm_companies (company_id) WHERE suggestions_stale;
CREATE INDEX rm_companies_name_trgm ON rm_companies USING gin (lower(name) gin_trgm_ops);
CREATE INDEX rm_companies_key_trgm ON rm_companies USING gin (name_key gin_trgm_ops);
CREATE INDEX rm_companies_sort_name ON rm_companies (lower(name), company_id);
CREATE INDEX rm_companies_domain ON rm_companies (email_domain) WHERE email_domain <> '';

CREATE TABLE rm_tenants (
    tenant_id          text        PRIMARY KEY CHECK (tenant_id <> ''),
    name               text        NOT NULL,
    name_key           text        NOT NULL,
    initials           text        NOT NULL DEFAULT '',
    kind               text        NOT NULL,
    parent_id          text        NOT NULL DEFAULT '',
    enabled            boolean     NOT NULL DEFAULT true,
    contact_email      text        NOT NULL DEFAULT '',
    email_domain       text        NOT NULL DEFAULT '',
    self_service       boolean     NOT NULL DEFAULT false,
    -- support_access is NULL until probed (one Acronis request per tenant, spread over runs).
    support_access     boolean,
    support_checked_at timestamptz,
    internal_tag       text        NOT NULL DEFAULT '',
    customer_ref       text        NOT NULL DEFAULT '',
    acronis_updated_at timestamptz,
    -- deleted_at is set when a full listing no longer shows the tenant (health "missing").
    deleted_at         timestamptz,
    seen_run           bigint      NOT NULL DEFAULT 0,
    synced_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX rm_tenants_name_trgm ON rm_tenants USING gin (lower(name) gin_trgm_ops);
CREATE INDEX rm_tenants_key_trgm ON rm_tenants USING gin (name_key gin_trgm_ops);
CREATE INDEX rm_tenants_sort_name ON rm_tenants (lower(name), tenant_id);
CREATE INDEX rm_tenants_initials ON rm_tenants (initials) WHERE initials <> '';
CREATE INDEX rm_tenants_compact ON rm_tenants (replace(name_key, ' ', ''));
CREATE INDEX rm_tenants_domain ON rm_tenants (email_domain) WHERE email_domain <> '';
CREATE INDEX rm_tenants_tag ON rm_tenants (internal_tag) WHERE internal_tag <> '';
CREATE INDEX rm_tenants_ref ON rm_tenants (customer_ref) WHERE customer_ref <> '';

-- Suggestions precomputed per company (a fuzzy search costs milliseconds per
-- company, too much for a page of 50); mapped and deleted tenants are
-- filtered out when read, so mapping needs no recomputation.
CREATE TABLE rm_suggestions (
    company_id  bigint  NOT NULL,
    tenant_id   text    NOT NULL,
    rank        integer NOT NULL,
    tenant_name text    NOT NULL,
    confidence  real    NOT NULL,
    reasons     jsonb   NOT NULL,
    PRIMARY KEY (company_id, tenant_id)
);

CREATE INDEX rm_suggestions_confidence ON rm_suggestions (confidence);

-- +goose Down
DROP TABLE rm_suggestions;
DROP TABLE rm_tenants;
DROP TABLE rm_companies;

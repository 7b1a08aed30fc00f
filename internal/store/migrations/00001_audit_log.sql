-- The audit log records every write to either external system and every admin
-- change: who, what, on which target, why, and the documents before and after.

-- +goose Up
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL CHECK (actor <> ''),
    request_id  text        NOT NULL DEFAULT '',
    kind        text        NOT NULL CHECK (kind ~ '^[a-z0-9_]+(\.[a-z0-9_]+)+$'),
    system      text        NOT NULL CHECK (system IN ('autotask', 'acronis', 'admin')),
    company_id  bigint,
    tenant_id   text,
    contract_id bigint,
    ticket_id   bigint,
    alert_id    text,
    target      text        NOT NULL DEFAULT '',
    reason      text        NOT NULL DEFAULT '',
    before      jsonb,
    after       jsonb
);

CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_company_idx ON audit_log (company_id, at DESC, id DESC) WHERE company_id IS NOT NULL;
CREATE INDEX audit_log_kind_idx ON audit_log (kind text_pattern_ops);

-- +goose StatementBegin
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION forbid_change();

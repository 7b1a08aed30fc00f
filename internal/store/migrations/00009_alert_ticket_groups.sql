-- Storm control (SPEC F10): the alert sync looks for the open ticket of a
-- (tenant, alert type, resource) before opening another.

-- +goose Up
CREATE INDEX alert_tickets_group_idx ON alert_tickets (tenant_id, alert_type, resource) WHERE state = 'open';

-- +goose Down
DROP INDEX alert_tickets_group_idx;

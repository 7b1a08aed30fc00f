-- The contracts of each company's last delivered snapshot, so other parts of
-- the integration (alert tickets) know a company's contracts without asking
-- Autotask, whose hourly request budget is shared by everything.

-- +goose Up
ALTER TABLE company_snapshots ADD COLUMN contracts jsonb;

-- +goose Down
ALTER TABLE company_snapshots DROP COLUMN contracts;

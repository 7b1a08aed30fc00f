-- Prepaid with overage (issue 18, SPEC F18): a prepaid offering item may use a
-- soft quota (contract units, overage allowed); the usage above the units of
-- each closed period is billed as units of a separate Autotask service.
-- NULL: no overage, the quota is hard (F7).

-- +goose Up
ALTER TABLE service_mappings
    ADD COLUMN overage_service_id bigint CHECK (overage_service_id > 0),
    ADD CONSTRAINT service_mappings_overage_own_service_check CHECK (overage_service_id <> autotask_service_id),
    ADD CONSTRAINT service_mappings_overage_not_free_check CHECK (overage_service_id IS NULL OR NOT free);

-- +goose Down
ALTER TABLE service_mappings DROP COLUMN overage_service_id;

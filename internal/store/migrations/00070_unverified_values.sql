-- Ids in settings and alert mappings are checked against the vendors' lists
-- (issue 16 item 4). When a vendor cannot be reached the value is saved
-- anyway and recorded here as unverified, so it is shown as such and checked
-- again on a later read; a row whose value the vendor later refuses is kept
-- as invalid until an admin changes it.

-- +goose Up
CREATE TABLE unverified_values (
    scope      text        NOT NULL CHECK (scope IN ('settings', 'alert-mappings')),
    -- key is the alert type of an alert mapping, '' for settings.
    key        text        NOT NULL DEFAULT '' CHECK (length(key) <= 200),
    -- field is the JSON path of the value in its document.
    field      text        NOT NULL CHECK (field <> '' AND length(field) <= 200),
    value      text        NOT NULL CHECK (length(value) <= 200),
    state      text        NOT NULL DEFAULT 'unverified' CHECK (state IN ('unverified', 'invalid')),
    message    text        NOT NULL DEFAULT '' CHECK (length(message) <= 4000),
    since      timestamptz NOT NULL DEFAULT now(),
    checked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key, field)
);

-- +goose Down
DROP TABLE unverified_values;

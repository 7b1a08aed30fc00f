-- Auto-close waits for every alert counted on a ticket (issue 14 item 7).
--
-- active_alerts lists the alerts counted on the ticket whose latest event is
-- not a clear: the owner and the alerts that joined it (storm control). A
-- cleared alert leaves the list, and auto-close closes the ticket only once
-- the list is empty. Open tickets written before this column existed start
-- with their owner only (which alerts joined them was not recorded), so they
-- close when their owner clears, as before.

-- +goose Up
ALTER TABLE alert_tickets ADD COLUMN active_alerts text[] NOT NULL DEFAULT '{}';
UPDATE alert_tickets SET active_alerts = ARRAY[alert_id] WHERE state = 'open';
CREATE INDEX alert_tickets_active_alerts_idx ON alert_tickets USING gin (active_alerts);

-- +goose Down
DROP INDEX alert_tickets_active_alerts_idx;
ALTER TABLE alert_tickets DROP COLUMN active_alerts;

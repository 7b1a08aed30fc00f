-- Fewer Autotask requests per alert ticket (BENCHMARKS.md findings 4 and 5).
--
-- create_attempts counts the ticket creates sent for a generation. The look-up
-- by external id before a create is needed only when an earlier attempt may
-- have reached Autotask, that is when it is above 0. The default is 1, not 0:
-- rows written before this column existed, or by a worker that predates it
-- (during a rolling deploy), may have had a create sent, so they keep the
-- look-up. The current code inserts 0 explicitly.
--
-- completion_reported is the completion time (Autotask completedDate, else
-- lastActivityDate) of the ticket that the alert sync last reported to the
-- alert's workflow, so a completion seen again by an overlapping check is not
-- reported twice.

-- +goose Up
ALTER TABLE alert_tickets
    ADD COLUMN create_attempts     integer NOT NULL DEFAULT 1 CHECK (create_attempts >= 0),
    ADD COLUMN completion_reported timestamptz;

-- +goose Down
ALTER TABLE alert_tickets DROP COLUMN completion_reported, DROP COLUMN create_attempts;

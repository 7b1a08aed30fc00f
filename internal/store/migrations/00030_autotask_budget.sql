-- One Autotask request budget for the fleet (issue 15; README "Autotask budget").
--
-- autotask_budget is a token bucket per Autotask database: every process that
-- calls Autotask takes tokens from its row in small batches with one UPDATE,
-- the bucket refilling by the time elapsed since updated_at. capacity plus one
-- hour of refill is the hourly allowance, so no rolling hour exceeds it.
-- others and autotask_limit are what ThresholdInformation last said; one
-- process per check_every claims the next read by moving threshold_checked_at.
--
-- autotask_budget_usage counts the tokens granted per minute: at an
-- observation, Autotask's count less these is what other integrations used.
--
-- autotask_threads holds leases on Autotask's concurrent threads per
-- integration and endpoint; a process that dies loses its leases when they expire.

-- +goose Up
CREATE TABLE autotask_budget (
    database_key         text PRIMARY KEY CHECK (database_key <> ''),
    configured_hourly    integer NOT NULL CHECK (configured_hourly > 0),
    autotask_limit       integer CHECK (autotask_limit >= 0),
    others               integer NOT NULL DEFAULT 0 CHECK (others >= 0),
    allowance            double precision NOT NULL CHECK (allowance >= 0),
    capacity             double precision NOT NULL CHECK (capacity >= 0),
    refill_per_second    double precision NOT NULL CHECK (refill_per_second >= 0),
    tokens               double precision NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    check_every          interval NOT NULL DEFAULT '5 minutes',
    threshold_checked_at timestamptz
);

CREATE TABLE autotask_budget_usage (
    database_key text NOT NULL REFERENCES autotask_budget ON DELETE CASCADE,
    minute       timestamptz NOT NULL,
    requests     integer NOT NULL CHECK (requests >= 0),
    PRIMARY KEY (database_key, minute)
);

CREATE TABLE autotask_threads (
    thread_key text NOT NULL,
    endpoint   text NOT NULL,
    slot       integer NOT NULL CHECK (slot >= 0),
    lease      uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (thread_key, endpoint, slot)
);

-- +goose Down
DROP TABLE autotask_threads;
DROP TABLE autotask_budget_usage;
DROP TABLE autotask_budget;

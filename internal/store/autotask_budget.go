package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// BudgetConfig sets up the shared Autotask budget of one database.
type BudgetConfig struct {
	// Username and IntegrationCode identify the budget: an API user belongs to
	// one Autotask database, and Autotask counts threads per integration code.
	Username, IntegrationCode string
	// Hourly is the requests per rolling hour the fleet keeps under (before
	// what other integrations use is taken off).
	Hourly int
	// Threads is the concurrent requests per endpoint for the fleet (Autotask: 3).
	Threads int
	// CheckEvery is how often one process of the fleet reads ThresholdInformation.
	CheckEvery time.Duration
	// LeaseTTL is how long a thread lease outlives a process that died
	// holding it; it must exceed the HTTP timeout of a request.
	LeaseTTL time.Duration
}

// BudgetKeys are the rows of a budget: the database's bucket, and the
// integration's threads (the integration code only as a digest).
func BudgetKeys(username, integrationCode string) (database, threads string) {
	database = "user:" + strings.ToLower(strings.TrimSpace(username))
	sum := sha256.Sum256([]byte(integrationCode))
	return database, database + "|" + hex.EncodeToString(sum[:8])
}

// AutotaskLimiter is the autotask.Limiter of a fleet: every process that
// calls the same Autotask database takes tokens from one row of
// autotask_budget and leases threads in autotask_threads.
type AutotaskLimiter struct {
	pool      pgxQuerier
	key       string
	threadKey string
	cfg       BudgetConfig
}

// pgxQuerier is the part of a pool the limiter uses (a pool, in practice).
type pgxQuerier interface {
	Querier
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

var _ autotask.Limiter = (*AutotaskLimiter)(nil)

// AutotaskLimiter returns the shared budget of the database cfg names,
// creating its row on first use and applying cfg.Hourly and cfg.CheckEvery
// (the last process started sets them).
func (s *Store) AutotaskLimiter(ctx context.Context, cfg BudgetConfig) (*AutotaskLimiter, error) {
	if cfg.Hourly <= 0 {
		cfg.Hourly = 10000
	}
	if cfg.Threads <= 0 {
		cfg.Threads = 3
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = 5 * time.Minute
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Minute
	}
	l := &AutotaskLimiter{pool: s.pool, cfg: cfg}
	l.key, l.threadKey = BudgetKeys(cfg.Username, cfg.IntegrationCode)
	capacity, perSecond := autotask.BucketFor(float64(cfg.Hourly))
	_, err := s.pool.Exec(ctx, `
		INSERT INTO autotask_budget (database_key, configured_hourly, allowance, capacity, refill_per_second, tokens, check_every)
		VALUES ($1, $2::int, $2::int, $3::float8, $4::float8, $3::float8, $5::interval)
		ON CONFLICT (database_key) DO UPDATE SET check_every = EXCLUDED.check_every`,
		l.key, cfg.Hourly, capacity, perSecond, cfg.CheckEvery)
	if err != nil {
		return nil, wrap("create the Autotask budget", err)
	}
	if err := l.reshape(ctx, func(st *bucketRow) {
		st.configured = cfg.Hourly
		limit := cfg.Hourly
		if st.autotaskLimit != nil {
			limit = min(limit, *st.autotaskLimit-st.others)
		}
		st.allowance = float64(max(0, limit))
	}); err != nil {
		return nil, err
	}
	return l, nil
}

// Take implements autotask.Limiter with one statement: refill by the time
// elapsed, grant what lies above the priority's reserve, count the grant for
// Observe and, once per CheckEvery for the whole fleet, claim the next
// ThresholdInformation read.
func (l *AutotaskLimiter) Take(ctx context.Context, n int, p autotask.Priority) (autotask.Grant, error) {
	var (
		granted                   int
		avail, reserve, perSecond float64
		due                       bool
	)
	err := l.pool.QueryRow(ctx, `
		WITH cur AS (
		    SELECT database_key, refill_per_second,
		           LEAST(capacity, tokens + refill_per_second * GREATEST(0, EXTRACT(EPOCH FROM now() - updated_at))) AS avail,
		           GREATEST(0, LEAST($3::float8 * capacity, capacity - 1)) AS reserve,
		           (threshold_checked_at IS NULL OR threshold_checked_at <= now() - check_every) AS due
		    FROM autotask_budget WHERE database_key = $1 FOR UPDATE
		), g AS (
		    SELECT cur.*, GREATEST(0, LEAST($2::int, floor(avail - reserve)))::int AS granted FROM cur
		), upd AS (
		    UPDATE autotask_budget b
		    SET tokens = g.avail - g.granted, updated_at = GREATEST(b.updated_at, now()),
		        threshold_checked_at = CASE WHEN g.due THEN now() ELSE b.threshold_checked_at END
		    FROM g WHERE b.database_key = g.database_key
		    RETURNING g.granted, g.avail, g.reserve, g.refill_per_second, g.due
		), used AS (
		    INSERT INTO autotask_budget_usage (database_key, minute, requests)
		    SELECT $1, date_trunc('minute', now()), granted FROM upd WHERE granted > 0
		    ON CONFLICT (database_key, minute) DO UPDATE SET requests = autotask_budget_usage.requests + EXCLUDED.requests
		)
		SELECT granted, avail, reserve, refill_per_second, due FROM upd`,
		l.key, n, p.ReserveShare()).Scan(&granted, &avail, &reserve, &perSecond, &due)
	if err != nil {
		return autotask.Grant{}, wrap("take Autotask budget tokens", err)
	}
	g := autotask.Grant{Tokens: granted, CheckThreshold: due}
	if granted == 0 {
		if perSecond <= 0 {
			g.Wait = 5 * time.Minute
		} else {
			g.Wait = time.Duration((reserve + 1 - avail) / perSecond * float64(time.Second))
		}
	}
	return g, nil
}

// Lease implements autotask.Limiter: it claims a free slot of the
// endpoint (or one whose lease expired) with one INSERT; a slot taken by
// another process at the same moment makes it answer false, never twice.
func (l *AutotaskLimiter) Lease(ctx context.Context, endpoint string) (func(), bool, error) {
	id := uuid.New()
	var slot int
	err := l.pool.QueryRow(ctx, `
		WITH free AS (
		    SELECT s FROM generate_series(0, $3::int - 1) s
		    WHERE NOT EXISTS (SELECT 1 FROM autotask_threads t
		                      WHERE t.thread_key = $1 AND t.endpoint = $2 AND t.slot = s AND t.expires_at > now())
		    ORDER BY random() LIMIT 1
		)
		INSERT INTO autotask_threads (thread_key, endpoint, slot, lease, expires_at)
		SELECT $1, $2, s, $4, now() + $5::interval FROM free
		ON CONFLICT (thread_key, endpoint, slot) DO UPDATE SET lease = EXCLUDED.lease, expires_at = EXCLUDED.expires_at
		    WHERE autotask_threads.expires_at <= now()
		RETURNING slot`, l.threadKey, endpoint, l.cfg.Threads, id, l.cfg.LeaseTTL).Scan(&slot)
	if noRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap("lease an Autotask thread", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// The request's context may be over; the lease must go anyway (or expire).
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = l.pool.Exec(ctx, `DELETE FROM autotask_threads WHERE thread_key = $1 AND endpoint = $2 AND slot = $3 AND lease = $4`,
				l.threadKey, endpoint, slot, id)
		})
	}, true, nil
}

// Observe implements autotask.Limiter: what Autotask counted less what the
// fleet was granted in the timeframe is what other integrations used; the
// allowance shrinks by it, and the bucket never holds more than Autotask
// says is left.
func (l *AutotaskLimiter) Observe(ctx context.Context, t autotask.ThresholdInfo) error {
	var own int
	err := l.pool.QueryRow(ctx, `
		SELECT COALESCE(sum(requests), 0)::int FROM autotask_budget_usage
		WHERE database_key = $1 AND minute >= date_trunc('minute', now() - $2::interval)`,
		l.key, autotask.TimeframeOf(t)).Scan(&own)
	if err != nil {
		return wrap("read the fleet's Autotask requests", err)
	}
	if err := l.reshape(ctx, func(st *bucketRow) {
		st.allowance, st.others = autotask.Allowance(st.configured, t, own)
		lim := t.ExternalRequestThreshold
		st.autotaskLimit = &lim
		st.tokens = min(st.tokens, float64(t.Remaining()))
	}); err != nil {
		return err
	}
	_, err = l.pool.Exec(ctx, `DELETE FROM autotask_budget_usage WHERE database_key = $1 AND minute < now() - interval '2 hours'`, l.key)
	return wrap("prune the Autotask budget's usage", err)
}

// Status implements autotask.Limiter.
func (l *AutotaskLimiter) Status(ctx context.Context) (autotask.BudgetStatus, error) {
	var st autotask.BudgetStatus
	err := l.pool.QueryRow(ctx, `
		SELECT LEAST(capacity, tokens + refill_per_second * GREATEST(0, EXTRACT(EPOCH FROM now() - updated_at))), allowance, others
		FROM autotask_budget WHERE database_key = $1`, l.key).Scan(&st.Tokens, &st.Allowance, &st.Others)
	return st, wrap("read the Autotask budget", err)
}

// bucketRow is a budget row being reshaped.
type bucketRow struct {
	configured    int
	autotaskLimit *int
	others        int
	allowance     float64
	tokens        float64 // refilled up to now
}

// reshape changes the allowance in one transaction: fn sets allowance (and
// may lower tokens); the burst and refill follow, and the tokens never exceed the new burst.
func (l *AutotaskLimiter) reshape(ctx context.Context, fn func(*bucketRow)) error {
	return wrap("reshape the Autotask budget", pgx.BeginTxFunc(ctx, l.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var st bucketRow
		err := tx.QueryRow(ctx, `
			SELECT configured_hourly, autotask_limit, others,
			       LEAST(capacity, tokens + refill_per_second * GREATEST(0, EXTRACT(EPOCH FROM now() - updated_at)))
			FROM autotask_budget WHERE database_key = $1 FOR UPDATE`, l.key).Scan(&st.configured, &st.autotaskLimit, &st.others, &st.tokens)
		if err != nil {
			return err
		}
		fn(&st)
		capacity, perSecond := autotask.BucketFor(st.allowance)
		st.tokens = max(0, min(st.tokens, capacity))
		_, err = tx.Exec(ctx, `
			UPDATE autotask_budget SET configured_hourly = $2, autotask_limit = $3, others = $4, allowance = $5,
			       capacity = $6, refill_per_second = $7, tokens = $8, updated_at = GREATEST(updated_at, now())
			WHERE database_key = $1`, l.key, st.configured, st.autotaskLimit, st.others, st.allowance, capacity, perSecond, st.tokens)
		return err
	}))
}

// String names the budget without the integration code.
func (l *AutotaskLimiter) String() string { return fmt.Sprintf("AutotaskLimiter{%s}", l.key) }

package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// CustomerNotifier delivers snapshots to customer workflows (signal-with-start).
type CustomerNotifier interface {
	NotifyContracts(ctx context.Context, snap company.Snapshot) error
	// Replan tells a running customer workflow the configuration changed.
	Replan(ctx context.Context, companyID int64, generation string) error
}

// ContractSyncStore is what the sync remembers between runs.
type ContractSyncStore interface {
	CurrentSettings(ctx context.Context) (store.SettingsVersion, error)
	UnitRows(ctx context.Context, kind string, ids []int64) (map[int64]store.UnitRow, error)
	SaveUnitRows(ctx context.Context, kind string, rows []store.UnitRow, cycle int64) error
	RemoveUnseenUnitRows(ctx context.Context, kind string, cycle int64) ([]store.UnitRow, error)
	SnapshotFingerprints(ctx context.Context, companyIDs []int64) (map[int64]string, error)
	SaveSnapshotFingerprint(ctx context.Context, companyID int64, fingerprint string, contracts json.RawMessage, at time.Time) error
	ConfigGeneration(ctx context.Context) (string, error)
	KnownCompanies(ctx context.Context) ([]int64, error)
	// The read model (issue 16): companies from the company poll, contract summaries from snapshots.
	SaveCompanies(ctx context.Context, cs []store.CompanyRecord, at time.Time) error
	SaveCompanyContracts(ctx context.Context, rs []store.CompanyContractsRecord, at time.Time) error
}

// ContractSync finds what changed in Autotask and tells the affected customers.
//
// Autotask gives contract services and units no modification time, so changes
// are found three ways, cheapest first (SPEC F11): (a) contracts whose
// lastModifiedDateTime moved; (b) unit rows with an id above the highest seen;
// (c) a full scan of unit rows, paced by a share of the hourly request budget.
type ContractSync struct {
	Autotask  AutotaskSource
	Store     ContractSyncStore
	Customers CustomerNotifier
	// Audit records what the sync writes to Autotask (the PAYG field); optional.
	Audit interface {
		AppendAudit(ctx context.Context, e store.AuditEntry) error
	}
	// HourlyLimit is Autotask's request budget per hour (default 10,000).
	HourlyLimit int
	// PollShare and ScanShare split the budget: change detection (a, b) and the
	// full scan (c). Defaults 2.5% and 1.8%, so a quiet system stays under 5%
	// with room for the alert sync's completed-ticket check (0.3%).
	PollShare, ScanShare float64
	Now                  func() time.Time
}

// SyncCursor is where the sync stands; the workflow keeps it between runs.
type SyncCursor struct {
	Initialized bool `json:"initialized"`
	// PAYGFieldReady is set once the contract field "Acronis PAYG" is known to exist.
	PAYGFieldReady bool      `json:"paygFieldReady,omitempty"`
	ContractsSince time.Time `json:"contractsSince"`
	// Recent holds contracts already handled inside the overlap window (id →
	// lastModifiedDateTime), so re-reading the window does not redo them.
	Recent       map[int64]time.Time `json:"recent,omitempty"`
	MaxUnitID    [2]int64            `json:"maxUnitId"` // service, bundle
	ScanAfter    [2]int64            `json:"scanAfter"` // scan position per kind
	ScanKind     int                 `json:"scanKind"`  // 0 service rows, 1 bundle rows
	Cycle        int64               `json:"cycle"`     // full-scan cycle number
	CycleStarted time.Time           `json:"cycleStarted"`
	// ScanCredit accumulates the scan budget (in requests) between runs.
	ScanCredit float64   `json:"scanCredit"`
	LastRun    time.Time `json:"lastRun"`
	// LastPoll is when (a) and (b) last ran: runs in between only scan, so
	// scan pages are spread evenly instead of bunched at each poll.
	LastPoll time.Time `json:"lastPoll,omitzero"`
	// PollNow makes the next run poll whatever the interval ("sync now").
	PollNow bool `json:"pollNow,omitempty"`
	// ConfigGeneration is the configuration every customer was last told to
	// plan under; when the stored one differs, the run signals them all.
	ConfigGeneration string `json:"configGeneration,omitempty"`
	// CompaniesSince is the newest lastTrackedModifiedDateTime the company
	// poll has seen; zero reads every company (the read model's first fill).
	CompaniesSince time.Time `json:"companiesSince,omitzero"`
	// CompaniesPolled is when the company poll last ran.
	CompaniesPolled time.Time `json:"companiesPolled,omitzero"`
}

// SyncResult reports one run: what changed, what it cost, when to run next.
type SyncResult struct {
	Cursor            SyncCursor `json:"cursor"`
	ChangedContracts  int        `json:"changedContracts"`
	ChangedUnitRows   int        `json:"changedUnitRows"`
	ScannedUnitRows   int        `json:"scannedUnitRows"`
	CompaniesRead     int        `json:"companiesRead"`
	CompaniesNotified int        `json:"companiesNotified"`
	Requests          int64      `json:"requests"`
	CycleCompleted    bool       `json:"cycleCompleted"`
	// Polled says the run looked for changed contracts and new unit rows.
	Polled bool `json:"polled,omitempty"`
	// Replanned counts the customers told to re-plan after a configuration change.
	Replanned        int  `json:"replanned,omitempty"`
	CreatedPAYGField bool `json:"createdPaygField,omitempty"`
	// CompaniesSaved counts companies the company poll wrote to the read model.
	CompaniesSaved int           `json:"companiesSaved,omitempty"`
	LastCycle      time.Duration `json:"lastCycle,omitempty"`
	NextRunIn      time.Duration `json:"nextRunIn"`
}

const (
	unitKinds        = 2
	pageSize         = autotask.MaxPageSize
	contractsOverlap = 5 * time.Minute // re-read this much before the cursor: clocks and commits are not exact
	maxScanPages     = 20              // per run, whatever the credit
	pollRequests     = 3               // (a) and (b) cost about this much per run
)

var unitKindNames = [unitKinds]string{store.UnitRowService, store.UnitRowBundle}

// SyncContracts runs one round of change detection and notifies every company
// whose snapshot differs from the last one delivered.
func (s *ContractSync) SyncContracts(ctx context.Context, cur SyncCursor) (SyncResult, error) {
	c, err := s.Autotask(ctx)
	if err != nil {
		return SyncResult{}, err
	}
	before := c.Stats().Requests
	now := s.now()
	res := SyncResult{}
	pollEvery := s.interval(ctx)
	if !cur.PAYGFieldReady {
		created, err := s.ensurePAYGField(ctx, c)
		if err != nil {
			return res, err
		}
		cur.PAYGFieldReady, res.CreatedPAYGField = true, created
	}
	contracts := map[int64]bool{}
	companies := map[int64]bool{}

	if !cur.Initialized {
		// First run: every Recurring Service contract's company, and every unit row as the baseline.
		if err := s.readContracts(ctx, c, time.Time{}, now, &cur, companies, &res); err != nil {
			return res, err
		}
		cur.Cycle, cur.CycleStarted = 1, now
		for k := range unitKinds {
			if err := s.scanRows(ctx, c, k, &cur, nil, &res, 0); err != nil {
				return res, err
			}
		}
		cur.Initialized = true
		cur.LastPoll = now
	} else {
		if cur.PollNow || !now.Before(cur.LastPoll.Add(pollEvery-time.Second)) {
			if err := s.readContracts(ctx, c, cur.ContractsSince.Add(-contractsOverlap), now, &cur, companies, &res); err != nil {
				return res, err
			}
			for k := range unitKinds {
				if err := s.newRows(ctx, c, k, &cur, contracts, &res); err != nil {
					return res, err
				}
			}
			cur.LastPoll, res.Polled = now, true
		}
		if err := s.scan(ctx, c, now, &cur, contracts, &res); err != nil {
			return res, err
		}
	}
	if cur.PollNow || cur.CompaniesPolled.IsZero() || !now.Before(cur.CompaniesPolled.Add(companyPollEvery)) {
		if err := s.pollCompanies(ctx, c, now, &cur, &res); err != nil {
			return res, err
		}
	}
	cur.PollNow = false
	activity.RecordHeartbeat(ctx, "change detection done")

	if err := s.companiesOf(ctx, c, contracts, companies); err != nil {
		return res, classify("find companies of changed contracts", err)
	}
	if err := s.notify(ctx, c, companies, now, &res); err != nil {
		return res, err
	}
	if err := s.replan(ctx, &cur, &res); err != nil {
		return res, err
	}
	cur.LastRun = now
	res.Cursor = cur
	res.Requests = c.Stats().Requests - before
	res.NextRunIn = s.nextRun(now, cur, pollEvery)
	return res, nil
}

// minRunSpacing keeps scan-only runs from following each other too closely.
const minRunSpacing = 5 * time.Second

// nextRun is when the next poll is due or the scan has earned its next page,
// whichever comes first.
func (s *ContractSync) nextRun(now time.Time, cur SyncCursor, pollEvery time.Duration) time.Duration {
	next := cur.LastPoll.Add(pollEvery).Sub(now)
	if _, _, perHour := s.budget(); perHour > 0 && cur.ScanCredit < 1 {
		next = min(next, time.Duration((1-cur.ScanCredit)/perHour*float64(time.Hour)))
	}
	return max(next, minRunSpacing)
}

func (s *ContractSync) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *ContractSync) budget() (limit, poll, scan float64) {
	limit = float64(s.HourlyLimit)
	if limit <= 0 {
		limit = 10000
	}
	poll, scan = s.PollShare, s.ScanShare
	if poll <= 0 {
		poll = 0.025
	}
	if scan <= 0 {
		scan = 0.018
	}
	return limit, limit * poll, limit * scan
}

// interval is how often (a) and (b) run: the settings' sync interval,
// stretched if polling that often would spend more than the poll share of the
// hourly budget.
func (s *ContractSync) interval(ctx context.Context) time.Duration {
	every := 30 * time.Second
	if v, err := s.Store.CurrentSettings(ctx); err == nil {
		var doc struct {
			SyncIntervalSeconds int `json:"syncIntervalSeconds"`
		}
		if json.Unmarshal(v.Document, &doc) == nil && doc.SyncIntervalSeconds > 0 {
			every = time.Duration(doc.SyncIntervalSeconds) * time.Second
		}
	}
	_, poll, _ := s.budget()
	floor := time.Duration(float64(time.Hour) * pollRequests / poll)
	return max(every, floor)
}

// readContracts collects the companies of Recurring Service contracts modified
// since (all when zero). Afterwards the cursor stands at the poll's start (or
// the newest change, if later), so a contract is re-read only within the
// overlap after it changed, not on every run (BENCHMARKS.md, finding 3).
func (s *ContractSync) readContracts(ctx context.Context, c *autotask.Client, since, pollStart time.Time, cur *SyncCursor, companies map[int64]bool, res *SyncResult) error {
	q := autotask.NewQuery(autotask.Eq("contractType", contractTypeRecurringService)).Fields("id", "companyID", "lastModifiedDateTime")
	if !since.IsZero() {
		q = q.Where(autotask.Gt("lastModifiedDateTime", autotask.NewTime(since)))
	}
	if cur.Recent == nil {
		cur.Recent = map[int64]time.Time{}
	}
	err := autotask.QueryPages(ctx, c, q, func(page []autotask.Contract) error {
		for _, k := range page {
			var mod time.Time
			if k.LastModifiedDateTime != nil {
				mod = k.LastModifiedDateTime.UTC()
			}
			if seen, ok := cur.Recent[k.ID]; ok && seen.Equal(mod) {
				continue // handled in an earlier round
			}
			companies[int64(k.CompanyID)] = true
			res.ChangedContracts++
			cur.Recent[k.ID] = mod
			if mod.After(cur.ContractsSince) {
				cur.ContractsSince = mod
			}
		}
		return nil
	})
	if err != nil {
		return classify("read modified contracts", err)
	}
	if pollStart.After(cur.ContractsSince) {
		cur.ContractsSince = pollStart
	}
	for id, mod := range cur.Recent {
		if mod.Before(cur.ContractsSince.Add(-contractsOverlap)) {
			delete(cur.Recent, id)
		}
	}
	return nil
}

// newRows finds unit rows created since the last run (b).
func (s *ContractSync) newRows(ctx context.Context, c *autotask.Client, kind int, cur *SyncCursor, contracts map[int64]bool, res *SyncResult) error {
	rows, err := s.queryRows(ctx, c, kind, autotask.NewQuery(autotask.Gt("id", cur.MaxUnitID[kind])), 0)
	if err != nil {
		return classify("read new unit rows", err)
	}
	for _, r := range rows {
		contracts[r.ContractID] = true
		cur.MaxUnitID[kind] = max(cur.MaxUnitID[kind], r.ID)
	}
	res.ChangedUnitRows += len(rows)
	return classify("save unit rows", s.Store.SaveUnitRows(ctx, unitKindNames[kind], rows, cur.Cycle))
}

// scan advances the full scan (c) as far as the accumulated budget allows.
func (s *ContractSync) scan(ctx context.Context, c *autotask.Client, now time.Time, cur *SyncCursor, contracts map[int64]bool, res *SyncResult) error {
	_, _, perHour := s.budget()
	if !cur.LastRun.IsZero() {
		cur.ScanCredit += perHour * now.Sub(cur.LastRun).Hours()
	}
	cur.ScanCredit = math.Min(cur.ScanCredit, maxScanPages)
	for pages := 0; cur.ScanCredit >= 1 && pages < maxScanPages; pages++ {
		kind := cur.ScanKind
		done := true
		var err error
		// A kind with no rows ever seen has nothing to re-read: (b) finds its first rows.
		if cur.MaxUnitID[kind] > 0 {
			cur.ScanCredit--
			done = false
			err = s.scanRows(ctx, c, kind, cur, contracts, res, 1)
			if errors.Is(err, errScanKindDone) {
				done, err = true, nil
			}
		}
		if err != nil {
			return err
		}
		if !done {
			continue
		}
		if kind+1 < unitKinds {
			cur.ScanKind = kind + 1
			continue
		}
		// Cycle complete: rows nobody saw are gone; their contracts changed.
		for k := range unitKinds {
			gone, err := s.Store.RemoveUnseenUnitRows(ctx, unitKindNames[k], cur.Cycle)
			if err != nil {
				return classify("remove vanished unit rows", err)
			}
			for _, r := range gone {
				contracts[r.ContractID] = true
			}
			res.ChangedUnitRows += len(gone)
		}
		res.CycleCompleted, res.LastCycle = true, now.Sub(cur.CycleStarted)
		cur.Cycle++
		cur.CycleStarted, cur.ScanKind, cur.ScanAfter = now, 0, [unitKinds]int64{}
		break
	}
	return nil
}

var errScanKindDone = errors.New("scan of this kind is complete")

// scanRows reads unit rows of kind after the scan position, compares them with
// what was seen, and records them in the current cycle. pages bounds the work
// (0: until the end). It returns errScanKindDone at the end of the rows.
func (s *ContractSync) scanRows(ctx context.Context, c *autotask.Client, kind int, cur *SyncCursor, contracts map[int64]bool, res *SyncResult, pages int) error {
	rows, err := s.queryRows(ctx, c, kind, autotask.NewQuery(autotask.Gt("id", cur.ScanAfter[kind])), pages)
	if err != nil {
		return classify("scan unit rows", err)
	}
	res.ScannedUnitRows += len(rows)
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	if contracts != nil && len(ids) > 0 {
		seen, err := s.Store.UnitRows(ctx, unitKindNames[kind], ids)
		if err != nil {
			return classify("read seen unit rows", err)
		}
		for _, r := range rows {
			if old, ok := seen[r.ID]; !ok || !old.Same(r) {
				contracts[r.ContractID] = true
				res.ChangedUnitRows++
			}
		}
	}
	if err := s.Store.SaveUnitRows(ctx, unitKindNames[kind], rows, cur.Cycle); err != nil {
		return classify("save unit rows", err)
	}
	for _, r := range rows {
		cur.ScanAfter[kind] = max(cur.ScanAfter[kind], r.ID)
		cur.MaxUnitID[kind] = max(cur.MaxUnitID[kind], r.ID)
	}
	if pages == 0 || len(rows) < pages*pageSize {
		return errScanKindDoneIf(pages != 0)
	}
	return nil
}

func errScanKindDoneIf(b bool) error {
	if b {
		return errScanKindDone
	}
	return nil
}

// queryRows reads unit rows of one kind (at most pages pages; 0: all), in id order of the answer.
func (s *ContractSync) queryRows(ctx context.Context, c *autotask.Client, kind int, q autotask.Query, pages int) ([]store.UnitRow, error) {
	var out []store.UnitRow
	n := 0
	stop := errors.New("enough pages")
	add := func(id int64, contract, item, units int, start, end *autotask.Time) {
		r := store.UnitRow{ID: id, ContractID: int64(contract), ItemID: int64(item), Units: int64(units)}
		if start != nil {
			r.Start = start.UTC()
		}
		if end != nil {
			r.End = end.UTC()
		}
		out = append(out, r)
	}
	var err error
	if kind == 0 {
		err = autotask.QueryPages(ctx, c, q, func(page []autotask.ContractServiceUnit) error {
			for _, u := range page {
				add(u.ID, u.ContractID, u.ServiceID, u.Units, u.StartDate, u.EndDate)
			}
			if n++; pages > 0 && n >= pages {
				return stop
			}
			return nil
		})
	} else {
		err = autotask.QueryPages(ctx, c, q, func(page []autotask.ContractServiceBundleUnit) error {
			for _, u := range page {
				add(u.ID, u.ContractID, u.ServiceBundleID, u.Units, u.StartDate, u.EndDate)
			}
			if n++; pages > 0 && n >= pages {
				return stop
			}
			return nil
		})
	}
	if err != nil && !errors.Is(err, stop) {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.UnitRow) int { return int(a.ID - b.ID) })
	return out, nil
}

// companiesOf adds the companies of the given contracts.
func (s *ContractSync) companiesOf(ctx context.Context, c *autotask.Client, contracts map[int64]bool, companies map[int64]bool) error {
	ids := keys(contracts)
	for batch := range slices.Chunk(ids, idsPerQuery) {
		err := autotask.QueryPages(ctx, c, autotask.NewQuery(autotask.In("id", batch...)).Fields("id", "companyID"), func(page []autotask.Contract) error {
			for _, k := range page {
				companies[int64(k.CompanyID)] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// notify reads the affected companies in batches and signals those whose snapshot changed.
func (s *ContractSync) notify(ctx context.Context, c *autotask.Client, companies map[int64]bool, now time.Time, res *SyncResult) error {
	ids := keys(companies)
	for batch := range slices.Chunk(ids, idsPerQuery) {
		comps, err := autotask.QueryAll[autotask.Company](ctx, c, autotask.NewQuery(autotask.In("id", batch...)).Fields("id", "companyName", "isActive"))
		if err != nil {
			return classify("read companies", err)
		}
		contracts, err := autotask.QueryAll[autotask.Contract](ctx, c, autotask.NewQuery(
			autotask.In("companyID", batch...), autotask.Eq("contractType", contractTypeRecurringService)))
		if err != nil {
			return classify("read contracts of changed companies", err)
		}
		snaps, err := BuildSnapshots(ctx, c, comps, contracts, now)
		if err != nil {
			return classify("read contract units", err)
		}
		res.CompaniesRead += len(snaps)
		if err := s.Store.SaveCompanyContracts(ctx, contractSummaries(snaps, now), now); err != nil {
			return classify("save contract summaries in the read model", err)
		}
		seen, err := s.Store.SnapshotFingerprints(ctx, batch)
		if err != nil {
			return classify("read snapshot fingerprints", err)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		notified := make([]bool, len(snaps))
		for i, snap := range snaps {
			fp := SnapshotFingerprint(snap)
			if seen[snap.CompanyID] == fp {
				continue
			}
			g.Go(func() error {
				// Signal first, then remember: a crash in between only repeats a
				// signal, which the workflow recognises as no change.
				if err := s.Customers.NotifyContracts(gctx, snap); err != nil {
					return err
				}
				notified[i] = true
				contracts, err := json.Marshal(snap.Contracts)
				if err != nil {
					return fmt.Errorf("encode contracts of company %d: %w", snap.CompanyID, err)
				}
				return s.Store.SaveSnapshotFingerprint(gctx, snap.CompanyID, fp, contracts, now)
			})
		}
		if err := g.Wait(); err != nil {
			return classify("notify customers", err)
		}
		for _, n := range notified {
			if n {
				res.CompaniesNotified++
			}
		}
		activity.RecordHeartbeat(ctx, fmt.Sprintf("notified %d companies", res.CompaniesNotified))
	}
	return nil
}

// SnapshotFingerprint identifies what a snapshot says, ignoring when it was taken.
func SnapshotFingerprint(s company.Snapshot) string {
	s.ObservedAt = time.Time{}
	raw, _ := json.Marshal(s)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16])
}

func keys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

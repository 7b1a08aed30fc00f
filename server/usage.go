package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// UsageLedger reads the usage ledger; *store.Store satisfies it.
type UsageLedger interface {
	SearchUsage(ctx context.Context, q store.UsageQuery) ([]store.UsageRecord, error)
	UsageHistory(ctx context.Context, id int64) ([]store.UsageRecord, error)
}

// UsageReporter asks the usage report workflow to run now;
// workflows.Customers satisfies it.
type UsageReporter interface {
	ReportUsageNow(ctx context.Context) error
}

// UsageList is the ledger rows matching a query (SPEC F8): one row per
// contract service, period and metric, plus its corrections.
type UsageList struct {
	Items []UsageItem `json:"items"`
	// ContractServiceIDs are the company's Autotask contract services the
	// list was narrowed to (only with companyId).
	ContractServiceIDs []int64 `json:"contractServiceIds,omitempty"`
	// Truncated says the limit cut the list; narrow the query.
	Truncated bool `json:"truncated"`
}

// UsageItem is one reported number of the ledger.
type UsageItem struct {
	ID                int64 `json:"id"`
	ContractServiceID int64 `json:"contractServiceId"`
	// PeriodStart and PeriodEnd bound the period in UTC; the end is exclusive.
	PeriodStart time.Time `json:"periodStart"`
	PeriodEnd   time.Time `json:"periodEnd"`
	Metric      string    `json:"metric"`
	// Revision is 1 for the first number of the period; corrections count up.
	Revision int         `json:"revision"`
	Raw      UsageAmount `json:"raw"`
	Billed   UsageAmount `json:"billed"`
	// Rounding is the rule that turned the raw value into the billed one.
	Rounding string `json:"rounding"`
	// AdjustmentID is the Autotask ContractServiceAdjustment written, once reported.
	AdjustmentID *int64 `json:"adjustmentId,omitempty"`
	// State is pending (not yet in Autotask), reported or superseded (by a correction).
	State string `json:"state"`
	// Reason says why a correction was made.
	Reason     string     `json:"reason,omitempty"`
	Supersedes *int64     `json:"supersedes,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	ReportedAt *time.Time `json:"reportedAt,omitempty"`
	// Source says where the number came from: an Acronis billing report
	// (report and stored copy ids) or live usage samples.
	Source usage.Source `json:"source"`
	// Estimate marks a number from live usage that a billing report has not
	// settled yet (current month).
	Estimate bool `json:"estimate"`
}

// UsageAmount is an exact decimal with its unit (bytes, GB, seats …).
type UsageAmount struct {
	Value string `json:"value"`
	Unit  string `json:"unit"`
}

// UsageExplanation answers GET /api/v1/usage/{id}: the number, where it
// came from (the Acronis usage samples), how it was converted, what was
// written to Autotask, and every revision of its period.
type UsageExplanation struct {
	UsageItem
	// Explanation says the same in one paragraph.
	Explanation string `json:"explanation"`
	// Samples are the Acronis usages the raw value was computed from.
	Samples []usage.Sample `json:"samples"`
	// Current is false when a later correction replaced this number.
	Current bool `json:"current"`
	// SupersededBy is the correction that replaced this number.
	SupersededBy *int64 `json:"supersededBy,omitempty"`
	// Chain is every revision of the period, oldest first (this one included).
	Chain []UsageRevision `json:"chain"`
}

// UsageRevision is one link of a period's correction chain.
type UsageRevision struct {
	ID           int64       `json:"id"`
	Revision     int         `json:"revision"`
	Raw          UsageAmount `json:"raw"`
	Billed       UsageAmount `json:"billed"`
	State        string      `json:"state"`
	AdjustmentID *int64      `json:"adjustmentId,omitempty"`
	Reason       string      `json:"reason,omitempty"`
	CreatedAt    time.Time   `json:"createdAt"`
}

// usageQueryParams documents GET /api/v1/usage.
var usageQueryParams = []queryParam{
	{"companyId", "only the contract services of this Autotask company's contracts (read from Autotask)"},
	{"contractServiceId", "only this Autotask contract service"},
	{"from", "periods starting at or after this instant (RFC 3339 or YYYY-MM-DD, UTC)"},
	{"to", "periods ending at or before this instant (RFC 3339 or YYYY-MM-DD, UTC)"},
	{"state", "pending, reported or superseded"},
	{"metric", "offering item or storage metric, e.g. class2_billed"},
	{"limit", fmt.Sprintf("1–%d, default 500", store.MaxUsagePage)},
}

func (s *Server) listUsage(c echo.Context) error {
	q := queryParams{c: c}
	var f store.UsageQuery
	companyID, byCompany := positiveIDParam(&q, "companyId")
	serviceID, byService := positiveIDParam(&q, "contractServiceId")
	f.From, f.To = timeParam(&q, "from"), timeParam(&q, "to")
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		q.fail("to", "must be after from")
	}
	switch st := c.QueryParam("state"); st {
	case "", store.UsagePending, store.UsageReported, store.UsageSuperseded:
		f.State = st
	default:
		q.fail("state", "must be pending, reported or superseded")
	}
	f.Metric = q.text("metric")
	f.Limit = int(q.int("limit", 500, 1, store.MaxUsagePage))
	if err := q.err(); err != nil {
		return err
	}
	ledger, err := s.usageLedger()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	out := UsageList{Items: []UsageItem{}}
	if byService {
		f.ContractServiceIDs = []int64{serviceID}
	}
	if byCompany {
		ids, err := s.companyContractServices(ctx, companyID)
		if err != nil {
			return err
		}
		out.ContractServiceIDs = ids
		if byService {
			ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return id != serviceID })
		}
		f.ContractServiceIDs = ids
		if f.ContractServiceIDs == nil {
			f.ContractServiceIDs = []int64{}
		}
	}
	limit := f.Limit
	f.Limit = limit + 1
	rows, err := ledger.SearchUsage(ctx, f)
	if err != nil {
		return fmt.Errorf("list usage: %w", err)
	}
	if len(rows) > limit {
		rows, out.Truncated = rows[:limit], true
	}
	for _, r := range rows {
		out.Items = append(out.Items, usageItem(r))
	}
	return c.JSON(http.StatusOK, out)
}

// companyContractServices reads the contract services of a company's
// contracts from Autotask: the ledger is keyed by contract service, which
// belongs to one contract of one company.
func (s *Server) companyContractServices(ctx context.Context, companyID int64) ([]int64, error) {
	at, err := s.autotaskClient(ctx)
	if err != nil {
		return nil, err
	}
	contracts, err := autotask.QueryAll[autotask.Contract](ctx, at, autotask.NewQuery(autotask.Eq("companyID", companyID)).Fields("id"))
	if err != nil {
		return nil, fmt.Errorf("read the contracts of company %d: %w", companyID, err)
	}
	cids := make([]int64, 0, len(contracts))
	for _, c := range contracts {
		cids = append(cids, c.ID)
	}
	var out []int64
	for batch := range slices.Chunk(cids, autotask.MaxPageSize) {
		err := autotask.QueryPages(ctx, at, autotask.NewQuery(autotask.In("contractID", batch...)).Fields("id"), func(page []autotask.ContractService) error {
			for _, cs := range page {
				out = append(out, cs.ID)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read the contract services of company %d: %w", companyID, err)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *Server) getUsage(c echo.Context) error {
	raw := c.Param("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return invalid("the usage id in the path must be a positive integer",
			settings.FieldError{Field: "id", Message: "must be a positive integer (a ledger row id)"})
	}
	ledger, err := s.usageLedger()
	if err != nil {
		return err
	}
	chain, err := ledger.UsageHistory(c.Request().Context(), id)
	if err != nil {
		return fmt.Errorf("read usage %d: %w", id, err)
	}
	return c.JSON(http.StatusOK, explainUsage(id, chain))
}

// explainUsage describes row id of its period's chain.
func explainUsage(id int64, chain []store.UsageRecord) UsageExplanation {
	out := UsageExplanation{Chain: make([]UsageRevision, 0, len(chain)), Samples: []usage.Sample{}}
	var row store.UsageRecord
	for _, r := range chain {
		out.Chain = append(out.Chain, UsageRevision{ID: r.ID, Revision: r.Revision, Raw: UsageAmount{r.RawValue, r.RawUnit},
			Billed: UsageAmount{r.BilledValue, r.BilledUnit}, State: r.State, AdjustmentID: r.AdjustmentID, Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()})
		if r.ID == id {
			row = r
		}
		if r.Supersedes != nil && *r.Supersedes == id {
			next := r.ID
			out.SupersededBy = &next
		}
	}
	out.UsageItem = usageItem(row)
	out.Current = row.State != store.UsageSuperseded
	if len(row.Samples) > 0 {
		if err := json.Unmarshal(row.Samples, &out.Samples); err != nil || out.Samples == nil {
			out.Samples = []usage.Sample{}
		}
	}
	out.Explanation = explanation(row, out)
	return out
}

func explanation(r store.UsageRecord, e UsageExplanation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s of contract service %d for the period %s to %s (UTC, end exclusive), revision %d: ",
		r.Metric, r.ContractServiceID, r.PeriodStart.UTC().Format(time.DateOnly), r.PeriodEnd.UTC().Format(time.DateOnly), r.Revision)
	fmt.Fprintf(&b, "%s %s from %s", r.RawValue, r.RawUnit, e.Source.Describe())
	if r.Rounding != "" {
		fmt.Fprintf(&b, ", converted by %q", r.Rounding)
	}
	fmt.Fprintf(&b, " to %s %s billed.", r.BilledValue, r.BilledUnit)
	if r.Estimate {
		b.WriteString(" This is an estimate: the period's Acronis billing report settles it once the month is closed, and a different number then becomes a correction with the reason \"billing report\".")
	}
	if r.Supersedes != nil {
		fmt.Fprintf(&b, " It corrects ledger row %d: %s.", *r.Supersedes, strings.TrimSuffix(r.Reason, "."))
	}
	switch {
	case r.AdjustmentID != nil && r.ReportedAt != nil:
		fmt.Fprintf(&b, " Written to Autotask as contract service adjustment %d on %s.", *r.AdjustmentID, r.ReportedAt.UTC().Format(time.RFC3339))
	case r.AdjustmentID != nil:
		fmt.Fprintf(&b, " Written to Autotask as contract service adjustment %d.", *r.AdjustmentID)
	case r.State == store.UsagePending:
		b.WriteString(" Not yet written to Autotask: the next usage report writes it (POST /api/v1/usage/report-now runs one at once).")
	default:
		b.WriteString(" Never written to Autotask.")
	}
	if e.SupersededBy != nil {
		fmt.Fprintf(&b, " Superseded by ledger row %d, which holds the current number.", *e.SupersededBy)
	}
	return b.String()
}

func usageItem(r store.UsageRecord) UsageItem {
	it := UsageItem{ID: r.ID, ContractServiceID: r.ContractServiceID, PeriodStart: r.PeriodStart.UTC(), PeriodEnd: r.PeriodEnd.UTC(),
		Metric: r.Metric, Revision: r.Revision, Raw: UsageAmount{r.RawValue, r.RawUnit}, Billed: UsageAmount{r.BilledValue, r.BilledUnit},
		Rounding: r.Rounding, AdjustmentID: r.AdjustmentID, State: r.State, Reason: r.Reason, Supersedes: r.Supersedes,
		CreatedAt: r.CreatedAt.UTC(), Estimate: r.Estimate}
	if len(r.Source) > 0 {
		_ = json.Unmarshal(r.Source, &it.Source) // {} (rows before sources were kept) leaves Kind empty
	}
	if r.ReportedAt != nil {
		at := r.ReportedAt.UTC()
		it.ReportedAt = &at
	}
	return it
}

func (s *Server) postUsageReportNow(c echo.Context) error {
	if s.deps.UsageReport == nil {
		return fmt.Errorf("Temporal client: %w", errNotWired)
	}
	ctx := c.Request().Context()
	if err := s.deps.UsageReport.ReportUsageNow(ctx); err != nil {
		return fmt.Errorf("report usage now: %w", err)
	}
	s.deps.Logger.InfoContext(ctx, "usage report requested", "actor", actorOf(c))
	return c.JSON(http.StatusAccepted, Accepted{Message: "the usage report runs now; GET /api/v1/usage shows the numbers as they are recorded"})
}

func (s *Server) usageLedger() (UsageLedger, error) {
	if s.deps.Usage == nil {
		return nil, fmt.Errorf("usage ledger: %w", errNotWired)
	}
	return s.deps.Usage, nil
}

package activities

// This file writes pending ledger rows to Autotask (ReportUsage) and audits
// runs; collecting usage is in usage_collect.go.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// ReportUsage writes pending ledger rows to Autotask as
// ContractServiceAdjustments. A retry never creates a second adjustment:
//
//  1. a row that is no longer pending (marked reported by an earlier attempt,
//     or superseded by a correction) is not written;
//  2. an adjustment id an earlier attempt heartbeated for the row is marked
//     reported without writing;
//  3. otherwise the units in effect at the row's effective date are read
//     from ContractServiceUnits and unitChange = billed − those units
//     (usage.Delta). Zero means Autotask already shows the billed value (an
//     earlier attempt wrote it and its answer was lost, or nothing changed):
//     nothing is written and the row stays pending (outcome in-effect);
//  4. after a create the adjustment id is heartbeated at once, then the row
//     is marked reported with it;
//  5. in shadow mode the create is only recorded and the row stays pending.
//
// This is safe because each contract service has one writer: the usage
// report workflow, whose batches are disjoint by company, is the only code
// that adjusts pay-as-you-go and overage services.
func (u *Usage) ReportUsage(ctx context.Context, in UsageWriteInput) (UsageWriteResult, error) {
	out := UsageWriteResult{Rows: make([]UsageWriteOutcome, len(in.Rows))}
	if len(in.Rows) == 0 {
		return out, nil
	}
	done := map[int64]int64{} // ledger id → adjustment id, carried across attempts
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &done); err != nil {
			done = map[int64]int64{}
		}
	}
	c, err := u.Autotask(ctx)
	if err != nil {
		return out, err
	}
	levels, err := u.levels(ctx, c, in.Rows)
	if err != nil {
		return out, err
	}
	for i, row := range in.Rows {
		res := &out.Rows[i]
		res.LedgerID, res.CompanyID = row.LedgerID, row.CompanyID
		cur, err := u.Store.GetUsage(ctx, row.LedgerID)
		if err != nil {
			res.Outcome, res.Error = UsageFailed, fmt.Sprintf("read ledger row %d: %v", row.LedgerID, err)
			continue
		}
		switch {
		case cur.AdjustmentID != nil:
			res.Outcome, res.AdjustmentID = UsageAlreadyReported, *cur.AdjustmentID
			continue
		case cur.State == store.UsageSuperseded:
			res.Outcome = UsageSuperseded
			continue
		}
		if adj, ok := done[row.LedgerID]; ok {
			if _, err := u.Store.MarkReported(ctx, row.LedgerID, adj); err != nil {
				return out, fmt.Errorf("mark usage %d reported as adjustment %d: %w", row.LedgerID, adj, err)
			}
			res.Outcome, res.AdjustmentID = UsageWritten, adj
			continue
		}
		before := levels[levelKey{row.ContractServiceID, row.EffectiveDate.Unix()}]
		delta, err := usage.Delta(row.Billed, before)
		if err != nil {
			res.Outcome, res.Error = UsageFailed, err.Error()
			continue
		}
		if delta == 0 {
			res.Outcome = UsageInEffect
			continue
		}
		adj, err := c.CreateContractServiceAdjustment(ctx, autotask.ContractServiceAdjustment{ContractID: int(row.ContractID),
			ServiceID: int(row.ServiceID), UnitChange: delta, EffectiveDate: autotask.Date(row.EffectiveDate)})
		if err != nil {
			cerr := classify(fmt.Sprintf("adjust contract service %d by %d", row.ContractServiceID, delta), err)
			if _, ok := throttled(err); ok {
				return out, cerr // retry the whole activity later; written rows are safe (rule 1–3)
			}
			res.Outcome, res.Error = UsageFailed, cerr.Error()
			continue
		}
		if c.Gated() {
			// Shadow mode recorded the adjustment: the row stays pending, so the
			// first live run writes it (its id is a placeholder, not Autotask's).
			res.Outcome, res.UnitChange = UsageShadow, delta
			continue
		}
		done[row.LedgerID] = adj
		activity.RecordHeartbeat(ctx, done)
		levels[levelKey{row.ContractServiceID, row.EffectiveDate.Unix()}] = row.Billed
		if _, err := u.Store.MarkReported(ctx, row.LedgerID, adj); err != nil {
			return out, fmt.Errorf("mark usage %d reported as adjustment %d: %w", row.LedgerID, adj, err)
		}
		res.Outcome, res.UnitChange, res.AdjustmentID = UsageWritten, delta, adj
		u.audit(ctx, row, before, delta, adj)
	}
	return out, nil
}

type levelKey struct {
	contractService int64
	effective       int64
}

// levels reads the units in effect at each row's effective date.
func (u *Usage) levels(ctx context.Context, c *autotask.Client, rows []PendingUsage) (map[levelKey]int64, error) {
	byEff := map[time.Time][]int64{}
	for _, r := range rows {
		if !slices.Contains(byEff[r.EffectiveDate], r.ContractID) {
			byEff[r.EffectiveDate] = append(byEff[r.EffectiveDate], r.ContractID)
		}
	}
	out := map[levelKey]int64{}
	for eff, ids := range byEff {
		slices.Sort(ids)
		units, err := unitsAt(ctx, c, ids, eff)
		if err != nil {
			return nil, classify("read contract service units before reporting usage", err)
		}
		for _, cs := range units {
			out[levelKey{cs.ContractServiceID, eff.Unix()}] = cs.Units
		}
	}
	return out, nil
}

// audit records one usage write. Best effort: the write happened and the
// ledger holds it; failing now would only repeat work.
func (u *Usage) audit(ctx context.Context, row PendingUsage, before int64, delta int, adj int64) {
	e := store.AuditEntry{Actor: "usage-report", Kind: auditUsageAdjust, System: "autotask", CompanyID: &row.CompanyID, ContractID: &row.ContractID,
		Target: fmt.Sprintf("contract-service:%d", row.ContractServiceID),
		Reason: fmt.Sprintf("%s usage: %d %s from %s (ledger row %d, adjustment %d, unit change %+d)", row.Metric, row.Billed, row.BilledUnit,
			row.EffectiveDate.Format("2006-01-02"), row.LedgerID, adj, delta),
		Before: mustJSON(map[string]any{"units": before}), After: mustJSON(map[string]any{"units": row.Billed, "adjustmentId": adj})}
	if err := u.Store.AppendAudit(ctx, e); err != nil {
		activity.GetLogger(ctx).Error("audit log write failed", "kind", auditUsageAdjust, "error", err)
	}
}

// RecordUsageRun audits a finished run so operators see each report in the audit log.
func (u *Usage) RecordUsageRun(ctx context.Context, s UsageRunSummary) error {
	e := store.AuditEntry{Actor: "usage-report", Kind: auditUsageRun, System: "admin", Target: "usage-report",
		Reason: fmt.Sprintf("usage for %s: %d customers, %d written, %d failed", s.Period, s.Customers, s.Written, len(s.Failed)),
		After:  mustJSON(s)}
	if err := u.Store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("record usage run for %s: %w", s.Period, err)
	}
	return nil
}

package usage

import (
	"fmt"
	"strings"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
)

// Where a ledger number came from.
const (
	// SourceReport: an Acronis usage report (billing grade, reference §5.2).
	SourceReport = "report"
	// SourceLive: the live usage endpoint, refreshed every few hours and,
	// Acronis says, not for billing (reference §5.1): an estimate.
	SourceLive = "live"
)

// Source is the provenance of one ledger row, kept with it so
// GET /api/v1/usage/{id} can say where the number came from.
type Source struct {
	Kind string `json:"kind"`
	// ReportID and StoredID name the report and its downloaded stored copy.
	ReportID string `json:"reportId,omitempty"`
	StoredID string `json:"storedId,omitempty"`
	// ReportPeriod is the report's period, both dates included.
	ReportPeriod string `json:"reportPeriod,omitempty"`
	// ObservedAt is when live samples were read.
	ObservedAt time.Time `json:"observedAt,omitzero"`
	// Samples is how many Acronis usages the number sums.
	Samples int `json:"samples"`
}

// Describe says the same in words.
func (s Source) Describe() string {
	switch s.Kind {
	case SourceReport:
		return fmt.Sprintf("Acronis billing report %s (stored copy %s, period %s), %d usage row(s)", s.ReportID, s.StoredID, s.ReportPeriod, s.Samples)
	case SourceLive:
		return fmt.Sprintf("%d live Acronis usage sample(s) read at %s (an estimate: live usage is not billing grade)",
			s.Samples, s.ObservedAt.UTC().Format(time.RFC3339))
	}
	return "live Acronis usage samples (recorded before sources were kept)"
}

// ReportRef names the saved report a closed period is settled from.
type ReportRef struct {
	// RowID is the integration's usage_reports row.
	RowID    int64  `json:"rowId"`
	ReportID string `json:"reportId"`
	StoredID string `json:"storedId"`
	// Period is the billing period it covers.
	Period Period `json:"period"`
}

// Source is the provenance of numbers read from the report.
func (r ReportRef) Source(samples int) Source {
	return Source{Kind: SourceReport, ReportID: r.ReportID, StoredID: r.StoredID, ReportPeriod: ReportDates(r.Period), Samples: samples}
}

// ReportDates renders a period as a report's inclusive dates: [Start, End)
// is reported from Start's date to the day before End.
func ReportDates(p Period) string {
	s, e := ReportStartEnd(p)
	return s + " – " + e
}

// ReportStartEnd are the report period's start and end dates (both included).
func ReportStartEnd(p Period) (string, string) {
	return p.Start.UTC().Format(time.DateOnly), p.End.UTC().AddDate(0, 0, -1).Format(time.DateOnly)
}

type sampleKey struct{ tenant, item, infra string }

// FromReport settles live samples with a billing report's figures: every
// sample of a tenant in tenants takes the report's production figure for
// the same tenant, item and infra, or 0 when the report has no such row (no
// production usage: the tenant was in trial, or the item was unused). The
// live sample still supplies the usage name, unit and quota, which the
// report's csv_v2_0 columns do not carry; report rows without a live sample
// are added with the item name as usage name and bytes for infra items
// (storage), a count otherwise.
func FromReport(live []Sample, rows []acronis.ReportUsage, tenants map[string]bool) []Sample {
	byKey := map[sampleKey]acronis.ReportUsage{}
	for _, r := range rows {
		t := strings.ToLower(r.TenantID)
		if !tenants[t] {
			continue
		}
		byKey[sampleKey{t, r.Name, r.InfraID}] = r
	}
	seen := map[sampleKey]bool{}
	out := make([]Sample, 0, len(live))
	for _, s := range live {
		k := sampleKey{strings.ToLower(s.TenantID), s.Item, s.InfraID}
		if !tenants[k.tenant] {
			out = append(out, s)
			continue
		}
		seen[k] = true
		s.Value, s.Trial, s.From = "0", "", SourceReport
		if r, ok := byKey[k]; ok {
			s.Value, s.Trial = r.Production, r.Trial
		}
		s.RangeStart = time.Time{}
		out = append(out, s)
	}
	for _, r := range rows {
		k := sampleKey{strings.ToLower(r.TenantID), r.Name, r.InfraID}
		if !tenants[k.tenant] || seen[k] {
			continue
		}
		seen[k] = true
		unit := UnitQuantity
		if r.InfraID != "" {
			unit = UnitBytes
		}
		out = append(out, Sample{TenantID: r.TenantID, Item: r.Name, UsageName: r.Name, InfraID: r.InfraID, Unit: unit,
			Value: r.Production, Current: r.Total, Trial: r.Trial, From: SourceReport})
	}
	return out
}

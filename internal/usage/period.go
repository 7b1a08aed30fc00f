// Package usage turns Acronis usage into the numbers reported to Autotask for
// pay-as-you-go billing (SPEC F2, F8): which period a run reports, how raw
// usage converts into billed units, how storage metrics and sub-partner
// totals are derived, and how much must still be written so nothing is billed
// twice. It is pure (no I/O, no clock) so every rule is tested alone and
// workflows may call it deterministically.
//
// All dates are UTC: a month is [the 1st 00:00 UTC, the next 1st 00:00 UTC).
// Autotask keeps date-only fields as sent and Acronis collects usage in UTC,
// so any other zone would shift a period by a day for someone.
//
// Numbers come from two places (source.go). Closed periods are settled from
// an Acronis usage report for exactly that period, which is billing grade
// (reference/acronis-api.md §5.2). The current month so far comes from the
// live usage endpoint (GET /tenants/usages), which Acronis refreshes every
// few hours and calls unfit for billing: those numbers are estimates until
// the month's report settles them. Each sample keeps its range_start and
// each ledger row its source, for the record.
package usage

import (
	"fmt"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

// Setting is the usage reporting period of the integration settings (F2).
type Setting struct {
	Period settings.UsagePeriod `json:"period"`
	// BillingDay (1–28) is the day a custom billing month starts.
	BillingDay int `json:"billingDay,omitempty"`
}

// SettingFrom reads the reporting period from the settings document.
func SettingFrom(s settings.UsageReporting) Setting {
	return Setting{Period: s.Period, BillingDay: s.BillingDay}
}

// Validate rejects settings no period can be computed for; the settings
// validation already refuses them, this guards callers that build a Setting.
func (s Setting) Validate() error {
	switch s.Period {
	case settings.PeriodCurrentMonth, settings.PeriodPreviousMonth:
		return nil
	case settings.PeriodCustomBillingMonth:
		if s.BillingDay < 1 || s.BillingDay > 28 {
			return fmt.Errorf("usage setting: billing day %d is not between 1 and 28", s.BillingDay)
		}
		return nil
	}
	return fmt.Errorf("usage setting: unknown reporting period %q", s.Period)
}

// Period is a reporting period [Start, End) in UTC.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// String renders the period for logs, audit rows and reasons.
func (p Period) String() string {
	return p.Start.UTC().Format("2006-01-02") + " – " + p.End.UTC().Add(-time.Nanosecond).Format("2006-01-02")
}

// IsZero reports whether the period is unset.
func (p Period) IsZero() bool { return p.Start.IsZero() && p.End.IsZero() }

// Contains reports whether t falls in [Start, End).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

func monthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// PeriodFor returns the period a run at now reports and whether a run is due
// at now at all:
//
//   - current_month: due every day; the calendar month of the last instant
//     before now, so the run at 00:00 on the 1st still reports the whole
//     month that just ended and later runs report the new month so far;
//   - previous_month: due every day; the calendar month before now's month;
//   - custom_billing_month with day D: due only on day D; the month ending the
//     day before D, [D of the previous month, D of this month). D = 1 is the
//     previous calendar month.
//
// An invalid setting (see Validate) is never due.
func PeriodFor(s Setting, now time.Time) (Period, bool) {
	now = now.UTC()
	switch s.Period {
	case settings.PeriodCurrentMonth:
		start := monthStart(now.Add(-time.Nanosecond))
		return Period{Start: start, End: start.AddDate(0, 1, 0)}, true
	case settings.PeriodPreviousMonth:
		end := monthStart(now)
		return Period{Start: end.AddDate(0, -1, 0), End: end}, true
	case settings.PeriodCustomBillingMonth:
		if s.Validate() != nil {
			return Period{}, false
		}
		d := s.BillingDay
		end := time.Date(now.Year(), now.Month(), d, 0, 0, 0, 0, time.UTC)
		if now.Before(end) {
			end = end.AddDate(0, -1, 0) // D ≤ 28 exists in every month, so AddDate never normalises
		}
		return Period{Start: end.AddDate(0, -1, 0), End: end}, now.Day() == d
	}
	return Period{}, false
}

// NextRun returns the next instant strictly after now at which a run is due:
// the next midnight UTC for the daily periods, midnight of the next day D for
// a custom billing month. Times are absolute so a durable timer survives
// worker restarts and continue-as-new without drifting.
func NextRun(s Setting, now time.Time) time.Time {
	next := midnight(now).AddDate(0, 0, 1)
	if s.Period != settings.PeriodCustomBillingMonth || s.Validate() != nil {
		return next
	}
	d := s.BillingDay
	at := time.Date(next.Year(), next.Month(), d, 0, 0, 0, 0, time.UTC)
	if at.Before(next) {
		at = at.AddDate(0, 1, 0)
	}
	return at
}

// EffectiveDate is the Autotask effectiveDate (a date) of an adjustment
// reporting p from a run at now: the period start, except for current_month,
// which reports "so far" and so takes effect today, kept inside the period
// (the run at 00:00 on the 1st reports the month that ended yesterday).
func EffectiveDate(s Setting, p Period, now time.Time) time.Time {
	if s.Period != settings.PeriodCurrentMonth {
		return midnight(p.Start)
	}
	day := midnight(now)
	if last := midnight(p.End.Add(-time.Nanosecond)); day.After(last) {
		day = last
	}
	if day.Before(p.Start) {
		day = midnight(p.Start)
	}
	return day
}

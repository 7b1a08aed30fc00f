package usage

import (
	"fmt"
	"time"
)

// Prorate applies the first/last period rule: a contract that starts or ends
// inside a period is billed only for the days it was active. With A active
// days out of the period's D days, the billed units become
// ceil(billed × A / D) — rounded up like the unit conversion, so a partial
// period never bills less than its share. The contract's dates are
// Autotask dates: its start day and its end day both count as active. A
// zero start or end is open. It returns the billed units and, when the
// period was prorated, the rule in words for the ledger's rounding note
// (shown by GET /api/v1/usage/{id}); "" when the whole period was active.
func Prorate(billed int64, p Period, start, end time.Time) (int64, string) {
	from, to := midnight(p.Start), midnight(p.End)
	total := days(from, to)
	if !start.IsZero() && midnight(start).After(from) {
		from = midnight(start)
	}
	if !end.IsZero() {
		if e := midnight(end).AddDate(0, 0, 1); e.Before(to) {
			to = e
		}
	}
	active := max(days(from, to), 0)
	if total <= 0 || active >= total {
		return billed, ""
	}
	prorated := (billed*int64(active) + int64(total) - 1) / int64(total)
	return prorated, fmt.Sprintf("prorated: %d of %d days active (contract %s – %s), ceil(%d × %d / %d) = %d",
		active, total, dateOrOpen(start), dateOrOpen(end), billed, active, total, prorated)
}

// days counts the calendar days in [from, to); UTC days have no DST gaps.
func days(from, to time.Time) int { return int(to.Sub(from).Hours() / 24) }

func dateOrOpen(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return t.UTC().Format(time.DateOnly)
}

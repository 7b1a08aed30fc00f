package usage

import (
	"strings"
	"testing"
	"time"
)

func TestProrate_FirstAndLastPeriodsByActiveDays(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	feb28 := Period{Start: d(2028, 2, 1), End: d(2028, 3, 1)} // leap year: 29 days
	custom := Period{Start: d(2026, 12, 28), End: d(2027, 1, 28)}
	for _, c := range []struct {
		name       string
		p          Period
		start, end time.Time
		billed     int64
		want       int64
		prorated   bool
	}{
		{"whole period", feb28, d(2027, 1, 1), time.Time{}, 29, 29, false},
		{"starts on the 15th of a leap February: 15 of 29 days", feb28, d(2028, 2, 15), time.Time{}, 29, 15, true},
		{"ends on the 10th: the end day counts", feb28, time.Time{}, d(2028, 2, 10), 29, 10, true},
		{"rounds up", feb28, d(2028, 2, 29), time.Time{}, 10, 1, true},
		{"custom day 28 across the year end: starts Jan 1, 27 of 31 days", custom, d(2027, 1, 1), time.Time{}, 31, 27, true},
		{"ends before the period: nothing", feb28, time.Time{}, d(2028, 1, 31), 10, 0, true},
		{"ends on the last day: whole period", feb28, d(2020, 1, 1), d(2028, 2, 29), 7, 7, false},
	} {
		got, rule := Prorate(c.billed, c.p, c.start, c.end)
		if got != c.want || (rule != "") != c.prorated {
			t.Errorf("%s: %d %q, want %d (prorated %v)", c.name, got, rule, c.want, c.prorated)
		}
		if c.prorated && !strings.Contains(rule, "days active") {
			t.Errorf("%s: rule %q does not say the days", c.name, rule)
		}
	}
}

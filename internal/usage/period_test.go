package usage

import (
	"testing"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

func at(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
func day(y int, m time.Month, d int) time.Time   { return at(y, m, d, 0) }

var (
	current  = Setting{Period: settings.PeriodCurrentMonth}
	previous = Setting{Period: settings.PeriodPreviousMonth}
)

func custom(d int) Setting { return Setting{Period: settings.PeriodCustomBillingMonth, BillingDay: d} }

func TestPeriodFor_EachSettingAcrossMonthAndYearEnds(t *testing.T) {
	tests := []struct {
		name       string
		s          Setting
		now        time.Time
		start, end time.Time
		due        bool
	}{
		{"current mid-month", current, at(2026, 11, 24, 15), day(2026, 11, 1), day(2026, 12, 1), true},
		{"current at midnight of the 1st reports the month that ended", current, day(2026, 12, 1), day(2026, 11, 1), day(2026, 12, 1), true},
		{"current just after midnight of the 1st is the new month", current, day(2026, 12, 1).Add(time.Second), day(2026, 12, 1), day(2027, 1, 1), true},
		{"current at new year", current, day(2027, 1, 1), day(2026, 12, 1), day(2027, 1, 1), true},
		{"current in a leap February", current, at(2028, 2, 29, 12), day(2028, 2, 1), day(2028, 3, 1), true},
		{"previous mid-month", previous, at(2026, 11, 24, 15), day(2026, 10, 1), day(2026, 11, 1), true},
		{"previous in January is December", previous, at(2027, 1, 15, 3), day(2026, 12, 1), day(2027, 1, 1), true},
		{"previous in March of a leap year is February with the 29th", previous, day(2028, 3, 1), day(2028, 2, 1), day(2028, 3, 1), true},
		{"custom D=1 on the 1st is the previous calendar month", custom(1), day(2026, 12, 1), day(2026, 11, 1), day(2026, 12, 1), true},
		{"custom D=1 on the 2nd is not due", custom(1), day(2026, 12, 2), day(2026, 11, 1), day(2026, 12, 1), false},
		{"custom D=1 on new year's day", custom(1), at(2027, 1, 1, 9), day(2026, 12, 1), day(2027, 1, 1), true},
		{"custom D=15 on the 15th", custom(15), at(2026, 11, 15, 6), day(2026, 10, 15), day(2026, 11, 15), true},
		{"custom D=15 before the 15th is the month before", custom(15), day(2026, 11, 14), day(2026, 9, 15), day(2026, 10, 15), false},
		{"custom D=15 in January crosses the year", custom(15), day(2027, 1, 15), day(2026, 12, 15), day(2027, 1, 15), true},
		{"custom D=28 in February", custom(28), day(2026, 2, 28), day(2026, 1, 28), day(2026, 2, 28), true},
		{"custom D=28 in a leap March covers Feb 29", custom(28), day(2028, 3, 28), day(2028, 2, 28), day(2028, 3, 28), true},
		{"custom D=28 on Feb 29 is not due", custom(28), day(2028, 2, 29), day(2028, 1, 28), day(2028, 2, 28), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, due := PeriodFor(tt.s, tt.now)
			if !p.Start.Equal(tt.start) || !p.End.Equal(tt.end) || due != tt.due {
				t.Errorf("PeriodFor(%+v, %s) = [%s, %s) due=%v, want [%s, %s) due=%v", tt.s, tt.now, p.Start, p.End, due, tt.start, tt.end, tt.due)
			}
		})
	}
}

func TestPeriodFor_InvalidSettingIsNeverDue(t *testing.T) {
	for _, s := range []Setting{custom(0), custom(29), {Period: "weekly"}} {
		if _, due := PeriodFor(s, day(2026, 11, 1)); due {
			t.Errorf("PeriodFor(%+v) is due, want never", s)
		}
		if err := s.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", s)
		}
	}
}

func TestNextRun_DailyAndMonthly(t *testing.T) {
	tests := []struct {
		name string
		s    Setting
		now  time.Time
		want time.Time
	}{
		{"daily goes to the next midnight", current, at(2026, 11, 24, 15), day(2026, 11, 25)},
		{"daily at midnight waits a whole day", previous, day(2026, 11, 25), day(2026, 11, 26)},
		{"daily over the year end", current, at(2026, 12, 31, 23), day(2027, 1, 1)},
		{"daily over Feb 28 of a leap year", current, at(2028, 2, 28, 1), day(2028, 2, 29)},
		{"D=1 from mid-month is the next 1st", custom(1), at(2026, 11, 24, 15), day(2026, 12, 1)},
		{"D=1 at the run itself is a month later", custom(1), day(2026, 12, 1), day(2027, 1, 1)},
		{"D=1 late on new year's eve", custom(1), at(2026, 12, 31, 23), day(2027, 1, 1)},
		{"D=28 from January 29 skips to February 28", custom(28), day(2026, 1, 29), day(2026, 2, 28)},
		{"D=28 from Feb 28 of a leap year is March 28", custom(28), at(2028, 2, 28, 0).Add(time.Minute), day(2028, 3, 28)},
		{"D=15 earlier in the month is this month", custom(15), at(2026, 11, 3, 8), day(2026, 11, 15)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextRun(tt.s, tt.now)
			if !got.Equal(tt.want) {
				t.Errorf("NextRun(%+v, %s) = %s, want %s", tt.s, tt.now, got, tt.want)
			}
			if _, due := PeriodFor(tt.s, got); !due {
				t.Errorf("the next run %s is not due", got)
			}
		})
	}
}

func TestEffectiveDate_PeriodStartOrTodayInsideTheMonth(t *testing.T) {
	oct := Period{Start: day(2026, 10, 1), End: day(2026, 11, 1)}
	tests := []struct {
		name string
		s    Setting
		p    Period
		now  time.Time
		want time.Time
	}{
		{"previous month starts at the period start", previous, oct, at(2026, 11, 5, 0), day(2026, 10, 1)},
		{"custom month starts at the period start", custom(15), Period{Start: day(2026, 10, 15), End: day(2026, 11, 15)}, day(2026, 11, 15), day(2026, 10, 15)},
		{"current month is today", current, oct, at(2026, 10, 20, 0), day(2026, 10, 20)},
		{"current month's last report stays in the month", current, oct, day(2026, 11, 1), day(2026, 10, 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EffectiveDate(tt.s, tt.p, tt.now); !got.Equal(tt.want) {
				t.Errorf("EffectiveDate = %s, want %s", got, tt.want)
			}
		})
	}
}

package autotask

import (
	"bytes"
	"fmt"
	"time"
)

// Time is an Autotask timestamp. The REST API stores UTC and answers either
// with a zone designator ("2023-03-17T10:32:29.52Z") or without one
// ("2024-01-31T15:04:05.307"); both decode, zone-less values as UTC.
type Time struct{ time.Time }

// timeLayouts are tried in order when decoding.
var timeLayouts = [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

// NewTime wraps t (converted to UTC) for a request body.
func NewTime(t time.Time) *Time { return &Time{t.UTC()} }

// Date is midnight UTC of t's calendar date, for date-only fields such as
// ContractServiceAdjustments.effectiveDate, which Autotask keeps as sent.
func Date(t time.Time) *Time {
	y, m, d := t.Date()
	return &Time{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseTime parses any timestamp form Autotask answers with.
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("autotask: unrecognised timestamp %q", s)
}

// FormatTime renders t the way Autotask answers: UTC, RFC 3339 with "Z".
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// MarshalJSON writes the UTC RFC 3339 form.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatTime(t.Time) + `"`), nil
}

// UnmarshalJSON accepts null, RFC 3339 and zone-less timestamps.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("autotask: timestamp is not a string: %s", b)
	}
	parsed, err := ParseTime(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

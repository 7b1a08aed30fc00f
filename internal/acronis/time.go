package acronis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Time is an Acronis timestamp. The APIs write RFC 3339 with up to nanoseconds
// ("2023-11-07T14:39:57.556577425Z") and, in some places, without a zone
// ("2020-08-04T12:47:03", read as UTC); null decodes to the zero Time.
type Time struct{ time.Time }

// zoneless is the layout Acronis uses for some dates (pricing, legacy fields).
const zoneless = "2006-01-02T15:04:05"

// UnmarshalJSON accepts both layouts and null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("acronis: timestamp %s is not a string: %w", b, err)
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}

// MarshalJSON writes RFC 3339 with nanoseconds, or null for the zero Time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// ParseTime reads an Acronis timestamp in either layout; "" is the zero time.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(zoneless, s, time.UTC); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("acronis: unreadable timestamp %q", s)
}

// Paging is the cursor block of list answers: pass Cursors.After as "after"
// (with only "limit") to get the next page; no After means the last page.
type Paging struct {
	Cursors Cursors `json:"cursors"`
}

// Cursors are the opaque page cursors; they encode every filter of the query.
type Cursors struct {
	After  string `json:"after,omitempty"`
	Before string `json:"before,omitempty"`
}

// Package shadow is shadow mode (issue 14 item 5): with settings mode
// "shadow" every workflow runs, but each write to Autotask or Acronis is
// recorded as a Write instead of being sent, so an MSP can run the
// integration beside another one for a billing cycle and compare.
package shadow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Vendors whose writes are gated.
const (
	VendorAcronis  = "acronis"
	VendorAutotask = "autotask"
)

// Write is one write the integration would have made.
type Write struct {
	// CompanyID is the Autotask company the write is for; 0 when unknown.
	CompanyID int64  `json:"companyId,omitempty"`
	Vendor    string `json:"vendor"`
	// Operation is the HTTP method and the API path template, e.g. "POST /api/2/tenants".
	Operation string `json:"operation"`
	// Target is the record written, e.g. "tenant:<id>" or "Tickets".
	Target string `json:"target"`
	// Payload summarises the request body; secrets never reach it.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Warnings are the customer plan's warnings when the write was planned.
	Warnings   []string  `json:"warnings,omitempty"`
	WorkflowID string    `json:"workflowId,omitempty"`
	Activity   string    `json:"activity,omitempty"`
	FirstAt    time.Time `json:"firstAt"`
	LastAt     time.Time `json:"lastAt"`
}

// Key is the write's natural key: the same write for the same company is one
// record however often a retried activity or a repeated plan makes it.
func (w Write) Key() string {
	h := sha256.New()
	for _, p := range []string{strconv.FormatInt(w.CompanyID, 10), w.Vendor, w.Operation, w.Target, string(w.Payload)} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Customer is one customer's part of the report.
type Customer struct {
	CompanyID int64   `json:"companyId"`
	Writes    []Write `json:"writes"`
}

// placeholderPrefix starts the id of a tenant that shadow mode did not create.
const placeholderPrefix = "shadow-tenant-"

// PlaceholderTenant is the id given to the tenant shadow mode would have
// created for a company; it is never sent to Acronis.
func PlaceholderTenant(companyID int64) string {
	return placeholderPrefix + strconv.FormatInt(companyID, 10)
}

// IsPlaceholder reports whether id is a PlaceholderTenant.
func IsPlaceholder(id string) bool { return strings.HasPrefix(id, placeholderPrefix) }

// PlaceholderCompany is the company of a PlaceholderTenant id, or 0.
func PlaceholderCompany(id string) int64 {
	n, _ := strconv.ParseInt(strings.TrimPrefix(id, placeholderPrefix), 10, 64)
	if !IsPlaceholder(id) {
		return 0
	}
	return n
}

type ctxKey int

const (
	keyCompany ctxKey = iota
	keyWarnings
)

// WithCustomer tells the write gate which company, and which plan warnings,
// the writes made with ctx are for.
func WithCustomer(ctx context.Context, companyID int64, warnings []string) context.Context {
	ctx = context.WithValue(ctx, keyCompany, companyID)
	return context.WithValue(ctx, keyWarnings, warnings)
}

// CustomerOf returns what WithCustomer stored, or 0 and nil.
func CustomerOf(ctx context.Context) (int64, []string) {
	id, _ := ctx.Value(keyCompany).(int64)
	w, _ := ctx.Value(keyWarnings).([]string)
	return id, w
}

// secretFields are body fields never copied into a payload summary.
var secretFields = map[string]bool{"password": true, "client_secret": true, "secret": true, "token": true, "access_token": true}

// Summary is body as JSON with secret fields removed at every depth, so the
// record says what would be written without holding credentials.
func Summary(body any) json.RawMessage {
	if body == nil {
		return json.RawMessage(`{}`)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return json.RawMessage(`{}`)
	}
	out, err := json.Marshal(scrub(v))
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return out
}

func scrub(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if secretFields[strings.ToLower(k)] {
				delete(t, k)
				continue
			}
			t[k] = scrub(x)
		}
	case []any:
		for i, x := range t {
			t[i] = scrub(x)
		}
	}
	return v
}

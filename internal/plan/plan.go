// Package plan describes, before anything is written, what the integration
// will do to one customer: per offering item the quota Acronis has now, the
// usage and the quota it will set; the tenant steps with their times; and the
// warnings an admin must confirm (issue 14). The desired quotas and the steps
// come from the workflow's own planner; this package only compares them with
// what the tenant has and says what is dangerous.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
)

// Warning kinds; each warning text starts with its kind.
const (
	WarnBelowUsage    = "quota below usage"
	WarnStorageZero   = entitlement.WarnStorageZero
	WarnDeprovision   = "tenant in use will be deprovisioned"
	WarnAlreadyMapped = "tenant already managed"
	WarnTrialEnding   = "trial ending"
)

// softSuffix marks a quota the tenant may use beyond ("prepaid with
// overage"), as the quota activity reports it.
const softSuffix = " (soft)"

// ItemState is one offering item of a tenant as Acronis has it now.
type ItemState struct {
	// Key is entitlement.Item.Key(): name, or name@infra for storage.
	Key     string   `json:"key"`
	Enabled bool     `json:"enabled"`
	Quota   *float64 `json:"quota,omitempty"` // nil: unlimited (when enabled)
	// Overage is what Acronis lets the tenant use above Quota: 0 for a hard
	// quota, nil when Acronis sets no limit.
	Overage *float64 `json:"overage,omitempty"`
	Usage   float64  `json:"usage"`
}

// ItemWrite is one offering item in a plan: what it is, what it becomes.
type ItemWrite struct {
	Item         string  `json:"item"`
	CurrentQuota string  `json:"currentQuota"` // "off", "unlimited" or a number
	CurrentUsage float64 `json:"currentUsage"`
	NewQuota     string  `json:"newQuota"`
	// Write says the integration will change this item.
	Write bool `json:"write"`
}

// Step is a tenant step (enable, disable, delete, zero quotas, switch to production) and when it runs.
type Step struct {
	Action string    `json:"action"`
	At     time.Time `json:"at"`
}

// Customer is the plan of one customer.
type Customer struct {
	// ID identifies the plan's inputs: confirming a plan means sending its id
	// back; if any input changed, the id differs and nothing happens.
	ID          string      `json:"id"`
	CompanyID   int64       `json:"companyId"`
	CompanyName string      `json:"companyName,omitempty"`
	TenantID    string      `json:"tenantId,omitempty"`
	Items       []ItemWrite `json:"items"`
	Steps       []Step      `json:"steps,omitempty"`
	// Autotask lists the Autotask writes (none for quota plans: quotas follow the contracts).
	Autotask []string `json:"autotask,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Describe compares desired quotas with the tenant's items: every item that
// is on, or will be, is listed; a write that sets a quota below what the
// tenant already uses is a warning.
func Describe(desired []entitlement.Quota, current []ItemState) ([]ItemWrite, []string) {
	byKey := make(map[string]ItemState, len(current))
	for _, c := range current {
		byKey[c.Key] = c
	}
	var items []ItemWrite
	var warnings []string
	for _, q := range desired {
		key := q.Item.Key()
		cur, known := byKey[key]
		w := ItemWrite{Item: key, CurrentQuota: "off", CurrentUsage: cur.Usage, NewQuota: quotaText(q)}
		if known && cur.Enabled {
			w.CurrentQuota = "unlimited"
			if cur.Quota != nil {
				w.CurrentQuota = number(*cur.Quota)
				switch {
				case cur.Overage == nil:
					w.CurrentQuota += softSuffix // no limit above the quota
				case *cur.Overage != 0:
					w.CurrentQuota += " (overage " + number(*cur.Overage) + ")"
				}
			}
		}
		if !q.Enabled && w.CurrentQuota != "off" {
			w.NewQuota = "0" // an item with usage cannot be switched off: its quota goes to 0
		}
		if !q.Enabled && w.CurrentQuota == "off" {
			w.NewQuota = "off"
		}
		w.Write = w.NewQuota != w.CurrentQuota
		if w.NewQuota == "off" && w.CurrentQuota == "off" && cur.Usage == 0 {
			continue // nothing there, nothing to do
		}
		if w.Write && w.NewQuota != "unlimited" {
			if n, err := strconv.ParseFloat(w.NewQuota, 64); err == nil && n < cur.Usage {
				warnings = append(warnings, fmt.Sprintf("%s: %s would be %s while %s is in use", WarnBelowUsage, key, w.NewQuota, number(cur.Usage)))
			}
		}
		items = append(items, w)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Item < items[j].Item })
	return items, warnings
}

// BelowUsage lists the writes of the plan that set a quota below what the
// tenant uses (item key → new quota): what confirming the plan allows.
func (c Customer) BelowUsage() map[string]string {
	out := map[string]string{}
	for _, it := range c.Items {
		if !it.Write {
			continue
		}
		if n, err := strconv.ParseFloat(it.NewQuota, 64); err == nil && n < it.CurrentUsage {
			out[it.Item] = it.NewQuota
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// InUse reports whether any item of the tenant has usage.
func InUse(current []ItemState) bool {
	for _, c := range current {
		if c.Usage > 0 {
			return true
		}
	}
	return false
}

// ID hashes a plan's inputs (any JSON-encodable values) to its id.
func ID(inputs ...any) string {
	raw, _ := json.Marshal(inputs)
	sum := sha256.Sum256(raw)
	return "plan-" + hex.EncodeToString(sum[:12])
}

func quotaText(q entitlement.Quota) string {
	switch {
	case !q.Enabled:
		return "off"
	case q.Value == nil:
		return "unlimited"
	case q.Soft:
		return strconv.FormatInt(*q.Value, 10) + softSuffix
	default:
		return strconv.FormatInt(*q.Value, 10)
	}
}

func number(f float64) string {
	if f == math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

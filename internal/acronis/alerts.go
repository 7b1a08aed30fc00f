package acronis

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Alert severities.
const (
	SeverityOK          = "ok"
	SeverityInformation = "information"
	SeverityWarning     = "warning"
	SeverityError       = "error"
	SeverityCritical    = "critical"
)

// Alert is an Alert Manager v1 alert. A re-raised alert keeps its id.
type Alert struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Category string `json:"category"`
	Severity string `json:"severity"`
	// Details is type-specific: {title, category, description, fields} for
	// generic alerts; planName, resourceName, errorMessage … for backup alerts.
	Details    map[string]any `json:"details"`
	ReceivedAt Time           `json:"receivedAt"`
	UpdatedAt  Time           `json:"updatedAt"`
	CreatedAt  Time           `json:"createdAt"`
	// DeletedAt is when the alert was dismissed; its name in real answers is
	// not documented, so prefer ShowDeletedOnly to find dismissed alerts.
	DeletedAt Time        `json:"deletedAt,omitzero"`
	Affinity  string      `json:"affinity"`
	Tenant    AlertTenant `json:"tenant"`
}

// AlertTenant names the tenant an alert belongs to.
type AlertTenant struct {
	// ID is the numeric API v1 id, as a string.
	ID      string `json:"id"`
	UUID    string `json:"uuid"`
	Locator string `json:"locator"`
}

// Dismissed reports whether the alert carries a dismissal time.
func (a Alert) Dismissed() bool { return !a.DeletedAt.IsZero() }

// Title is details.title, or the type when the alert has none.
func (a Alert) Title() string {
	if s, ok := a.Details["title"].(string); ok && s != "" {
		return s
	}
	return a.Type
}

// AlertQuery filters GET /alerts.
type AlertQuery struct {
	// UpdatedAfter keeps alerts updated strictly after this instant
	// (updated_at=gt(<unix ns>)); creation and dismissal both update.
	UpdatedAfter time.Time
	// Tenants keeps alerts of these tenant uuids.
	Tenants         []string
	Types           []string
	Severity        string // e.g. "or(warning,critical)"
	ShowDeleted     bool
	ShowDeletedOnly bool
	// Order e.g. "asc(updated_at)".
	Order string
	Limit int
	// After is the next-page cursor; when set, the filters are ignored.
	After string
}

func (q AlertQuery) values() url.Values {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.After != "" {
		v.Set("after", q.After)
		return v
	}
	if !q.UpdatedAfter.IsZero() {
		v.Set("updated_at", "gt("+strconv.FormatInt(q.UpdatedAfter.UnixNano(), 10)+")")
	}
	switch len(q.Tenants) {
	case 0:
	case 1:
		v.Set("tenant", q.Tenants[0])
	default:
		v.Set("tenant", "or("+strings.Join(q.Tenants, ",")+")")
	}
	for _, t := range q.Types {
		v.Add("type", t)
	}
	if q.Severity != "" {
		v.Set("severity", q.Severity)
	}
	if q.ShowDeleted {
		v.Set("show_deleted", "true")
	}
	if q.ShowDeletedOnly {
		v.Set("show_deleted_only", "true")
	}
	if q.Order != "" {
		v.Set("order", q.Order)
	}
	return v
}

// AlertPage is one page of GET /alerts.
type AlertPage struct {
	Items  []Alert `json:"items"`
	Paging Paging  `json:"paging"`
}

// ListAlerts reads one page of alerts; follow Paging.Cursors.After.
func (c *Client) ListAlerts(ctx context.Context, q AlertQuery) (AlertPage, error) {
	var p AlertPage
	err := c.do(ctx, get(AlertManagerPath+"/alerts", q.values()), &p)
	return p, err
}

// EachAlert pages through GET /alerts, calling fn per page.
func (c *Client) EachAlert(ctx context.Context, q AlertQuery, fn func([]Alert) error) error {
	for {
		p, err := c.ListAlerts(ctx, q)
		if err != nil {
			return err
		}
		if err := fn(p.Items); err != nil {
			return err
		}
		if p.Paging.Cursors.After == "" || len(p.Items) == 0 {
			return nil
		}
		q = AlertQuery{Limit: q.Limit, After: p.Paging.Cursors.After}
	}
}

// GetAlert reads one alert.
func (c *Client) GetAlert(ctx context.Context, id string) (Alert, error) {
	var a Alert
	err := c.do(ctx, get(AlertManagerPath+"/alerts/"+esc(id), nil), &a)
	return a, err
}

// DismissAlert dismisses (deletes) one alert, as when its ticket is closed.
func (c *Client) DismissAlert(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: AlertManagerPath + "/alerts/" + esc(id), idempotent: true}, nil)
}

// AlertType describes an alert type. Beyond the id its fields are not
// documented, so every field is kept in Fields.
type AlertType struct {
	ID       string         `json:"id"`
	Category string         `json:"category,omitempty"`
	Severity string         `json:"severity,omitempty"`
	Fields   map[string]any `json:"-"`
}

// UnmarshalJSON keeps every field of the type in Fields.
func (t *AlertType) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	t.Fields = m
	t.ID, _ = m["id"].(string)
	t.Category, _ = m["category"].(string)
	t.Severity, _ = m["severity"].(string)
	return nil
}

// ListAlertTypes lists the alert types known to the data center.
func (c *Client) ListAlertTypes(ctx context.Context) ([]AlertType, error) {
	var r struct {
		Items []AlertType `json:"items"`
	}
	err := c.do(ctx, get(AlertManagerPath+"/types", nil), &r)
	return r.Items, err
}

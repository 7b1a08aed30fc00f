package autotask

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// FieldInfo describes one field of an entity (/{Entity}/entityInformation/fields).
type FieldInfo struct {
	Name                     string          `json:"name"`
	DataType                 string          `json:"dataType"`
	Length                   int             `json:"length"`
	IsRequired               bool            `json:"isRequired"`
	IsReadOnly               bool            `json:"isReadOnly"`
	IsQueryable              bool            `json:"isQueryable"`
	IsReference              bool            `json:"isReference"`
	ReferenceEntityType      string          `json:"referenceEntityType"`
	IsPickList               bool            `json:"isPickList"`
	PicklistValues           []PicklistValue `json:"picklistValues"`
	PicklistParentValueField string          `json:"picklistParentValueField"`
	IsSupportedWebhookField  bool            `json:"isSupportedWebhookField"`
}

// PicklistValue is one option of a picklist. Value is a string even for
// integer fields; codes differ per database, so resolve them by Label.
type PicklistValue struct {
	Value          string `json:"value"`
	Label          string `json:"label"`
	IsDefaultValue bool   `json:"isDefaultValue"`
	SortOrder      int    `json:"sortOrder"`
	ParentValue    string `json:"parentValue"`
	IsActive       bool   `json:"isActive"`
	IsSystem       bool   `json:"isSystem"`
}

// Int is the option's value as the integer stored on records.
func (p PicklistValue) Int() (int, error) {
	n, err := strconv.Atoi(p.Value)
	if err != nil {
		return 0, fmt.Errorf("autotask: picklist value %q of %q is not an integer: %w", p.Value, p.Label, err)
	}
	return n, nil
}

// UDFInfo describes one user-defined field of an entity
// (/{Entity}/entityInformation/userDefinedFields).
type UDFInfo struct {
	Name                     string          `json:"name"`
	Label                    string          `json:"label"`
	Type                     string          `json:"type"`
	Length                   int             `json:"length"`
	Description              string          `json:"description"`
	IsRequired               bool            `json:"isRequired"`
	IsReadOnly               bool            `json:"isReadOnly"`
	IsQueryable              bool            `json:"isQueryable"`
	IsReference              bool            `json:"isReference"`
	ReferenceEntityType      string          `json:"referenceEntityType"`
	IsPickList               bool            `json:"isPickList"`
	PicklistValues           []PicklistValue `json:"picklistValues"`
	PicklistParentValueField string          `json:"picklistParentValueField"`
	DefaultValue             string          `json:"defaultValue"`
	IsSupportedWebhookField  bool            `json:"isSupportedWebhookField"`
}

// EntityInfo is what an entity allows (/{Entity}/entityInformation).
type EntityInfo struct {
	Name                    string `json:"name"`
	CanCreate               bool   `json:"canCreate"`
	CanDelete               bool   `json:"canDelete"`
	CanQuery                bool   `json:"canQuery"`
	CanUpdate               bool   `json:"canUpdate"`
	HasUserDefinedFields    bool   `json:"hasUserDefinedFields"`
	SupportsWebhookCallouts bool   `json:"supportsWebhookCallouts"`
}

// Fields lists an entity's fields with their picklists; entity is the REST
// path segment ("Tickets", "TicketNotes", "Services").
func (c *Client) Fields(ctx context.Context, entity string) ([]FieldInfo, error) {
	var res struct {
		Fields []FieldInfo `json:"fields"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: entity + "/entityInformation/fields", read: true}, &res); err != nil {
		return nil, fmt.Errorf("autotask: fields of %s: %w", entity, err)
	}
	return res.Fields, nil
}

// UDFFields lists an entity's user-defined fields.
func (c *Client) UDFFields(ctx context.Context, entity string) ([]UDFInfo, error) {
	var res struct {
		Fields []UDFInfo `json:"fields"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: entity + "/entityInformation/userDefinedFields", read: true}, &res); err != nil {
		return nil, fmt.Errorf("autotask: user-defined fields of %s: %w", entity, err)
	}
	return res.Fields, nil
}

// EntityInformation reports what an entity allows.
func (c *Client) EntityInformation(ctx context.Context, entity string) (EntityInfo, error) {
	var res struct {
		Info EntityInfo `json:"info"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: entity + "/entityInformation", read: true}, &res); err != nil {
		return EntityInfo{}, fmt.Errorf("autotask: entity information of %s: %w", entity, err)
	}
	return res.Info, nil
}

// Picklist returns the options of field (case-insensitive) in fields.
func Picklist(fields []FieldInfo, field string) ([]PicklistValue, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, field) {
			return f.PicklistValues, f.IsPickList
		}
	}
	return nil, false
}

// PicklistCode resolves a label (case-insensitive) of field to its integer code.
func PicklistCode(fields []FieldInfo, field, label string) (int, error) {
	values, ok := Picklist(fields, field)
	if !ok {
		return 0, fmt.Errorf("autotask: %s is not a picklist", field)
	}
	for _, v := range values {
		if strings.EqualFold(v.Label, label) {
			return v.Int()
		}
	}
	return 0, fmt.Errorf("autotask: picklist %s has no option %q", field, label)
}

// ThresholdInfo is Autotask's view of the hourly request budget.
type ThresholdInfo struct {
	ExternalRequestThreshold     int `json:"externalRequestThreshold"`
	RequestThresholdTimeframe    int `json:"requestThresholdTimeframe"`
	CurrentTimeframeRequestCount int `json:"currentTimeframeRequestCount"`
}

// Remaining is how many requests the database may still make this timeframe.
func (t ThresholdInfo) Remaining() int {
	return max(0, t.ExternalRequestThreshold-t.CurrentTimeframeRequestCount)
}

// Threshold reads ThresholdInformation (which itself counts as a request) and
// hands it to the budget's limiter, which lowers the allowance by what other
// integrations on the same database used and by what Autotask says is left.
func (c *Client) Threshold(ctx context.Context) (ThresholdInfo, error) {
	var t ThresholdInfo
	if err := c.do(ctx, request{method: http.MethodGet, path: "ThresholdInformation", read: true}, &t); err != nil {
		return ThresholdInfo{}, fmt.Errorf("autotask: threshold information: %w", err)
	}
	if t.ExternalRequestThreshold > 0 {
		if err := c.budget.observe(ctx, t); err != nil {
			return t, fmt.Errorf("autotask: follow threshold information: %w", err)
		}
	}
	return t, nil
}

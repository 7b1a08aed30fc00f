package autotask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	client "github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// queryBody is Autotask's QueryModel; property names are matched
// case-insensitively like the real service (clients send maxRecords or MaxRecords).
type queryBody struct {
	Filter        []filterBody `json:"filter"`
	MaxRecords    *int         `json:"maxRecords"`
	IncludeFields []string     `json:"includeFields"`
}

type filterBody struct {
	Op    string          `json:"op"`
	Field string          `json:"field"`
	UDF   bool            `json:"udf"`
	Value json.RawMessage `json:"value"`
	Items []filterBody    `json:"items"`
}

// queryError is an answer Autotask gives with HTTP 500 and an errors array.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func qerr(format string, a ...any) error { return &queryError{fmt.Sprintf(format, a...)} }

// predicate tests one record; udfs are the record's UDF values (lower-case names).
type predicate func(r *record) bool

// compile turns the filter list (ANDed) into a predicate, failing like
// Autotask on unknown fields, bad values and more than one UDF.
func (s *Sandbox) compile(m *model, filters []filterBody) (predicate, error) {
	if len(filters) == 0 {
		return nil, qerr("A query must include at least one filter.")
	}
	udfNames := map[string]bool{}
	var preds []predicate
	for _, f := range filters {
		p, err := s.compileOne(m, f, udfNames, 0)
		if err != nil {
			return nil, err
		}
		if p != nil {
			preds = append(preds, p)
		}
	}
	if len(udfNames) > 1 {
		return nil, qerr("Only one user-defined field can be queried at a time.")
	}
	return all(preds), nil
}

func all(ps []predicate) predicate {
	return func(r *record) bool {
		for _, p := range ps {
			if !p(r) {
				return false
			}
		}
		return true
	}
}

func (s *Sandbox) compileOne(m *model, f filterBody, udfNames map[string]bool, depth int) (predicate, error) {
	if depth > 32 {
		return nil, qerr("Filter nesting is too deep.")
	}
	op := f.Op
	switch op {
	case "and", "or":
		var ps []predicate
		for _, it := range f.Items {
			p, err := s.compileOne(m, it, udfNames, depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				ps = append(ps, p)
			}
		}
		if op == "and" || len(ps) == 0 {
			return all(ps), nil
		}
		return func(r *record) bool {
			for _, p := range ps {
				if p(r) {
					return true
				}
			}
			return false
		}, nil
	case "eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains", "exist", "notExist", "in", "notIn":
	default:
		// Autotask silently ignores an unknown operator (the condition matches everything).
		return nil, nil
	}
	get, k, err := s.accessor(m, f.Field, f.UDF)
	if err != nil {
		return nil, err
	}
	if f.UDF {
		udfNames[strings.ToLower(f.Field)] = true
	}
	switch op {
	case "exist":
		return func(r *record) bool { v := get(r); return v != nil && v != "" }, nil
	case "notExist":
		return func(r *record) bool { v := get(r); return v == nil || v == "" }, nil
	case "in", "notIn":
		var raws []json.RawMessage
		if err := json.Unmarshal(f.Value, &raws); err != nil || len(raws) == 0 {
			return nil, qerr("The value for operator %s on field %s must be a non-empty array.", op, f.Field)
		}
		vals := make([]any, 0, len(raws))
		for _, raw := range raws {
			v, err := filterValue(k, f.Field, raw)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		want := op == "in"
		return func(r *record) bool {
			v := get(r)
			if v == nil {
				return false
			}
			for _, x := range vals {
				if c, ok := compare(v, x); ok && c == 0 {
					return want
				}
			}
			return !want
		}, nil
	}
	val, err := filterValue(k, f.Field, f.Value)
	if err != nil {
		return nil, err
	}
	switch op {
	case "beginsWith", "endsWith", "contains":
		needle := strings.ToLower(fmt.Sprint(val))
		return func(r *record) bool {
			v := get(r)
			if v == nil {
				return false
			}
			hay := strings.ToLower(textOf(v))
			switch op {
			case "beginsWith":
				return strings.HasPrefix(hay, needle)
			case "endsWith":
				return strings.HasSuffix(hay, needle)
			}
			return strings.Contains(hay, needle)
		}, nil
	}
	return func(r *record) bool {
		v := get(r)
		if v == nil {
			// SQL semantics: a comparison with NULL is never true.
			return false
		}
		c, ok := compare(v, val)
		if !ok {
			return false
		}
		switch op {
		case "eq":
			return c == 0
		case "noteq":
			return c != 0
		case "gt":
			return c > 0
		case "gte":
			return c >= 0
		case "lt":
			return c < 0
		}
		return c <= 0
	}, nil
}

// accessor resolves a field (or a UDF) of m to a getter.
func (s *Sandbox) accessor(m *model, name string, udf bool) (func(*record) any, kind, error) {
	if udf {
		if m.udfIdx < 0 || !s.hasUDF(m.name, name) {
			return nil, 0, qerr("Unable to find %s in the %s Entity", name, m.singular)
		}
		key, idx := strings.ToLower(name), m.udfIdx
		return func(r *record) any {
			vals, _ := r.get(idx).(map[string]string)
			if v, ok := vals[key]; ok {
				return v
			}
			return nil
		}, kindString, nil
	}
	i, ok := m.fieldIndex(name)
	if !ok || m.fields[i].kind == kindUDFs || m.fields[i].kind == kindAny {
		return nil, 0, qerr("Unable to find %s in the %s Entity", name, m.singular)
	}
	if nq := notQueryable[strings.ToLower(m.name+"."+name)]; nq {
		return nil, 0, qerr("The field %s of the %s Entity is not queryable.", m.fields[i].name, m.singular)
	}
	return func(r *record) any { return r.get(i) }, m.fields[i].kind, nil
}

// notQueryable lists fields Autotask documents as not queryable.
var notQueryable = map[string]bool{"tickets.creatortype": true, "tickets.lastactivitypersontype": true}

// filterValue converts a filter value to the field's kind; booleans accept
// only true/false and null is refused, as documented.
func filterValue(k kind, fieldName string, raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, qerr("The value for field %s cannot be null.", fieldName)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, qerr("Invalid value for field %s.", fieldName)
	}
	switch k {
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, qerr("Invalid value for field %s: booleans must be true or false.", fieldName)
		}
		return b, nil
	case kindInt, kindFloat:
		switch x := v.(type) {
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return nil, qerr("Invalid value for field %s.", fieldName)
			}
			return f, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, qerr("Invalid value for field %s: %q is not a number.", fieldName, x)
			}
			return f, nil
		}
		return nil, qerr("Invalid value for field %s.", fieldName)
	case kindTime:
		s, ok := v.(string)
		if !ok {
			return nil, qerr("Invalid value for field %s: dates are strings.", fieldName)
		}
		t, err := client.ParseTime(s)
		if err != nil {
			return nil, qerr("Invalid value for field %s: %q is not a date.", fieldName, s)
		}
		return t, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return nil, qerr("Invalid value for field %s.", fieldName)
}

// compare orders a stored value against a filter value of the same kind.
func compare(stored, want any) (int, bool) {
	switch s := stored.(type) {
	case int64:
		w, ok := want.(float64)
		if !ok {
			return 0, false
		}
		return cmpFloat(float64(s), w), true
	case float64:
		w, ok := want.(float64)
		if !ok {
			return 0, false
		}
		return cmpFloat(s, w), true
	case bool:
		w, ok := want.(bool)
		if !ok {
			return 0, false
		}
		if s == w {
			return 0, true
		}
		if !s {
			return -1, true
		}
		return 1, true
	case time.Time:
		w, ok := want.(time.Time)
		if !ok {
			return 0, false
		}
		return s.Compare(w), true
	case string:
		return strings.Compare(strings.ToLower(s), strings.ToLower(fmt.Sprint(want))), true
	}
	return 0, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		return client.FormatTime(x)
	}
	return fmt.Sprint(v)
}

package autotask

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Op is a filter operator, spelled exactly as Autotask expects: the API
// silently ignores misspelled operators, so only these constants are accepted.
type Op string

// The operators of Autotask's query language.
const (
	OpEq         Op = "eq"
	OpNotEq      Op = "noteq"
	OpGt         Op = "gt"
	OpGte        Op = "gte"
	OpLt         Op = "lt"
	OpLte        Op = "lte"
	OpBeginsWith Op = "beginsWith"
	OpEndsWith   Op = "endsWith"
	OpContains   Op = "contains"
	OpExist      Op = "exist"
	OpNotExist   Op = "notExist"
	OpIn         Op = "in"
	OpNotIn      Op = "notIn"
	OpAnd        Op = "and"
	OpOr         Op = "or"
)

// Operators lists every operator, comparison and grouping (a fresh slice).
func Operators() []Op {
	return []Op{OpEq, OpNotEq, OpGt, OpGte, OpLt, OpLte, OpBeginsWith, OpEndsWith, OpContains, OpExist, OpNotExist, OpIn, OpNotIn, OpAnd, OpOr}
}

// MaxPageSize is the most records Autotask returns per page (MaxRecords 1..500).
const MaxPageSize = 500

// Filter is one condition or an and/or group, encoded as Autotask's Filter
// object: {"op","field","value","udf","items"}.
type Filter struct {
	Op    Op       `json:"op"`
	Field string   `json:"field,omitempty"`
	Value any      `json:"value,omitempty"`
	UDF   bool     `json:"udf,omitempty"`
	Items []Filter `json:"items,omitempty"`
}

// MarshalJSON keeps explicit zero values (0, false, "") that omitempty would drop.
func (f Filter) MarshalJSON() ([]byte, error) {
	type wire struct {
		Op    Op       `json:"op"`
		Field string   `json:"field,omitempty"`
		Value any      `json:"value"`
		UDF   bool     `json:"udf,omitempty"`
		Items []Filter `json:"items,omitempty"`
	}
	if f.Op == OpAnd || f.Op == OpOr || f.Op == OpExist || f.Op == OpNotExist {
		type bare struct {
			Op    Op       `json:"op"`
			Field string   `json:"field,omitempty"`
			UDF   bool     `json:"udf,omitempty"`
			Items []Filter `json:"items,omitempty"`
		}
		return json.Marshal(bare{f.Op, f.Field, f.UDF, f.Items})
	}
	return json.Marshal(wire(f))
}

// Condition builders. Values: integers, strings, booleans, times (*Time or
// Time) or, for In/NotIn, slices of integers or strings.

// Eq matches field == value.
func Eq(field string, value any) Filter { return Filter{Op: OpEq, Field: field, Value: value} }

// NotEq matches field != value.
func NotEq(field string, value any) Filter { return Filter{Op: OpNotEq, Field: field, Value: value} }

// Gt matches field > value.
func Gt(field string, value any) Filter { return Filter{Op: OpGt, Field: field, Value: value} }

// Gte matches field >= value.
func Gte(field string, value any) Filter { return Filter{Op: OpGte, Field: field, Value: value} }

// Lt matches field < value.
func Lt(field string, value any) Filter { return Filter{Op: OpLt, Field: field, Value: value} }

// Lte matches field <= value.
func Lte(field string, value any) Filter { return Filter{Op: OpLte, Field: field, Value: value} }

// BeginsWith matches strings starting with value.
func BeginsWith(field, value string) Filter {
	return Filter{Op: OpBeginsWith, Field: field, Value: value}
}

// EndsWith matches strings ending with value.
func EndsWith(field, value string) Filter { return Filter{Op: OpEndsWith, Field: field, Value: value} }

// Contains matches strings containing value.
func Contains(field, value string) Filter { return Filter{Op: OpContains, Field: field, Value: value} }

// Exist matches records where field has a value.
func Exist(field string) Filter { return Filter{Op: OpExist, Field: field} }

// NotExist matches records where field is empty.
func NotExist(field string) Filter { return Filter{Op: OpNotExist, Field: field} }

// In matches field ∈ values (integers or strings).
func In[T int | int64 | string](field string, values ...T) Filter {
	return Filter{Op: OpIn, Field: field, Value: slices.Clone(values)}
}

// NotIn matches field ∉ values.
func NotIn[T int | int64 | string](field string, values ...T) Filter {
	return Filter{Op: OpNotIn, Field: field, Value: slices.Clone(values)}
}

// And groups conditions that must all hold.
func And(items ...Filter) Filter { return Filter{Op: OpAnd, Items: items} }

// Or groups conditions of which one must hold.
func Or(items ...Filter) Filter { return Filter{Op: OpOr, Items: items} }

// OnUDF marks the condition as one on a user-defined field (field is the UDF name).
func (f Filter) OnUDF() Filter { f.UDF = true; return f }

// Query is the body of /query and /query/count.
type Query struct {
	// Filter entries are ANDed; at least one is required by Autotask.
	Filter []Filter `json:"filter"`
	// MaxRecords is the page size, 1..500; 0 means 500.
	MaxRecords int `json:"maxRecords,omitempty"`
	// IncludeFields limits the answer to these fields (others are absent).
	IncludeFields []string `json:"includeFields,omitempty"`
}

// NewQuery starts a query with the given (ANDed) filters.
func NewQuery(filters ...Filter) Query { return Query{Filter: filters} }

// All is the conventional match-all query (id >= 0), since Autotask refuses a query without filter.
func All() Query { return NewQuery(Gte("id", 0)) }

// Where adds ANDed filters.
func (q Query) Where(filters ...Filter) Query {
	q.Filter = append(slices.Clone(q.Filter), filters...)
	return q
}

// Limit sets the page size (1..500).
func (q Query) Limit(n int) Query { q.MaxRecords = n; return q }

// Fields limits the answer to the named fields.
func (q Query) Fields(names ...string) Query { q.IncludeFields = slices.Clone(names); return q }

// ErrBadQuery marks queries refused before sending, because Autotask would
// either fail or silently ignore the bad part.
var ErrBadQuery = errors.New("autotask: bad query")

// Validate checks what Autotask would reject or silently ignore: at least one
// filter, known operators, fields and values present where needed, value types,
// MaxRecords in 1..500 and at most one user-defined field per query.
func (q Query) Validate() error {
	if len(q.Filter) == 0 {
		return fmt.Errorf("%w: at least one filter is required (use All() to match everything)", ErrBadQuery)
	}
	if q.MaxRecords < 0 || q.MaxRecords > MaxPageSize {
		return fmt.Errorf("%w: MaxRecords %d is outside 1..%d", ErrBadQuery, q.MaxRecords, MaxPageSize)
	}
	udfs := map[string]bool{}
	for i, f := range q.Filter {
		if err := f.validate(udfs, 0); err != nil {
			return fmt.Errorf("%w: filter %d: %v", ErrBadQuery, i, err)
		}
	}
	if len(udfs) > 1 {
		return fmt.Errorf("%w: Autotask allows one user-defined field per query, got %d", ErrBadQuery, len(udfs))
	}
	return nil
}

const maxFilterDepth = 32

func (f Filter) validate(udfs map[string]bool, depth int) error {
	if depth > maxFilterDepth {
		return errors.New("filter groups nested too deep")
	}
	switch f.Op {
	case OpAnd, OpOr:
		if len(f.Items) == 0 {
			return fmt.Errorf("%q group has no items", f.Op)
		}
		for i, it := range f.Items {
			if err := it.validate(udfs, depth+1); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		return nil
	case OpExist, OpNotExist:
		if f.Field == "" {
			return fmt.Errorf("%q needs a field", f.Op)
		}
	case OpEq, OpNotEq, OpGt, OpGte, OpLt, OpLte, OpBeginsWith, OpEndsWith, OpContains, OpIn, OpNotIn:
		if f.Field == "" {
			return fmt.Errorf("%q needs a field", f.Op)
		}
		if err := checkValue(f.Op, f.Value); err != nil {
			return fmt.Errorf("%s %s: %w", f.Field, f.Op, err)
		}
	default:
		return fmt.Errorf("unknown operator %q (Autotask would silently ignore it)", f.Op)
	}
	if len(f.Items) > 0 {
		return fmt.Errorf("%q takes no items", f.Op)
	}
	if f.UDF {
		udfs[f.Field] = true
	}
	return nil
}

func checkValue(op Op, v any) error {
	if op == OpIn || op == OpNotIn {
		switch s := v.(type) {
		case []int:
			return nonEmpty(len(s))
		case []int64:
			return nonEmpty(len(s))
		case []string:
			return nonEmpty(len(s))
		case []any:
			for _, e := range s {
				if err := checkScalar(e); err != nil {
					return err
				}
			}
			return nonEmpty(len(s))
		}
		return fmt.Errorf("needs a list of integers or strings, got %T", v)
	}
	return checkScalar(v)
}

func nonEmpty(n int) error {
	if n == 0 {
		return errors.New("needs at least one value")
	}
	return nil
}

func checkScalar(v any) error {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, string, bool, Time, time.Time, json.Number:
		return nil
	case *Time:
		if v.(*Time) == nil {
			return errors.New("needs a value (null is refused)")
		}
		return nil
	case float64:
		return nil
	case nil:
		return errors.New("needs a value (booleans must be true/false, null is refused)")
	}
	return fmt.Errorf("unsupported value type %T", v)
}

package autotask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// UDF is one user-defined field value on a record. Autotask answers values as
// strings or null; request bodies seen in the wild also send numbers, which
// decode to their text.
type UDF struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// UnmarshalJSON accepts string, number, boolean or null values.
func (u *UDF) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("autotask: decode user-defined field: %w", err)
	}
	u.Name, u.Value = raw.Name, nil
	v := bytes.TrimSpace(raw.Value)
	switch {
	case len(v) == 0 || bytes.Equal(v, []byte("null")):
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("autotask: decode user-defined field %q: %w", raw.Name, err)
		}
		u.Value = &s
	case v[0] == '{' || v[0] == '[':
		return fmt.Errorf("autotask: user-defined field %q has a non-scalar value", raw.Name)
	default:
		s := string(v)
		u.Value = &s
	}
	return nil
}

// UDFValue returns the value of the user-defined field named name (names
// compare case-insensitively) and whether it is set.
func UDFValue(fields []UDF, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) && f.Value != nil {
			return *f.Value, true
		}
	}
	return "", false
}

// Ptr returns a pointer to v, for the optional fields of request bodies.
func Ptr[T any](v T) *T { return &v }

// Val returns *p, or the zero value when p is nil.
func Val[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

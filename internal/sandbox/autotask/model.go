package autotask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	client "github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// kind is the JSON type of a field, from the Swagger model.
type kind uint8

const (
	kindInt kind = iota
	kindFloat
	kindBool
	kindString
	kindTime
	kindUDFs
	kindAny
)

// field is one property of an entity model.
type field struct {
	name string
	kind kind
}

// model is one entity: its REST name, the singular name Autotask uses in
// messages, and its fields in answer order.
type model struct {
	name     string
	singular string
	fields   []field
	index    map[string]int // lower-case field name → position
	udfIdx   int            // position of userDefinedFields, -1 when none
}

func (m *model) init() {
	m.index = make(map[string]int, len(m.fields))
	m.udfIdx = -1
	for i, f := range m.fields {
		m.index[strings.ToLower(f.name)] = i
		if f.kind == kindUDFs {
			m.udfIdx = i
		}
	}
}

// fieldIndex finds a field case-insensitively, as Autotask does.
func (m *model) fieldIndex(name string) (int, bool) {
	i, ok := m.index[strings.ToLower(name)]
	return i, ok
}

func (m *model) mustIndex(name string) int {
	i, ok := m.fieldIndex(name)
	if !ok {
		panic(fmt.Sprintf("sandbox: model %s has no field %s", m.name, name))
	}
	return i
}

// cell is one set field of a record; unset fields answer null.
type cell struct {
	f uint16
	v any // int64, float64, bool, string, time.Time, map[string]string (UDFs), json.RawMessage
}

// record is a sparse row: only set fields are stored, ordered by field
// position, so 10,000 generated companies stay small.
type record struct {
	cells []cell
}

func (r *record) get(i int) any {
	for _, c := range r.cells {
		if int(c.f) == i {
			return c.v
		}
	}
	return nil
}

func (r *record) set(i int, v any) {
	pos, found := slices.BinarySearchFunc(r.cells, uint16(i), func(c cell, f uint16) int { return int(c.f) - int(f) })
	if v == nil {
		if found {
			r.cells = slices.Delete(r.cells, pos, pos+1)
		}
		return
	}
	if found {
		r.cells[pos].v = v
		return
	}
	r.cells = slices.Insert(r.cells, pos, cell{uint16(i), v})
}

func (r *record) id() int64 {
	v, _ := r.get(0).(int64)
	return v
}

func (r *record) clone() *record {
	c := &record{cells: slices.Clone(r.cells)}
	for i := range c.cells {
		if m, ok := c.cells[i].v.(map[string]string); ok {
			c.cells[i].v = cloneMap(m)
		}
	}
	return c
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// udfDef is a defined user-defined field as records show it.
type udfDef struct {
	name string
}

// encode writes r as Autotask does: every model field in order, null when
// unset. include (lower-case names), when non-nil, limits the fields; UDF
// names in include limit userDefinedFields.
func (m *model) encode(buf *bytes.Buffer, r *record, udfs []udfDef, include map[string]bool) {
	buf.WriteByte('{')
	first := true
	for i, f := range m.fields {
		if include != nil && !include[strings.ToLower(f.name)] {
			if f.kind != kindUDFs || !includesUDF(include, udfs) {
				continue
			}
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.WriteByte('"')
		buf.WriteString(f.name)
		buf.WriteString(`":`)
		v := r.get(i)
		if f.kind == kindUDFs {
			vals, _ := v.(map[string]string)
			encodeUDFs(buf, udfs, vals, include)
			continue
		}
		encodeValue(buf, v)
	}
	buf.WriteByte('}')
}

func includesUDF(include map[string]bool, udfs []udfDef) bool {
	for _, u := range udfs {
		if include[strings.ToLower(u.name)] {
			return true
		}
	}
	return false
}

func encodeUDFs(buf *bytes.Buffer, udfs []udfDef, vals map[string]string, include map[string]bool) {
	buf.WriteByte('[')
	n := 0
	for _, u := range udfs {
		if include != nil && !include[strings.ToLower(u.name)] && !include["userdefinedfields"] {
			continue
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		buf.WriteString(`{"name":`)
		encodeValue(buf, u.name)
		buf.WriteString(`,"value":`)
		if v, ok := vals[strings.ToLower(u.name)]; ok {
			encodeValue(buf, v)
		} else {
			buf.WriteString("null")
		}
		buf.WriteByte('}')
	}
	buf.WriteByte(']')
}

func encodeValue(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case float64:
		buf.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case string:
		b, _ := json.Marshal(x)
		buf.Write(b)
	case time.Time:
		buf.WriteByte('"')
		buf.WriteString(client.FormatTime(x))
		buf.WriteByte('"')
	case json.RawMessage:
		buf.Write(x)
	default:
		b, _ := json.Marshal(x)
		buf.Write(b)
	}
}

// decodeValue converts a JSON value of a request body to the field's kind.
func decodeValue(f field, raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	switch f.kind {
	case kindInt:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("Invalid value for field %s: %s", f.name, raw)
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			fl, ferr := n.Float64()
			if ferr != nil || fl != float64(int64(fl)) {
				return nil, fmt.Errorf("Invalid value for field %s: %s", f.name, raw)
			}
			i = int64(fl)
		}
		return i, nil
	case kindFloat:
		var fl float64
		if err := json.Unmarshal(raw, &fl); err != nil {
			return nil, fmt.Errorf("Invalid value for field %s: %s", f.name, raw)
		}
		return fl, nil
	case kindBool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("Invalid value for field %s: booleans must be true or false", f.name)
		}
		return b, nil
	case kindString:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("Invalid value for field %s: %s", f.name, raw)
		}
		return s, nil
	case kindTime:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("Invalid value for field %s: %s", f.name, raw)
		}
		t, err := client.ParseTime(s)
		if err != nil {
			return nil, fmt.Errorf("Invalid value for field %s: %s", f.name, s)
		}
		return t, nil
	case kindAny:
		return json.RawMessage(slices.Clone(raw)), nil
	}
	return nil, fmt.Errorf("field %s cannot be written", f.name)
}

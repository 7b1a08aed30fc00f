package autotask_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// FuzzFilterEncoding builds filters from fuzzed parts; whatever Validate
// accepts must encode to Autotask's Filter shape and decode back unchanged.
func FuzzFilterEncoding(f *testing.F) {
	f.Add(uint8(0), "companyName", "Contoso", int64(5), false, uint8(0))
	f.Add(uint8(9), "webAddress", "", int64(0), false, uint8(1))
	f.Add(uint8(11), "id", "x", int64(-3), false, uint8(2))
	f.Add(uint8(13), "Acronis PAYG", "Yes", int64(0), true, uint8(3))
	f.Add(uint8(14), "id", "", int64(1), false, uint8(4))
	f.Add(uint8(200), "", "\x00\"", int64(1<<40), true, uint8(255))
	f.Fuzz(func(t *testing.T, opIdx uint8, field, text string, num int64, udf bool, shape uint8) {
		ops := autotask.Operators()
		op := autotask.Op("bogus")
		if int(opIdx) < len(ops) {
			op = ops[opIdx]
		}
		leaf := autotask.Filter{Op: op, Field: field, UDF: udf}
		switch shape % 4 {
		case 0:
			leaf.Value = text
		case 1:
			leaf.Value = num
		case 2:
			leaf.Value = []string{text, field}
		case 3:
			leaf.Value = []int64{num}
		}
		if op == autotask.OpAnd || op == autotask.OpOr {
			leaf = autotask.Filter{Op: op, Items: []autotask.Filter{autotask.Eq(field, text), autotask.Gt(field, num)}}
		}
		q := autotask.NewQuery(leaf)
		if shape&8 != 0 {
			q = autotask.NewQuery(autotask.Or(leaf, autotask.Exist("id")))
		}
		err := q.Validate()
		if !slices.Contains(ops, op) {
			if !errors.Is(err, autotask.ErrBadQuery) {
				t.Fatalf("operator %q accepted, want ErrBadQuery", op)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, autotask.ErrBadQuery) {
				t.Fatalf("Validate error %v is not ErrBadQuery", err)
			}
			return
		}
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("marshal %+v: %v", q, err)
		}
		var wire struct {
			Filter []map[string]json.RawMessage `json:"filter"`
		}
		if err := json.Unmarshal(b, &wire); err != nil || len(wire.Filter) != 1 {
			t.Fatalf("encoded %s is not {filter:[...]}: %v", b, err)
		}
		var back autotask.Query
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("round trip of %s no longer validates: %v", b, err)
		}
		checkWire(t, b, wire.Filter[0], q.Filter[0])
	})
}

// checkWire asserts the JSON shape of one encoded filter.
func checkWire(t *testing.T, all []byte, w map[string]json.RawMessage, f autotask.Filter) {
	t.Helper()
	var op string
	_ = json.Unmarshal(w["op"], &op)
	if op != string(f.Op) {
		t.Fatalf("%s: op %q, want %q", all, op, f.Op)
	}
	_, hasValue := w["value"]
	switch f.Op {
	case autotask.OpAnd, autotask.OpOr:
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(w["items"], &items); err != nil || len(items) != len(f.Items) || hasValue {
			t.Fatalf("%s: group encoded wrongly", all)
		}
		for i := range items {
			checkWire(t, all, items[i], f.Items[i])
		}
	case autotask.OpExist, autotask.OpNotExist:
		if hasValue {
			t.Fatalf("%s: %s carries a value", all, f.Op)
		}
	case autotask.OpIn, autotask.OpNotIn:
		var arr []json.RawMessage
		if err := json.Unmarshal(w["value"], &arr); err != nil || len(arr) == 0 {
			t.Fatalf("%s: %s value is not a non-empty array", all, f.Op)
		}
	default:
		if !hasValue || string(w["value"]) == "null" {
			t.Fatalf("%s: %s lacks its value", all, f.Op)
		}
	}
	var udf bool
	if raw, ok := w["udf"]; ok {
		_ = json.Unmarshal(raw, &udf)
	}
	if udf != f.UDF {
		t.Fatalf("%s: udf %v, want %v", all, udf, f.UDF)
	}
}

// FuzzDecodeErrors feeds arbitrary bodies to the error decoding: it must never
// panic, and a well-formed envelope must give back its strings exactly.
func FuzzDecodeErrors(f *testing.F) {
	f.Add([]byte(`{"errors":["Value does not reference an existing entity for taskType . "]}`), "msg")
	f.Add([]byte(`{"errors":[{"message":"m","field":"f"}]}`), "")
	f.Add([]byte(`<html>Version 1.6 of the API is only accessible to API Only users.</html>`), "x")
	f.Add([]byte(``), "API thread threshold of 3 threads has been exceeded")
	f.Add([]byte(`{"errors":null}`), "\u2028")
	f.Add([]byte(`{"Message":"The requested resource does not support http method 'GET'."}`), "")
	f.Fuzz(func(t *testing.T, body []byte, msg string) {
		_, _ = autotask.DecodeErrors(body)
		for _, status := range []int{200, 401, 404, 405, 429, 500, 503} {
			e := autotask.ClassifyForTest(status, http.Header{"Retry-After": {string(body)}}, body)
			if e.Kind == autotask.KindUnknown {
				t.Fatalf("status %d body %q classified as unknown", status, body)
			}
		}
		if !utf8.ValidString(msg) {
			return // JSON cannot carry it; encoding/json would substitute U+FFFD
		}
		env, _ := json.Marshal(map[string][]string{"errors": {msg, msg + "2"}})
		got, ok := autotask.DecodeErrors(env)
		if !ok || len(got) != 2 || got[0] != msg || got[1] != msg+"2" {
			t.Fatalf("DecodeErrors(%s) = %q, %v; want [%q %q]", env, got, ok, msg, msg+"2")
		}
		e := autotask.ClassifyForTest(500, nil, env)
		if e.Kind != autotask.KindInvalid && e.Kind != autotask.KindForbidden && e.Kind != autotask.KindThrottled && e.Kind != autotask.KindNotFound {
			t.Fatalf("500 with errors %q classified %v, want invalid/forbidden/throttled/not found", got, e.Kind)
		}
	})
}

package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/bounds"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

// maxBody bounds request bodies on every route, the codec server's included;
// no resource of this API is near it (a thousand mappings are about 200 KB).
const maxBody = 1 << 20

// limitBody refuses bodies over maxBody on every route before a handler or
// the authentication runs: a declared length over the limit is answered at
// once, and an undeclared one is cut off by http.MaxBytesReader as it is read.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > maxBody {
			return tooLarge()
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, maxBody)
		}
		return next(c)
	}
}

func tooLarge() *Problem {
	p := newProblem(http.StatusRequestEntityTooLarge, "body-too-large", fmt.Sprintf("the request body is larger than %d bytes", maxBody))
	p.Errors = []settings.FieldError{{Field: "body", Message: fmt.Sprintf("must be at most %d bytes", maxBody)}}
	return p
}

// readBody reads the whole (bounded) body, answering 413 when it is too large.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(raw) > maxBody {
		return nil, tooLarge()
	}
	if err != nil {
		return nil, invalid("the request body could not be read", settings.FieldError{Field: "body", Message: err.Error()})
	}
	return raw, nil
}

// checkJSONContentType accepts application/json and any +json type, with or
// without parameters; anything else is a 400 naming the header.
func checkJSONContentType(r *http.Request) error {
	ct := r.Header.Get(echo.HeaderContentType)
	media, _, err := mime.ParseMediaType(ct)
	if err == nil && (media == echo.MIMEApplicationJSON || strings.HasSuffix(media, "+json")) {
		return nil
	}
	return invalid("the request body must be JSON", settings.FieldError{Field: "Content-Type",
		Message: fmt.Sprintf("must be application/json, not %q", bounds.Truncate(ct, 100))})
}

// decodeStrict reads a JSON object body into v. It is strict so that what is
// saved is exactly what was sent: the Content-Type must be JSON, the body one
// object with nothing after it, every field known (a typo is an error instead
// of a silently ignored setting), and no string may hold a NUL character
// (PostgreSQL text and jsonb cannot store one). Each failure is a 400 naming
// the field.
func decodeStrict(c echo.Context, v any) error {
	if err := checkJSONContentType(c.Request()); err != nil {
		return err
	}
	raw, err := readBody(c.Request())
	if err != nil {
		return err
	}
	if err := checkJSONShape(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := jsonErrorField(err)
		if field == "" {
			field = "body"
		}
		return invalid("the request body could not be read: "+bounds.Truncate(err.Error(), 200), settings.FieldError{Field: field, Message: bounds.Truncate(err.Error(), 200)})
	}
	return nil
}

// checkJSONShape walks raw once: it must be exactly one JSON object with no
// trailing data, and no string in it (key or value) may contain NUL. The
// error names the path of the offending value, e.g. mappings[2].serviceName.
func checkJSONShape(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return invalid("the request body is not JSON", settings.FieldError{Field: "body", Message: "must be a JSON object"})
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return invalid("the request body must be a JSON object", settings.FieldError{Field: "body", Message: "must be a JSON object"})
	}
	if err := walkJSON(dec, json.Delim('{'), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("the request body has data after its JSON object", settings.FieldError{Field: "body", Message: "must hold one JSON object and nothing after it"})
	}
	return nil
}

// walkJSON reads the rest of the object or array opened by open, whose path is path.
func walkJSON(dec *json.Decoder, open json.Delim, path string) error {
	syntax := func(err error) error {
		field := path
		if field == "" {
			field = "body"
		}
		return invalid("the request body is not valid JSON", settings.FieldError{Field: field, Message: bounds.Truncate(err.Error(), 200)})
	}
	for i := 0; dec.More(); i++ {
		elem := path + "[" + strconv.Itoa(i) + "]"
		if open == '{' {
			tok, err := dec.Token()
			if err != nil {
				return syntax(err)
			}
			key, _ := tok.(string)
			elem = joinPath(path, key)
			if strings.ContainsRune(key, 0) {
				return nulInString(path)
			}
		}
		tok, err := dec.Token()
		if err != nil {
			return syntax(err)
		}
		switch t := tok.(type) {
		case json.Delim:
			if err := walkJSON(dec, t, elem); err != nil {
				return err
			}
		case string:
			if strings.ContainsRune(t, 0) {
				return nulInString(elem)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return syntax(err)
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return bounds.Truncate(key, 100)
	}
	return path + "." + bounds.Truncate(key, 100)
}

func nulInString(field string) error {
	if field == "" {
		field = "body"
	}
	return invalid("a text value holds a NUL character", settings.FieldError{Field: field, Message: "must not contain the NUL character (\\u0000)"})
}

// jsonErrorField names the field a JSON decoding error is about, or "".
func jsonErrorField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	msg := err.Error()
	if i := strings.Index(msg, "unknown field \""); i >= 0 {
		name := msg[i+len("unknown field \""):]
		if j := strings.Index(name, "\""); j >= 0 {
			return bounds.Truncate(name[:j], 100)
		}
	}
	return ""
}

// isJSONObject reports whether raw is a JSON object (not null, not another
// type), for fields where null must not mean "reset to defaults".
func isJSONObject(raw json.RawMessage) bool {
	b := bytes.TrimSpace(raw)
	return len(b) > 0 && b[0] == '{'
}

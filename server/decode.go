package server

import (
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

// maxBody bounds request bodies; no resource of this API is near it.
const maxBody = 1 << 20

// decodeStrict reads a JSON body, rejecting unknown fields by name so a typo
// is an error instead of a silently ignored setting.
func decodeStrict(c echo.Context, v any) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := jsonErrorField(err)
		if field == "" {
			field = "body"
		}
		return invalid("the request body could not be read: "+err.Error(), settings.FieldError{Field: field, Message: err.Error()})
	}
	return nil
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
			return name[:j]
		}
	}
	return ""
}

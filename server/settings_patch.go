package server

import (
	"encoding/json"
	"mime"
	"net/http"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

// mergePatchType is the media type of a JSON Merge Patch (RFC 7396).
const mergePatchType = "application/merge-patch+json"

// patchSettings applies a JSON Merge Patch (RFC 7396) to the current settings
// and saves the result with the same validation and versioning as PUT: only
// the fields the patch names change, so one setting can be changed without
// restating (or resetting) every other. The version read is required as If-Match.
func (s *Server) patchSettings(c echo.Context) error {
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != mergePatchType {
		p := newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type",
			"send the change as a JSON Merge Patch with Content-Type: "+mergePatchType)
		p.Errors = []settings.FieldError{{Field: "Content-Type", Message: "must be " + mergePatchType}}
		return p
	}
	expected, p := expectedVersion(c.Request().Header.Get("If-Match"), nil)
	if p != nil {
		return p
	}
	patch, err := readBody(c.Request())
	if err != nil {
		return err
	}
	if err := checkJSONShape(patch); err != nil {
		return err // not one object, trailing data, or a NUL the database cannot store
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(patch, &obj); err != nil || obj == nil {
		return invalid("the body must be a JSON object: the settings fields to change, null to reset one to its default",
			settings.FieldError{Field: "body", Message: "is not a JSON object"})
	}
	cur, err := s.currentSettings(c.Request().Context())
	if err != nil {
		return err
	}
	if cur.Version != expected {
		// Checked here as well as by the store: the patch applies to what was read.
		return newProblem(http.StatusPreconditionFailed, "stale-version",
			"the settings are at version "+etag(cur.Version)+", not "+etag(expected)+"; GET them again and re-apply your change")
	}
	doc, err := json.Marshal(cur.Settings)
	if err != nil {
		return err
	}
	merged, err := jsonpatch.MergePatch(doc, patch)
	if err != nil {
		return invalid("the merge patch could not be applied: "+err.Error(), settings.FieldError{Field: "body", Message: err.Error()})
	}
	return s.saveSettingsDocument(c, merged, expected, "settings patched through the API")
}

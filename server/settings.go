package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/picklist"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// SettingsStore is what the settings endpoints need from the store.
type SettingsStore interface {
	CurrentSettings(ctx context.Context) (store.SettingsVersion, error)
	// SaveCheckedSettings saves a document and the ids in it that could not
	// be checked against their vendor's list, in one transaction.
	SaveCheckedSettings(ctx context.Context, doc json.RawMessage, expectedVersion int64, actor store.Actor, unverified []store.UnverifiedValue) (store.SettingsVersion, error)
	UnverifiedStore
}

// SettingsDocument is the settings resource: the document plus its version,
// which a writer sends back (or as If-Match) so concurrent edits never overwrite each other.
type SettingsDocument struct {
	Version   int64             `json:"version"`
	UpdatedAt *time.Time        `json:"updatedAt,omitempty"`
	UpdatedBy string            `json:"updatedBy,omitempty"`
	Settings  settings.Settings `json:"settings"`
	// Unverified are ids saved while their vendor could not be reached (or
	// that the vendor later stopped offering); each read checks them again.
	Unverified []UnverifiedValue `json:"unverified"`
}

// SettingsUpdate is the body of PUT /api/v1/settings. Fields omitted from
// settings take their defaults; version may instead come as If-Match.
type SettingsUpdate struct {
	Version  *int64          `json:"version,omitempty"`
	Settings json.RawMessage `json:"settings"`
}

func (s *Server) getSettings(c echo.Context) error {
	doc, err := s.currentSettings(c.Request().Context())
	if err != nil {
		return err
	}
	if doc.Unverified, err = s.unverifiedValues(c.Request().Context(), store.ScopeSettings); err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(doc.Version))
	return c.JSON(http.StatusOK, doc)
}

func (s *Server) currentSettings(ctx context.Context) (SettingsDocument, error) {
	v, err := s.deps.Settings.CurrentSettings(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return SettingsDocument{Version: 0, Settings: settings.Defaults()}, nil
	}
	if err != nil {
		return SettingsDocument{}, err
	}
	st, err := settings.Decode(v.Document)
	if err != nil {
		return SettingsDocument{}, err
	}
	at := v.UpdatedAt
	return SettingsDocument{Version: v.Version, UpdatedAt: &at, UpdatedBy: v.UpdatedBy, Settings: st}, nil
}

func (s *Server) putSettings(c echo.Context) error {
	var in SettingsUpdate
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if len(in.Settings) == 0 {
		return invalid("the body has no settings", settings.FieldError{Field: "settings", Message: "is required"})
	}
	if !isJSONObject(in.Settings) {
		// null would otherwise decode to the defaults and reset every setting.
		return invalid("the settings must be a JSON object", settings.FieldError{Field: "settings", Message: "must be a JSON object (null or another type would reset every setting)"})
	}
	expected, p := expectedVersion(c.Request().Header.Get("If-Match"), in.Version)
	if p != nil {
		return p
	}
	return s.saveSettingsDocument(c, in.Settings, expected, "settings updated through the API")
}

// saveSettingsDocument decodes, validates and saves a whole settings document
// as version expected+1: PUT and PATCH differ only in how they build it.
func (s *Server) saveSettingsDocument(c echo.Context, raw json.RawMessage, expected int64, reason string) error {
	st, err := settings.Decode(raw)
	if err != nil {
		return invalid("the settings could not be read; nothing was saved", settings.FieldError{Field: fieldOfDecodeError(err), Message: err.Error()})
	}
	if err := st.Validate(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	refs, err := s.settingsRefsToCheck(ctx, st)
	if err != nil {
		return err
	}
	bad, unverified, _ := s.checkRefs(ctx, "", refs)
	if len(bad) > 0 {
		return invalid("the settings name ids the vendors do not offer; nothing was saved", bad...)
	}
	doc, err := json.Marshal(st)
	if err != nil {
		return err
	}
	saved, err := s.deps.Settings.SaveCheckedSettings(ctx, doc, expected, actorFrom(c, reason), unverified)
	if errors.Is(err, store.ErrConflict) {
		p := newProblem(http.StatusPreconditionFailed, "stale-version",
			"the settings changed since version "+strconv.FormatInt(expected, 10)+"; GET them again and re-apply your change")
		if c.Request().Header.Get("If-Match") == "" {
			p.Status, p.Title = http.StatusConflict, http.StatusText(http.StatusConflict)
		}
		return p
	}
	if err != nil {
		return err
	}
	at := saved.UpdatedAt
	out := SettingsDocument{Version: saved.Version, UpdatedAt: &at, UpdatedBy: saved.UpdatedBy, Settings: st}
	if out.Unverified, err = s.listUnverified(ctx, store.ScopeSettings); err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(out.Version))
	return c.JSON(http.StatusOK, out)
}

// settingsRefsToCheck lists the ids of st to check against the vendors:
// those that differ from the saved settings and those still unverified. An
// id already verified is not checked again on every save of another field.
func (s *Server) settingsRefsToCheck(ctx context.Context, st settings.Settings) ([]picklist.Ref, error) {
	cur, err := s.currentSettings(ctx)
	if err != nil {
		return nil, err
	}
	saved := map[string]string{}
	for _, r := range picklist.SettingsRefs(cur.Settings) {
		saved[r.Field] = r.ID
	}
	pending, err := s.deps.Settings.ListUnverified(ctx, store.ScopeSettings)
	if err != nil {
		return nil, err
	}
	unverified := map[string]bool{}
	for _, v := range pending {
		unverified[v.Field] = true
	}
	var out []picklist.Ref
	for _, r := range picklist.SettingsRefs(st) {
		if id, ok := saved[r.Field]; !ok || id != r.ID || unverified[r.Field] {
			out = append(out, r)
		}
	}
	return out, nil
}

// expectedVersion takes the version from If-Match or the body; one of them is
// required, so no client can overwrite settings it has not read.
func expectedVersion(ifMatch string, body *int64) (int64, *Problem) {
	if ifMatch != "" {
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(ifMatch, "W/"), `"`), 10, 64)
		if err != nil || v < 0 {
			return 0, invalid("If-Match must be the ETag of the settings you read", settings.FieldError{Field: "If-Match", Message: "must be a version ETag such as \"3\""})
		}
		if body != nil && *body != v {
			return 0, invalid("If-Match and version disagree", settings.FieldError{Field: "version", Message: "differs from If-Match"})
		}
		return v, nil
	}
	if body == nil {
		p := newProblem(http.StatusPreconditionRequired, "version-required",
			"send the version you read, as If-Match or as \"version\" in the body (0 when none was ever saved)")
		p.Errors = []settings.FieldError{{Field: "version", Message: "is required"}}
		return 0, p
	}
	if *body < 0 {
		return 0, invalid("version must not be negative", settings.FieldError{Field: "version", Message: "must be 0 or more"})
	}
	return *body, nil
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// fieldOfDecodeError names the settings field a JSON decoding error is about.
func fieldOfDecodeError(err error) string {
	if f := jsonErrorField(err); f != "" {
		return "settings." + f
	}
	return "settings"
}

func actorFrom(c echo.Context, reason string) store.Actor {
	return store.Actor{Name: actorOf(c), RequestID: c.Response().Header().Get(echo.HeaderXRequestID), Reason: reason}
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/picklist"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// UnverifiedStore keeps the saved ids their vendor has not confirmed;
// *store.Store satisfies it.
type UnverifiedStore interface {
	ListUnverified(ctx context.Context, scope string) ([]store.UnverifiedValue, error)
	Rechecked(ctx context.Context, v store.UnverifiedValue, verified bool) error
}

// UnverifiedValue is a saved id its vendor has not confirmed: state
// "unverified" when the vendor could not be reached (it is checked again on
// the next read), "invalid" when a later check found the vendor no longer
// offers it (it stays until changed).
type UnverifiedValue struct {
	// AlertType is the alert mapping the value belongs to (alert mappings only).
	AlertType string    `json:"alertType,omitempty"`
	Field     string    `json:"field"`
	Value     string    `json:"value"`
	State     string    `json:"state"`
	Message   string    `json:"message"`
	Since     time.Time `json:"since"`
	CheckedAt time.Time `json:"checkedAt"`
}

// defaultPicklistTimeout bounds reading one list while a save or a page
// waits: a vendor that is down makes the value unverified, not the save slow.
const defaultPicklistTimeout = 5 * time.Second

// picklist returns one list from the cache, reading it from its vendor
// (Autotask at the budget's lowest priority) when it is not kept or refresh is set.
func (s *Server) picklist(ctx context.Context, name picklist.Name, refresh bool) (picklist.List, bool, error) {
	timeout := s.deps.PicklistTimeout
	if timeout <= 0 {
		timeout = defaultPicklistTimeout
	}
	return s.picklists.Get(ctx, name, refresh, func(ctx context.Context) (picklist.List, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if name == picklist.Storages {
			ac, err := s.acronisClient(ctx)
			if err != nil {
				return picklist.List{}, err
			}
			return picklist.FetchStorages(ctx, ac)
		}
		at, err := s.autotaskClient(ctx)
		if err != nil {
			return picklist.List{}, err
		}
		if refresh {
			at = at.Fresh()
		}
		return picklist.FetchAutotask(ctx, at, name)
	})
}

// refreshParam reads ?refresh=true|false.
func refreshParam(c echo.Context) (bool, error) {
	switch c.QueryParam("refresh") {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, invalid("refresh must be true or false", settings.FieldError{Field: "refresh", Message: "must be true or false"})
}

func (s *Server) getAutotaskPicklist(c echo.Context) error {
	name, ok := picklist.Parse(c.Param("name"))
	if !ok {
		names := make([]string, 0, 10)
		for _, n := range picklist.AutotaskNames() {
			names = append(names, string(n))
		}
		p := newProblem(http.StatusNotFound, "not-found", fmt.Sprintf("no picklist %q; the picklists are %s", c.Param("name"), strings.Join(names, ", ")))
		p.Errors = []settings.FieldError{{Field: "name", Message: "must be one of " + strings.Join(names, ", ")}}
		return p
	}
	return s.answerPicklist(c, name)
}

func (s *Server) getAcronisStorages(c echo.Context) error {
	return s.answerPicklist(c, picklist.Storages)
}

func (s *Server) answerPicklist(c echo.Context, name picklist.Name) error {
	refresh, err := refreshParam(c)
	if err != nil {
		return err
	}
	l, _, err := s.picklist(c.Request().Context(), name, refresh)
	if err != nil {
		return err
	}
	if refresh {
		// A refresh is the moment an admin expects unverified values to be settled.
		s.recheckUnverified(c.Request().Context(), store.ScopeSettings)
		s.recheckUnverified(c.Request().Context(), store.ScopeAlertMappings)
	}
	return c.JSON(http.StatusOK, l)
}

// checkRefs checks each ref against its list. An id the list lacks is a
// field error listing the valid ones; a ref whose list cannot be read is
// returned as unverified, to be saved and checked again later.
func (s *Server) checkRefs(ctx context.Context, key string, refs []picklist.Ref) (bad []settings.FieldError, unverified []store.UnverifiedValue, found map[string]picklist.Value) {
	found = map[string]picklist.Value{}
	for _, r := range refs {
		l, _, err := s.picklist(ctx, r.List, false)
		if err != nil {
			unverified = append(unverified, store.UnverifiedValue{Key: key, Field: r.Field, Value: r.ID, State: store.StateUnverified,
				Message: "could not be checked: " + problemFor(err).Detail})
			continue
		}
		v, ok := l.Find(r.ID)
		if !ok {
			bad = append(bad, settings.FieldError{Field: r.Field, Message: l.Unknown(r.ID)})
			continue
		}
		found[r.Field] = v
	}
	return bad, unverified, found
}

// listOf is the list an unverified value must be in.
func listOf(v store.UnverifiedValue) (picklist.Name, bool) {
	if v.Scope == store.ScopeAlertMappings {
		n, ok := picklist.AlertMappingLists[v.Field]
		return n, ok
	}
	return picklist.SettingsList(v.Field)
}

// recheckUnverified checks the unverified values of scope again: confirmed
// ones are removed, refused ones become invalid. Lists are read through the
// cache; failures leave the values as they are (and are logged), since the
// answer being read does not depend on them.
func (s *Server) recheckUnverified(ctx context.Context, scope string) {
	vals, err := s.deps.Settings.ListUnverified(ctx, scope)
	if err != nil {
		s.deps.Logger.WarnContext(ctx, "list unverified values", "error", err.Error())
		return
	}
	for _, v := range vals {
		name, ok := listOf(v)
		if !ok {
			continue
		}
		l, _, err := s.picklist(ctx, name, false)
		if err != nil {
			continue // still unreachable: checked again on the next read
		}
		_, verified := l.Find(v.Value)
		if !verified {
			v.State, v.Message = store.StateInvalid, l.Unknown(v.Value)
		}
		if err := s.deps.Settings.Rechecked(ctx, v, verified); err != nil && !errors.Is(err, context.Canceled) {
			s.deps.Logger.WarnContext(ctx, "record the check of an unverified value", "field", v.Field, "error", err.Error())
		}
	}
}

// unverifiedValues lists scope's unverified values for an answer, after
// checking them again.
func (s *Server) unverifiedValues(ctx context.Context, scope string) ([]UnverifiedValue, error) {
	s.recheckUnverified(ctx, scope)
	return s.listUnverified(ctx, scope)
}

// listUnverified lists scope's unverified values for an answer.
func (s *Server) listUnverified(ctx context.Context, scope string) ([]UnverifiedValue, error) {
	vals, err := s.deps.Settings.ListUnverified(ctx, scope)
	if err != nil {
		return nil, err
	}
	out := make([]UnverifiedValue, len(vals))
	for i, v := range vals {
		out[i] = UnverifiedValue{AlertType: v.Key, Field: v.Field, Value: v.Value, State: v.State, Message: v.Message, Since: v.Since, CheckedAt: v.CheckedAt}
	}
	return out, nil
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

// AutotaskServices is one page of active Autotask services, for choosing the
// service an offering item maps to. NextCursor is "" on the last page.
type AutotaskServices struct {
	Items      []AutotaskService `json:"items"`
	NextCursor string            `json:"nextCursor,omitempty"`
}

// AutotaskService is an Autotask service as the mapping screen shows it.
type AutotaskService struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	BillingCodeID int      `json:"billingCodeId"`
	PeriodType    string   `json:"periodType"`
	UnitPrice     *float64 `json:"unitPrice,omitempty"`
}

// queryParams collects every bad query parameter of a request so they are
// reported together.
type queryParams struct {
	c   echo.Context
	bad []settings.FieldError
}

func (q *queryParams) fail(name, msg string) {
	q.bad = append(q.bad, settings.FieldError{Field: name, Message: msg})
}

// int reads an optional integer parameter within [lo, hi].
func (q *queryParams) int(name string, def, lo, hi int64) int64 {
	raw := q.c.QueryParam(name)
	if raw == "" {
		return def
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < lo || n > hi {
		q.fail(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return def
	}
	return n
}

// text reads an optional free-text parameter of at most 100 characters.
func (q *queryParams) text(name string) string {
	v := strings.TrimSpace(q.c.QueryParam(name))
	if len(v) > 100 {
		q.fail(name, "must be at most 100 characters")
		return ""
	}
	return v
}

func (q *queryParams) err() error {
	if len(q.bad) == 0 {
		return nil
	}
	names := make([]string, len(q.bad))
	for i, f := range q.bad {
		names[i] = f.Field
	}
	return invalid("bad query parameters: "+strings.Join(names, ", "), q.bad...)
}

// errStopPaging ends a paged Autotask query after the page the API serves.
var errStopPaging = errors.New("enough records")

func (s *Server) getAutotaskServices(c echo.Context) error {
	q := queryParams{c: c}
	name := q.text("q")
	size := int(q.int("pageSize", 100, 1, autotask.MaxPageSize))
	after := q.int("cursor", -1, 0, 1<<53)
	if err := q.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	at, err := s.autotaskClient(ctx)
	if err != nil {
		return err
	}
	periods, err := periodLabels(ctx, at)
	if err != nil {
		return err
	}
	query := autotask.NewQuery(autotask.Eq("isActive", true), autotask.Gt("id", after)).Limit(min(size+1, autotask.MaxPageSize))
	if name != "" {
		query = query.Where(autotask.Contains("name", name))
	}
	var page []autotask.Service
	err = autotask.QueryPages(ctx, at, query, func(p []autotask.Service) error {
		page = append(page, p...)
		if len(page) > size {
			return errStopPaging
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopPaging) {
		return fmt.Errorf("list Autotask services: %w", err)
	}
	out := AutotaskServices{Items: []AutotaskService{}}
	for i, svc := range page {
		if i == size {
			out.NextCursor = strconv.FormatInt(page[i-1].ID, 10)
			break
		}
		label := periods[svc.PeriodType]
		if label == "" {
			label = strconv.Itoa(svc.PeriodType)
		}
		out.Items = append(out.Items, AutotaskService{ID: svc.ID, Name: svc.Name, BillingCodeID: svc.BillingCodeID, PeriodType: label, UnitPrice: svc.UnitPrice})
	}
	return c.JSON(http.StatusOK, out)
}

// periodLabels maps Autotask's period type codes to their labels; codes
// differ per database, so they are read, never assumed.
func periodLabels(ctx context.Context, at *autotask.Client) (map[int]string, error) {
	fields, err := at.Fields(ctx, "Services")
	if err != nil {
		return nil, fmt.Errorf("read the period types of Autotask services: %w", err)
	}
	values, _ := autotask.Picklist(fields, "periodType")
	out := make(map[int]string, len(values))
	for _, v := range values {
		if n, err := v.Int(); err == nil {
			out[n] = v.Label
		}
	}
	return out, nil
}

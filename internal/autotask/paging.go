package autotask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"net/http"
)

// Entity is implemented by the record types; EntityName is the REST path
// segment ("Companies").
type Entity interface {
	EntityName() string
}

// PageDetails is Autotask's paging block of a query answer.
type PageDetails struct {
	Count        int    `json:"count"`
	RequestCount int    `json:"requestCount"`
	PrevPageURL  string `json:"prevPageUrl"`
	NextPageURL  string `json:"nextPageUrl"`
}

// Page is one query answer: {"items": [...], "pageDetails": {...}}.
type Page[T any] struct {
	Items       []T         `json:"items"`
	PageDetails PageDetails `json:"pageDetails"`
}

// itemResult is the get-by-id answer: {"item": {...}} or {"item": null}.
type itemResult[T any] struct {
	Item *T `json:"item"`
}

// createResult is the create/update answer: {"itemId": n}.
type createResult struct {
	ItemID *int64 `json:"itemId"`
}

// countResult is the /query/count answer.
type countResult struct {
	QueryCount int `json:"queryCount"`
}

// Get reads one record by id; a missing record is a NotFound error (Autotask
// answers {"item": null} with HTTP 200).
func Get[T Entity](ctx context.Context, c *Client, id int64) (*T, error) {
	var zero T
	return getAt[T](ctx, c, fmt.Sprintf("%s/%d", zero.EntityName(), id))
}

func getAt[T any](ctx context.Context, c *Client, path string) (*T, error) {
	var res itemResult[T]
	if err := c.do(ctx, request{method: http.MethodGet, path: path, read: true}, &res); err != nil {
		return nil, err
	}
	if res.Item == nil {
		return nil, &Error{Kind: KindNotFound, Status: http.StatusOK, Method: http.MethodGet, Path: path, Messages: []string{"no such record"}}
	}
	return res.Item, nil
}

// QueryPages runs q against T's /query endpoint and calls fn once per page,
// following nextPageUrl (re-POSTing the same body, as Autotask requires) until
// the last page or until fn returns an error.
func QueryPages[T Entity](ctx context.Context, c *Client, q Query, fn func(page []T) error) error {
	var zero T
	return queryPagesAt(ctx, c, zero.EntityName()+"/query", q, fn)
}

func queryPagesAt[T any](ctx context.Context, c *Client, path string, q Query, fn func(page []T) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	if q.MaxRecords == 0 {
		q.MaxRecords = MaxPageSize
	}
	for next := path; next != ""; {
		var page Page[T]
		if err := c.do(ctx, request{method: http.MethodPost, path: next, body: q, read: true}, &page); err != nil {
			return fmt.Errorf("autotask: query %s: %w", path, err)
		}
		if err := fn(page.Items); err != nil {
			return err
		}
		if len(page.Items) == 0 {
			return nil
		}
		next = page.PageDetails.NextPageURL
	}
	return nil
}

// QueryAll returns every record matching q (all pages). For large results prefer
// QueryPages or Iter, which hold one page at a time.
func QueryAll[T Entity](ctx context.Context, c *Client, q Query) ([]T, error) {
	var all []T
	err := QueryPages(ctx, c, q, func(p []T) error { all = append(all, p...); return nil })
	return all, err
}

// Iter yields the records matching q one by one, fetching pages as needed.
// A failure is yielded once as the error and ends the sequence.
func Iter[T Entity](ctx context.Context, c *Client, q Query) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		stop := errors.New("stop")
		err := QueryPages(ctx, c, q, func(p []T) error {
			for _, it := range p {
				if !yield(it, nil) {
					return stop
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			var zero T
			yield(zero, err)
		}
	}
}

// Count returns how many T records match q (/query/count).
func Count[T Entity](ctx context.Context, c *Client, q Query) (int, error) {
	var zero T
	q.MaxRecords, q.IncludeFields = 0, nil
	if err := q.Validate(); err != nil {
		return 0, err
	}
	var res countResult
	path := zero.EntityName() + "/query/count"
	if err := c.do(ctx, request{method: http.MethodPost, path: path, body: q, read: true}, &res); err != nil {
		return 0, fmt.Errorf("autotask: count %s: %w", zero.EntityName(), err)
	}
	return res.QueryCount, nil
}

// create POSTs body to path and returns the new record's id.
func (c *Client) create(ctx context.Context, path string, body any) (int64, error) {
	return c.write(ctx, http.MethodPost, path, body)
}

// patch PATCHes body (which carries the id) to path; Autotask updates only the
// fields present.
func (c *Client) patch(ctx context.Context, path string, body any) (int64, error) {
	return c.write(ctx, http.MethodPatch, path, body)
}

func (c *Client) write(ctx context.Context, method, path string, body any) (int64, error) {
	if c.gate != nil {
		if err := c.gate(ctx, method, path, body); err != nil {
			return 0, err
		}
		return placeholderID(method, path, body), nil
	}
	var res createResult
	if err := c.do(ctx, request{method: method, path: path, body: body}, &res); err != nil {
		return 0, err
	}
	if res.ItemID == nil {
		return 0, &Error{Kind: KindServer, Status: http.StatusOK, Method: method, Path: path, Messages: []string{"answer has no itemId"}}
	}
	return *res.ItemID, nil
}

// placeholderID is the id a gated write answers with: below zero, so it is
// never an Autotask id, and the same for the same write.
func placeholderID(method, path string, body any) int64 {
	raw, _ := json.Marshal(body)
	h := fnv.New32a()
	h.Write([]byte(method + " " + path + " "))
	h.Write(raw)
	return -int64(h.Sum32()%1_000_000_000) - 1
}

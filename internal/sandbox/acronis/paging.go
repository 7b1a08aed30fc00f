package acronis

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
)

// cursor is what a page cursor carries: the original filters and the
// position after the last item served, so the next page needs only "after".
type cursor struct {
	Query url.Values `json:"q"`
	Pos   string     `json:"p"`
}

func encodeCursor(q url.Values, pos string) string {
	b, _ := json.Marshal(cursor{Query: q, Pos: pos})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, false
	}
	var c cursor
	if json.Unmarshal(b, &c) != nil || c.Query == nil {
		return cursor{}, false
	}
	return c, true
}

// pageQuery resolves the effective filters and position of a list request:
// with "after", those of the cursor.
func pageQuery(r *http.Request) (q url.Values, pos string, limit int, err *apiError) {
	q = r.URL.Query()
	limit = 100
	if l := q.Get("limit"); l != "" {
		n, convErr := strconv.Atoi(l)
		if convErr != nil || n < 1 {
			e := errBadRequest("limit must be a positive integer")
			return nil, "", 0, &e
		}
		limit = min(n, 1000)
	}
	if a := q.Get("after"); a != "" {
		c, ok := decodeCursor(a)
		if !ok {
			e := errBadRequest("The cursor is invalid")
			return nil, "", 0, &e
		}
		return c.Query, c.Pos, limit, nil
	}
	q.Del("limit")
	q.Del("before")
	return q, "", limit, nil
}

// decodeBody reads a JSON body; a missing or wrong Content-Type is a 415 as
// on the real API.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		apiError{status: http.StatusUnsupportedMediaType, code: http.StatusUnsupportedMediaType, message: "Unsupported Media Type",
			info: "Content-Type must be application/json", domain: domainAccount}.write(w)
		return false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		errBadRequest("The body is not valid JSON: " + err.Error()).write(w)
		return false
	}
	return true
}

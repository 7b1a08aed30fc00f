package store

import (
	"strconv"
	"strings"
)

// conditions builds a WHERE clause from optional filters, numbering the
// placeholders so callers write "company_id = ?" and never format values
// into SQL.
type conditions struct {
	where []string
	args  []any
}

// add appends cond, replacing each "?" with the next positional parameter.
func (c *conditions) add(cond string, args ...any) {
	var b strings.Builder
	i := 0
	for _, r := range cond {
		if r == '?' && i < len(args) {
			c.args = append(c.args, args[i])
			i++
			b.WriteString("$" + strconv.Itoa(len(c.args)))
			continue
		}
		b.WriteRune(r)
	}
	c.where = append(c.where, b.String())
}

// param appends a value that is not part of a condition (such as a LIMIT) and
// returns its placeholder.
func (c *conditions) param(v any) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(len(c.args))
}

// clause returns " WHERE a AND b", or "" when there are no conditions.
func (c *conditions) clause() string {
	if len(c.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.where, " AND ")
}

package store

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
)

// RecordShadowWrite stores a write shadow mode kept from a vendor. The same
// write (shadow.Write.Key) is stored once; seeing it again only moves last_at.
func (s *Store) RecordShadowWrite(ctx context.Context, w shadow.Write) error {
	var company *int64
	if w.CompanyID != 0 {
		company = &w.CompanyID
	}
	payload := w.Payload
	if len(payload) == 0 {
		payload = json.RawMessage(`{}`)
	}
	warnings := w.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO shadow_writes (key, company_id, vendor, operation, target, payload, warnings, workflow_id, activity)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (key) DO UPDATE SET last_at = now(), warnings = excluded.warnings`,
		w.Key(), company, w.Vendor, w.Operation, w.Target, payload, warnings, w.WorkflowID, w.Activity)
	return wrap("record shadow write", err)
}

// ShadowReportPage is one page of the shadow report.
type ShadowReportPage struct {
	Customers  []shadow.Customer
	NextCursor string
}

// ShadowReport lists the recorded writes per customer, customers in company
// id order (0 first: writes not attributed to a company), limit customers a
// page; cursor is the NextCursor of the previous page.
func (s *Store) ShadowReport(ctx context.Context, cursor string, limit int) (ShadowReportPage, error) {
	after := int64(-1)
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 {
			return ShadowReportPage{}, invalidf("malformed cursor")
		}
		after = n
	}
	rows, err := s.pool.Query(ctx, `
		WITH page AS (
			SELECT DISTINCT coalesce(company_id, 0) AS company FROM shadow_writes
			WHERE coalesce(company_id, 0) > $1 ORDER BY 1 LIMIT $2 + 1)
		SELECT p.company, w.vendor, w.operation, w.target, w.payload, w.warnings, w.workflow_id, w.activity, w.first_at, w.last_at
		FROM page p JOIN shadow_writes w ON coalesce(w.company_id, 0) = p.company
		ORDER BY p.company, w.id`, after, limit)
	if err != nil {
		return ShadowReportPage{}, wrap("read shadow report", err)
	}
	defer rows.Close()
	var out ShadowReportPage
	for rows.Next() {
		var w shadow.Write
		if err := rows.Scan(&w.CompanyID, &w.Vendor, &w.Operation, &w.Target, &w.Payload, &w.Warnings, &w.WorkflowID, &w.Activity, &w.FirstAt, &w.LastAt); err != nil {
			return ShadowReportPage{}, wrap("read shadow report", err)
		}
		w.FirstAt, w.LastAt = w.FirstAt.UTC(), w.LastAt.UTC()
		if n := len(out.Customers); n == 0 || out.Customers[n-1].CompanyID != w.CompanyID {
			out.Customers = append(out.Customers, shadow.Customer{CompanyID: w.CompanyID})
		}
		c := &out.Customers[len(out.Customers)-1]
		c.Writes = append(c.Writes, w)
	}
	if err := rows.Err(); err != nil {
		return ShadowReportPage{}, wrap("read shadow report", err)
	}
	if len(out.Customers) > limit {
		out.Customers = out.Customers[:limit]
		out.NextCursor = strconv.FormatInt(out.Customers[limit-1].CompanyID, 10)
	}
	return out, nil
}

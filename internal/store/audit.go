package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Systems an audit entry concerns: a write to Autotask, a write to Acronis, or
// an admin change inside the integration itself.
const (
	SystemAutotask = "autotask"
	SystemAcronis  = "acronis"
	SystemAdmin    = "admin"
)

// Audit kinds written by this package; other packages use their own dotted
// kinds such as "acronis.tenant.create" or "autotask.ticket.create".
const (
	KindSettingsUpdate        = "settings.update"
	KindCredentialUpdate      = "credentials.update"
	KindServiceMappingUpsert  = "mapping.service.upsert"
	KindServiceMappingDelete  = "mapping.service.delete"
	KindCustomerMappingCreate = "mapping.customer.create"
	KindCustomerMappingDelete = "mapping.customer.delete"
	KindAlertMappingUpsert    = "mapping.alert.upsert"
)

// Actor says who asked for a write and why, so every audit row can answer
// "who changed this" and be traced to the API request.
type Actor struct {
	Name      string
	RequestID string
	Reason    string
}

// AuditEntry is one row of the audit log. Target ids are typed and nullable so
// the log can be filtered per company, tenant or ticket; Target is free text
// for anything else.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string
	RequestID  string
	Kind       string
	System     string
	CompanyID  *int64
	TenantID   *string
	ContractID *int64
	TicketID   *int64
	AlertID    *string
	Target     string
	Reason     string
	Before     json.RawMessage
	After      json.RawMessage
}

// WithActor copies who and why from an Actor into the entry.
func (e AuditEntry) WithActor(a Actor) AuditEntry {
	e.Actor, e.RequestID, e.Reason = a.Name, a.RequestID, a.Reason
	return e
}

// AuditFilter selects audit entries; zero fields do not filter. Results are
// newest first.
type AuditFilter struct {
	CompanyID *int64
	TenantID  *string
	// KindPrefix matches the kind and its dotted sub-kinds: "acronis" matches
	// "acronis.tenant.create" but not "acronisx".
	KindPrefix string
	System     string
	From       time.Time // inclusive
	To         time.Time // exclusive
	Limit      int       // default 50, at most 500
	Cursor     string    // NextCursor of the previous page
}

// AuditPage is one page of entries and the cursor of the next one ("" when
// this is the last page).
type AuditPage struct {
	Entries    []AuditEntry
	NextCursor string
}

// AppendAudit writes one audit entry on its own.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	if _, err := AppendAuditTx(ctx, s.pool, e); err != nil {
		return err
	}
	return nil
}

// AppendAuditTx writes one audit entry with q, typically a pgx.Tx, so the
// entry commits or rolls back together with the write it describes. It
// returns the entry's id.
func AppendAuditTx(ctx context.Context, q Querier, e AuditEntry) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `
		INSERT INTO audit_log (actor, request_id, kind, system, company_id, tenant_id, contract_id,
			ticket_id, alert_id, target, reason, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		RETURNING id`,
		e.Actor, e.RequestID, e.Kind, e.System, e.CompanyID, e.TenantID, e.ContractID,
		e.TicketID, e.AlertID, e.Target, e.Reason, jsonOrNil(e.Before), jsonOrNil(e.After),
	).Scan(&id)
	if err != nil {
		return 0, wrap(fmt.Sprintf("append audit %s", e.Kind), err)
	}
	return id, nil
}

const auditColumns = `id, at, actor, request_id, kind, system, company_id, tenant_id, contract_id,
	ticket_id, alert_id, target, reason, before, after`

// ListAudit returns one page of audit entries, newest first, paged by a
// keyset cursor so pages stay stable while new entries arrive.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		limit = 500
	}
	var c conditions
	if f.CompanyID != nil {
		c.add("company_id = ?", *f.CompanyID)
	}
	if f.TenantID != nil {
		c.add("tenant_id = ?", *f.TenantID)
	}
	if f.KindPrefix != "" {
		p := strings.TrimSuffix(f.KindPrefix, ".")
		c.add("(kind = ? OR kind LIKE ?)", p, likeEscaper.Replace(p)+".%")
	}
	if f.System != "" {
		c.add("system = ?", f.System)
	}
	if !f.From.IsZero() {
		c.add("at >= ?", f.From)
	}
	if !f.To.IsZero() {
		c.add("at < ?", f.To)
	}
	if f.Cursor != "" {
		at, id, err := decodeAuditCursor(f.Cursor)
		if err != nil {
			return AuditPage{}, fmt.Errorf("list audit: %w", err)
		}
		c.add("(at, id) < (?, ?)", at, id)
	}
	sql := "SELECT " + auditColumns + " FROM audit_log" + c.clause() +
		" ORDER BY at DESC, id DESC LIMIT " + c.param(limit+1)

	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return AuditPage{}, wrap("list audit", err)
	}
	defer rows.Close()
	var page AuditPage
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.RequestID, &e.Kind, &e.System, &e.CompanyID, &e.TenantID,
			&e.ContractID, &e.TicketID, &e.AlertID, &e.Target, &e.Reason, &e.Before, &e.After); err != nil {
			return AuditPage{}, wrap("list audit: scan", err)
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return AuditPage{}, wrap("list audit", err)
	}
	if len(page.Entries) > limit {
		last := page.Entries[limit-1]
		page.Entries = page.Entries[:limit]
		page.NextCursor = encodeAuditCursor(last.At, last.ID)
	}
	return page, nil
}

// The cursor is opaque to clients: base64 of "<unix micros>.<id>".
func encodeAuditCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeAuditCursor(c string) (time.Time, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, invalidf("malformed cursor")
	}
	us, ids, ok := strings.Cut(string(raw), ".")
	if !ok {
		return time.Time{}, 0, invalidf("malformed cursor")
	}
	micros, err1 := strconv.ParseInt(us, 10, 64)
	id, err2 := strconv.ParseInt(ids, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, 0, invalidf("malformed cursor")
	}
	return time.UnixMicro(micros), id, nil
}

// jsonOrNil stores an absent document as SQL NULL rather than JSON null.
func jsonOrNil(doc json.RawMessage) any {
	if len(doc) == 0 {
		return nil
	}
	return string(doc)
}

// mustJSON marshals values this package builds itself (maps and structs of
// plain fields), which cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: marshal audit document: %v", err))
	}
	return b
}

// likeEscaper quotes LIKE wildcards so a prefix matches literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

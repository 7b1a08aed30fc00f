package acronis

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Usage reports (reference §5.2). A report is generated when it is created:
// its one stored copy per format is "in_progress" until ReportDelay has
// passed on the sandbox clock, then "saved" (or "failed" when a failure was
// armed with FailNextReports). The figures are each tenant's absolute usage
// at creation, split into production and trial by the tenant's pricing mode
// (trial usage is not billed: reference §2.5).
//
// Choices where Acronis publishes nothing, made explicit:
//   - only csv_v2_0 has content; its columns are those Acronis' usage-report
//     library requires (acronis/acronis-cyber-cloud-whmcs,
//     ci-lib-php-usage-report CsvFormatParser.php) plus tenant.name; other
//     formats are accepted and stored as an empty file;
//   - every kind and level reports every tenant of the subtree below
//     tenant_id (the report's own tenant excluded), each with its own usages;
//   - usage.delta.* and usage.effective.* repeat the absolute figures.

// reportCSVHeader are the csv_v2_0 columns the sandbox writes.
var reportCSVHeader = []string{"tenant.id", "tenant.name", "tenant.kind", "application.id", "name", "edition",
	"infra.id", "infra.owner_id", "infra.backend_type",
	"usage.absolute.production", "usage.absolute.trial", "usage.absolute.total",
	"usage.delta.production", "usage.delta.trial", "usage.delta.total",
	"usage.effective.production", "usage.effective.trial", "usage.effective.total"}

var (
	reportKinds   = []string{"usage_daily", "usage_summary", "usage_current", "usage_breakdown"}
	reportLevels  = []string{"itself", "direct_partners", "all_partners", "all_customers", "accounts"}
	reportFormats = []string{"csv", "html", "json_v1", "csv_v2_0", "json_v2_0"}
)

type report struct {
	id, tenantID, kind, level string
	formats                   []string
	start, end                string
	hideZero                  bool
	schedule, action          string
	version                   int64
	createdAt                 time.Time
	stored                    []*storedReport
	deleted                   bool
}

type storedReport struct {
	id, format string
	createdAt  time.Time
	readyAt    time.Time
	failed     bool
	data       []byte
}

func (r *storedReport) status(now time.Time) string {
	switch {
	case now.Before(r.readyAt):
		return "in_progress"
	case r.failed:
		return "failed"
	}
	return "saved"
}

func (s *Sandbox) reportJSON(r *report) map[string]any {
	return map[string]any{
		"id": r.id, "version": r.version, "result_action": r.action, "recipients": []string{},
		"parameters": map[string]any{"kind": r.kind, "tenant_id": r.tenantID, "level": r.level, "formats": r.formats,
			"period": map[string]any{"start": r.start, "end": r.end}, "hide_zero_usage": r.hideZero, "show_skus": false},
		"schedule":        map[string]any{"type": r.schedule, "enabled": true},
		"generation_date": r.createdAt.Format(time.DateOnly),
	}
}

func (s *Sandbox) handleCreateReport(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Parameters struct {
			Kind          string   `json:"kind"`
			TenantID      string   `json:"tenant_id"`
			Level         string   `json:"level"`
			Formats       []string `json:"formats"`
			HideZeroUsage bool     `json:"hide_zero_usage"`
			Period        *struct {
				Start string `json:"start"`
				End   string `json:"end"`
			} `json:"period"`
		} `json:"parameters"`
		Schedule struct {
			Type string `json:"type"`
		} `json:"schedule"`
		ResultAction string   `json:"result_action"`
		Recipients   []string `json:"recipients"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	p := in.Parameters
	switch {
	case !slices.Contains(reportKinds, p.Kind):
		errBadRequest("parameters.kind must be one of " + strings.Join(reportKinds, ", ")).write(w)
		return
	case !slices.Contains(reportLevels, p.Level):
		errBadRequest("parameters.level must be one of " + strings.Join(reportLevels, ", ")).write(w)
		return
	case len(p.Formats) == 0:
		errBadRequest("parameters.formats is required").write(w)
		return
	case in.Schedule.Type != "once" && in.Schedule.Type != "monthly":
		errBadRequest("schedule.type must be once or monthly").write(w)
		return
	case in.ResultAction != "save" && in.ResultAction != "send":
		errBadRequest("result_action must be save or send").write(w)
		return
	case in.ResultAction == "send" && len(in.Recipients) == 0:
		errBadRequest("recipients are required when result_action is send").write(w)
		return
	}
	for _, f := range p.Formats {
		if !slices.Contains(reportFormats, f) {
			errBadRequest("parameters.formats: unknown format " + f).write(w)
			return
		}
	}
	now := s.now()
	today := now.Format(time.DateOnly)
	start, end := today, today
	if p.Period != nil {
		start, end = p.Period.Start, p.Period.End
	}
	ps, err1 := time.Parse(time.DateOnly, start)
	pe, err2 := time.Parse(time.DateOnly, end)
	switch {
	case err1 != nil || err2 != nil:
		errBadRequest("parameters.period.start and end must be dates YYYY-MM-DD").write(w)
		return
	case pe.Before(ps):
		errBadRequest("parameters.period.end is before its start").write(w)
		return
	case end > today:
		errBadRequest("Report period must not be in the future").write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.visible(p.TenantID)
	if e != nil {
		e.write(w)
		return
	}
	rep := &report{id: uuid.NewString(), tenantID: t.id, kind: p.Kind, level: p.Level, formats: p.Formats, start: start, end: end,
		hideZero: p.HideZeroUsage, schedule: in.Schedule.Type, action: in.ResultAction, version: 1, createdAt: now}
	fail := s.st.failReports > 0
	if fail {
		s.st.failReports--
	}
	for _, f := range p.Formats {
		st := &storedReport{id: uuid.NewString(), format: f, createdAt: now, readyAt: now.Add(s.reportDelay()), failed: fail}
		if f == "csv_v2_0" && !fail {
			st.data = s.reportCSV(t, p.HideZeroUsage)
		}
		rep.stored = append(rep.stored, st)
	}
	s.st.reports[rep.id] = rep
	s.st.reportOrder = append(s.st.reportOrder, rep)
	writeJSON(w, http.StatusOK, s.reportJSON(rep))
}

// reportCSV renders the csv_v2_0 rows of every tenant below root. Callers hold s.mu.
func (s *Sandbox) reportCSV(root *tenant, hideZero bool) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(reportCSVHeader)
	for _, t := range s.st.order {
		if t.deleted() || t.id == root.id || !s.st.inSubtree(t, root.id) {
			continue
		}
		for _, u := range s.usagesOf(t, nil) {
			abs := u["absolute_value"].(int64)
			if hideZero && abs == 0 {
				continue
			}
			prod, trial := abs, int64(0)
			if t.pricingMode == "trial" {
				prod, trial = 0, abs
			}
			infra, _ := u["infra_id"].(string)
			owner, backend := "", ""
			if infra != "" {
				owner, backend = PartnerID, "acronis"
			}
			edition, _ := u["edition"].(string)
			p, tr, tot := strconv.FormatInt(prod, 10), strconv.FormatInt(trial, 10), strconv.FormatInt(abs, 10)
			_ = cw.Write([]string{t.id, t.name, t.kind, u["application_id"].(string), u["name"].(string), edition,
				infra, owner, backend, p, tr, tot, p, tr, tot, p, tr, tot})
		}
	}
	cw.Flush()
	return buf.Bytes()
}

// liveReport finds a report the API client may read. Callers hold s.mu.
func (s *Sandbox) liveReport(id string) (*report, *apiError) {
	rep := s.st.reports[strings.ToLower(id)]
	if rep == nil || rep.deleted {
		e := errNotFound("Report", id)
		return nil, &e
	}
	return rep, nil
}

func (s *Sandbox) handleGetReport(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rep, e := s.liveReport(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, s.reportJSON(rep))
}

func (s *Sandbox) handleDeleteReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, e := s.liveReport(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	if !versionMatches(w, r, rep.id, rep.version) {
		return
	}
	rep.deleted = true
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) handleStoredReports(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rep, e := s.liveReport(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	now := s.now()
	items := []map[string]any{}
	for _, st := range rep.stored {
		items = append(items, map[string]any{"id": st.id, "report_format": st.format, "size": len(st.data),
			"created_at": st.createdAt.Format("2006-01-02T15:04:05"), "status": st.status(now)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Sandbox) handleDownloadReport(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rep, e := s.liveReport(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	sid := strings.ToLower(r.PathValue("stored"))
	for _, st := range rep.stored {
		if st.id != sid {
			continue
		}
		if st.status(s.now()) != "saved" {
			apiError{status: http.StatusNotFound, code: http.StatusNotFound, message: "Stored report is not ready.",
				info: "Stored report \"" + sid + "\" is " + st.status(s.now()), context: map[string]any{"id": sid}, domain: domainAccount}.write(w)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(st.data)
		return
	}
	errNotFound("Stored report", sid).write(w)
}

func (s *Sandbox) handleTenantReports(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, e := s.visible(r.PathValue("id"))
	if e != nil {
		e.write(w)
		return
	}
	items := []map[string]any{}
	for _, rep := range s.st.reportOrder {
		if !rep.deleted && rep.tenantID == t.id {
			items = append(items, s.reportJSON(rep))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Sandbox) reportDelay() time.Duration {
	if d := s.st.reportDelay; d != nil {
		return *d
	}
	return s.opts.ReportDelay
}

// SetReportDelay changes how long new reports stay in_progress.
func (s *Sandbox) SetReportDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.reportDelay = &d
}

// FailNextReports makes the next n reports created end "failed".
func (s *Sandbox) FailNextReports(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.failReports = n
}

// ReportInfo describes a report for tests and scripts.
type ReportInfo struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	Kind     string `json:"kind"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Status   string `json:"status"` // of its first stored copy
	Deleted  bool   `json:"deleted"`
}

// Reports lists every report created, in creation order.
func (s *Sandbox) Reports() []ReportInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	out := []ReportInfo{}
	for _, r := range s.st.reportOrder {
		info := ReportInfo{ID: r.id, TenantID: r.tenantID, Kind: r.kind, Start: r.start, End: r.end, Deleted: r.deleted}
		if len(r.stored) > 0 {
			info.Status = r.stored[0].status(now)
		}
		out = append(out, info)
	}
	return out
}

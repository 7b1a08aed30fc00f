package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/acronis-autotask/acronis-autotask/internal/bulkmap"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/workflows"
)

// BulkMappingStore keeps bulk mapping plans; *store.Store satisfies it.
type BulkMappingStore interface {
	BulkMappingState(ctx context.Context, companyIDs []int64, tenantIDs []string) (map[int64]bulkmap.CompanyState, map[string]bulkmap.TenantState, error)
	TopSuggestions(ctx context.Context, min float64) ([]bulkmap.Pair, error)
	SaveMappingPlan(ctx context.Context, p bulkmap.Plan) error
	MappingPlan(ctx context.Context, id string) (bulkmap.Plan, error)
	ClaimMappingPlan(ctx context.Context, id, actor string, now time.Time) (bulkmap.Plan, error)
	FinishMappingPlan(ctx context.Context, id string, results []bulkmap.Result, now time.Time) (bulkmap.Plan, error)
	ExportMappings(ctx context.Context) ([]store.MappingExportRow, error)
}

func (s *Server) bulkMappings() (BulkMappingStore, error) {
	if s.deps.BulkMappings == nil {
		return nil, fmt.Errorf("bulk mapping store: %w", errNotWired)
	}
	return s.deps.BulkMappings, nil
}

// BulkMappingRequest is the body of POST /api/v1/mappings/bulk: explicit
// pairs, or every unmapped company's best suggestion whose confidence is at
// least minConfidence (a tenant that is the best suggestion of two companies
// is skipped, not guessed).
type BulkMappingRequest struct {
	Pairs         []MappingPair `json:"pairs,omitempty"`
	MinConfidence *float64      `json:"minConfidence,omitempty"`
}

// MappingPair is one company → tenant mapping.
type MappingPair struct {
	CompanyID int64  `json:"companyId"`
	TenantID  string `json:"tenantId"`
}

// maxBulkPairs bounds one plan: each pair is one workflow update when applied.
const maxBulkPairs = 2000

func (s *Server) postBulkMappings(c echo.Context) error {
	var in BulkMappingRequest
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if (len(in.Pairs) > 0) == (in.MinConfidence != nil) {
		return invalid("give exactly one of pairs or minConfidence",
			settings.FieldError{Field: "pairs", Message: "give exactly one of pairs or minConfidence"},
			settings.FieldError{Field: "minConfidence", Message: "give exactly one of pairs or minConfidence"})
	}
	if len(in.Pairs) > maxBulkPairs {
		return invalid("too many pairs", settings.FieldError{Field: "pairs", Message: fmt.Sprintf("at most %d pairs per plan", maxBulkPairs)})
	}
	if m := in.MinConfidence; m != nil && (*m <= 0 || *m > 1) {
		return invalid("minConfidence out of range", settings.FieldError{Field: "minConfidence", Message: "must be above 0 and at most 1"})
	}
	st, err := s.bulkMappings()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	source := bulkmap.SourceExplicit
	var pairs []bulkmap.Pair
	var skipped []bulkmap.Skipped
	if in.MinConfidence != nil {
		source = bulkmap.SourceSuggestion
		top, err := st.TopSuggestions(ctx, *in.MinConfidence)
		if err != nil {
			return err
		}
		pairs, skipped = bulkmap.Unambiguous(top)
	} else {
		for i, p := range in.Pairs {
			pairs = append(pairs, bulkmap.Pair{CompanyID: p.CompanyID, TenantID: strings.TrimSpace(p.TenantID), Where: bulkmap.Where{Index: i}})
		}
	}
	plan, err := s.previewPlan(ctx, st, c, source, pairs, skipped)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, plan)
}

// previewPlan validates pairs as one plan and stores it; any bad pair is a
// 400 listing every bad field, and nothing is stored.
func (s *Server) previewPlan(ctx context.Context, st BulkMappingStore, c echo.Context, source string, pairs []bulkmap.Pair, skipped []bulkmap.Skipped) (bulkmap.Plan, error) {
	items, problems, err := validatePairs(ctx, st, pairs)
	if err != nil {
		return bulkmap.Plan{}, err
	}
	if len(problems) > 0 {
		return bulkmap.Plan{}, invalid(fmt.Sprintf("%d problems; nothing was saved", len(problems)), problems...)
	}
	if items == nil {
		items = []bulkmap.Item{}
	}
	if skipped == nil {
		skipped = []bulkmap.Skipped{}
	}
	now := time.Now().UTC()
	plan := bulkmap.Plan{ID: newPlanID(), Status: bulkmap.StatusPreview, Source: source, Items: items, Skipped: skipped,
		CreatedAt: now, CreatedBy: actorOf(c), ExpiresAt: now.Add(bulkmap.PreviewLifetime)}
	if err := st.SaveMappingPlan(ctx, plan); err != nil {
		return bulkmap.Plan{}, err
	}
	return plan, nil
}

// validatePairs checks pairs against the read model's state.
func validatePairs(ctx context.Context, st BulkMappingStore, pairs []bulkmap.Pair) ([]bulkmap.Item, []settings.FieldError, error) {
	companyIDs := make([]int64, 0, len(pairs))
	tenantIDs := make([]string, 0, len(pairs))
	for _, p := range pairs {
		companyIDs, tenantIDs = append(companyIDs, p.CompanyID), append(tenantIDs, p.TenantID)
	}
	companies, tenants, err := st.BulkMappingState(ctx, companyIDs, tenantIDs)
	if err != nil {
		return nil, nil, err
	}
	items, problems := bulkmap.Build(pairs, companies, tenants)
	fields := make([]settings.FieldError, len(problems))
	for i, p := range problems {
		fields[i] = settings.FieldError{Field: p.Field, Message: p.Message}
	}
	return items, fields, nil
}

func newPlanID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "mp_" + hex.EncodeToString(b)
}

func (s *Server) getBulkMapping(c echo.Context) error {
	st, err := s.bulkMappings()
	if err != nil {
		return err
	}
	plan, err := st.MappingPlan(c.Request().Context(), c.Param("planID"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, plan)
}

func (s *Server) applyBulkMapping(c echo.Context) error {
	st, err := s.bulkMappings()
	if err != nil {
		return err
	}
	plan, err := s.applyPlan(c, st, c.Param("planID"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, plan)
}

// applyConcurrency bounds the workflow updates in flight while applying.
const applyConcurrency = 8

// applyPlan maps every item through its company's workflow (which checks
// the tenant in Acronis and records the mapping), and records per item what
// happened: a refusal of one company does not stop the others.
func (s *Server) applyPlan(c echo.Context, st BulkMappingStore, id string) (bulkmap.Plan, error) {
	ctx := c.Request().Context()
	cw, err := s.customers()
	if err != nil {
		return bulkmap.Plan{}, err
	}
	plan, err := st.ClaimMappingPlan(ctx, id, actorOf(c), time.Now().UTC())
	if errors.Is(err, store.ErrConflict) {
		return bulkmap.Plan{}, newProblem(http.StatusConflict, "conflict", err.Error())
	}
	if err != nil {
		return bulkmap.Plan{}, err
	}
	results := make([]bulkmap.Result, len(plan.Items))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	g.SetLimit(applyConcurrency)
	for i, it := range plan.Items {
		if it.Action == bulkmap.ActionKeep {
			results[i] = bulkmap.Result{CompanyID: it.CompanyID, TenantID: it.TenantID, OK: true, Message: "already mapped to this tenant"}
			continue
		}
		g.Go(func() error {
			uctx, cancel := context.WithTimeout(gctx, updateTimeout)
			defer cancel()
			res, err := cw.Update(uctx, workflows.Company{ID: it.CompanyID, Name: it.CompanyName}, workflows.UpdateMap, workflows.MapRequest{TenantID: it.TenantID, Actor: plan.AppliedBy})
			r := bulkmap.Result{CompanyID: it.CompanyID, TenantID: it.TenantID, OK: err == nil, Message: res.Message}
			if err != nil {
				r.Message = problemFor(updateProblem(it.CompanyID, workflows.UpdateMap, err)).Detail
			}
			mu.Lock()
			results[i] = r
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return st.FinishMappingPlan(context.WithoutCancel(ctx), plan.ID, results, time.Now().UTC())
}

// mappingsCSVHeader is the header of GET /api/v1/mappings.csv; PUT needs
// company_id and tenant_id and ignores the other columns.
var mappingsCSVHeader = []string{"company_id", "company_name", "tenant_id", "tenant_name", "how", "state", "health"}

func (s *Server) getMappingsCSV(c echo.Context) error {
	st, err := s.bulkMappings()
	if err != nil {
		return err
	}
	rows, err := st.ExportMappings(c.Request().Context())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(mappingsCSVHeader)
	for _, r := range rows {
		_ = w.Write([]string{strconv.FormatInt(r.CompanyID, 10), r.CompanyName, r.TenantID, r.TenantName, r.How, r.State, r.Health})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write mappings CSV: %w", err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="mappings.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// putMappingsCSV maps every line's company to its tenant as one plan: any
// bad line is a 400 naming its line and field, and nothing is saved or
// mapped. ?preview=true stores the plan without applying it.
func (s *Server) putMappingsCSV(c echo.Context) error {
	if ct := c.Request().Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "text/csv") {
		return newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "send the mappings as text/csv")
	}
	preview := c.QueryParam("preview") == "true"
	st, err := s.bulkMappings()
	if err != nil {
		return err
	}
	if !preview {
		if _, err := s.customers(); err != nil {
			return err
		}
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBody))
	if err != nil {
		return invalid("the request body could not be read", settings.FieldError{Field: "body", Message: err.Error()})
	}
	ctx := c.Request().Context()
	pairs, problems := parseMappingsCSV(raw)
	if len(problems) > 0 {
		// Check the well-formed lines too, so one answer lists every bad line.
		var complete []bulkmap.Pair
		for _, p := range pairs {
			if p.CompanyID > 0 && p.TenantID != "" {
				complete = append(complete, p)
			}
		}
		_, more, err := validatePairs(ctx, st, complete)
		if err != nil {
			return err
		}
		problems = append(problems, more...)
		slices.SortStableFunc(problems, func(a, b settings.FieldError) int { return lineOf(a.Field) - lineOf(b.Field) })
		return invalid(fmt.Sprintf("%d bad lines; nothing was saved", len(problems)), problems...)
	}
	plan, err := s.previewPlan(ctx, st, c, bulkmap.SourceCSV, pairs, nil)
	if err != nil {
		return err
	}
	if preview {
		return c.JSON(http.StatusCreated, plan)
	}
	plan, err = s.applyPlan(c, st, plan.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, plan)
}

// parseMappingsCSV reads the company_id and tenant_id columns of every line
// after the header; problems name the line and the column.
func parseMappingsCSV(raw []byte) ([]bulkmap.Pair, []settings.FieldError) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, []settings.FieldError{{Field: "line 1", Message: "a header line with company_id and tenant_id is required"}}
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	ci, ti := slices.Index(header, "company_id"), slices.Index(header, "tenant_id")
	var problems []settings.FieldError
	if ci < 0 || ti < 0 {
		return nil, []settings.FieldError{{Field: "line 1", Message: "the header must name the columns company_id and tenant_id"}}
	}
	var pairs []bulkmap.Pair
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			problems = append(problems, settings.FieldError{Field: fmt.Sprintf("line %d", line), Message: err.Error()})
			if pe == nil {
				break
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		where := bulkmap.Where{Line: line}
		p := bulkmap.Pair{Where: where}
		if ci >= len(rec) {
			problems = append(problems, settings.FieldError{Field: where.Field("companyId", "company_id"), Message: "is missing"})
		} else if n, err := strconv.ParseInt(strings.TrimSpace(rec[ci]), 10, 64); err != nil || n <= 0 {
			problems = append(problems, settings.FieldError{Field: where.Field("companyId", "company_id"), Message: fmt.Sprintf("%q is not a positive integer", rec[ci])})
		} else {
			p.CompanyID = n
		}
		if ti >= len(rec) || strings.TrimSpace(rec[ti]) == "" {
			problems = append(problems, settings.FieldError{Field: where.Field("tenantId", "tenant_id"), Message: "is required"})
		} else {
			p.TenantID = strings.TrimSpace(rec[ti])
		}
		pairs = append(pairs, p)
	}
	if len(pairs) > maxBulkPairs {
		problems = append(problems, settings.FieldError{Field: "body", Message: fmt.Sprintf("at most %d lines per file", maxBulkPairs)})
	}
	return pairs, problems
}

// lineOf reads the line number of a "line N: field" problem, for sorting.
func lineOf(field string) int {
	var n int
	_, _ = fmt.Sscanf(field, "line %d", &n)
	return n
}

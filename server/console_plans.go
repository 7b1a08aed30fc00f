package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/planner"
	"github.com/acronis-autotask/acronis-autotask/internal/servicemap"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// Plans in the console (issues 14 and 17): a change to the settings or the
// service mappings is first previewed for every customer (POST
// /api/v1/plans, scope all), shown as a plan, and saved only when an admin
// applies the plan by its id (POST /api/v1/plans/{id}/apply), which refuses
// with the drifts when the plan no longer holds. The API validates, plans
// and applies; these handlers translate forms and show the answers.

// planPageSize is how many customers with something to do a plan page lists.
const planPageSize = 50

// quietListSize bounds the names of customers with nothing to do a plan page lists.
const quietListSize = 300

// Form intents of the settings and billing forms' buttons.
const (
	intentSave    = "save"    // preview; save at once when the plan writes and warns nothing
	intentPreview = "preview" // always show the plan
	intentDirect  = "direct"  // save without a preview (offered when a preview cannot be made)
)

// planBacks are the pages a plan page returns to: the forms that make plans.
var planBacks = []string{"/settings", "/tickets", "/billing"}

// plansWired reports whether this build previews plans; without the plan
// service (tests and tools that run no workflows) the forms save directly.
func (con *webConsole) plansWired() bool { return con.srv.deps.Plans != nil }

// previewPlan asks the API for a plan of scope under change (PlanRequest
// fields, as a map so an empty list of mappings is sent, not left out); a
// refusal comes back as the problem.
func (con *webConsole) previewPlan(c echo.Context, scope plan.Scope, change map[string]any) (plan.Set, *Problem, error) {
	body := map[string]any{"scope": scope}
	for k, v := range change {
		body[k] = v
	}
	var set plan.Set
	p, err := con.send(c, http.MethodPost, "/api/v1/plans", body, &set)
	return set, p, err
}

// needsReview is the console's rule for Save: a plan that writes anything
// (an offering item, a tenant step) or warns is shown before saving; one
// that does neither for any customer is saved at once.
func needsReview(set plan.Set) bool { return set.Summary.Writes > 0 || set.Summary.Warnings > 0 }

// planURL is a plan's page, returning to back.
func planURL(id, back string) string {
	return "/plans/" + url.PathEscape(id) + "?" + url.Values{"back": {back}}.Encode()
}

// planBack is the form page a plan page returns to: the one named if it is
// a known form, else the one the plan's change belongs to.
func planBack(named string, set plan.Set) string {
	for _, b := range planBacks {
		if named == b {
			return b
		}
	}
	if set.Change.ServiceMappings != nil {
		return "/billing"
	}
	return "/settings"
}

// settingChange is one setting a plan changes.
type settingChange struct{ Path, Label, Old, New string }

// mappingChange is one offering item whose service mapping a plan changes.
type mappingChange struct{ Item, Old, New string }

// driftLine is one customer whose plan no longer holds.
type driftLine struct {
	CompanyID int64
	Name      string
	Changed   string
}

// planDrift explains a refused apply.
type planDrift struct {
	Detail    string
	Customers []driftLine
	// SettingsMoved says the saved settings changed since the preview: the
	// change must be entered again over them, not re-previewed whole.
	SettingsMoved bool
}

// planView is a plan as its page shows it.
type planView struct {
	Set  plan.Set
	Back string
	// What names the change: "settings", "service mappings", or "" (the saved configuration).
	What            string
	SettingsChanges []settingChange
	MappingChanges  []mappingChange
	// Active are this page's customers with writes, steps or warnings (warnings first).
	Active                   []plan.Entry
	ActiveTotal              int
	Page, Pages              int
	PrevPage, NextPage       int
	Quiet                    []plan.Entry
	QuietTotal, QuietHidden  int
	Drift                    *planDrift
	ChangesSettings, Applied bool
}

func (con *webConsole) planPage(c echo.Context) error {
	var set plan.Set
	if err := con.get(c, "/api/v1/plans/"+url.PathEscape(c.Param("planID")), nil, &set); err != nil {
		return err
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	v, err := con.planViewOf(c, set, page)
	if err != nil {
		return err
	}
	return con.renderPlan(c, http.StatusOK, v)
}

func (con *webConsole) renderPlan(c echo.Context, status int, v planView) error {
	nav := strings.TrimPrefix(v.Back, "/")
	return con.render(c, status, "plan", "Plan: what saving changes", nav, v)
}

// planViewOf lays out page (1-based) of a plan and what it changes against
// the configuration saved now.
func (con *webConsole) planViewOf(c echo.Context, set plan.Set, page int) (planView, error) {
	v := planView{Set: set, Back: planBack(c.QueryParam("back"), set), Applied: set.Status == plan.StatusApplied}
	var active []plan.Entry
	for _, e := range set.Customers {
		if len(e.Warnings) > 0 || len(e.Steps) > 0 || hasWrite(e.Customer) {
			active = append(active, e)
		} else {
			v.Quiet = append(v.Quiet, e)
		}
	}
	sort.SliceStable(active, func(i, j int) bool { return len(active[i].Warnings) > 0 && len(active[j].Warnings) == 0 })
	v.ActiveTotal, v.QuietTotal = len(active), len(v.Quiet)
	if len(v.Quiet) > quietListSize {
		v.QuietHidden, v.Quiet = len(v.Quiet)-quietListSize, v.Quiet[:quietListSize]
	}
	v.Pages = max(1, (len(active)+planPageSize-1)/planPageSize)
	v.Page = min(max(page, 1), v.Pages)
	v.Active = active[min((v.Page-1)*planPageSize, len(active)):min(v.Page*planPageSize, len(active))]
	if v.Page > 1 {
		v.PrevPage = v.Page - 1
	}
	if v.Page < v.Pages {
		v.NextPage = v.Page + 1
	}
	if set.Change.Settings != nil {
		v.What, v.ChangesSettings = "settings", true
		doc, _, err := con.settingsDoc(c)
		if err != nil {
			return v, err
		}
		var planned map[string]any
		if err := json.Unmarshal(set.Change.Settings, &planned); err != nil {
			return v, fmt.Errorf("decode the plan's settings: %w", err)
		}
		v.SettingsChanges = settingsDiff(doc, planned)
	}
	if set.Change.ServiceMappings != nil {
		if v.What != "" {
			v.What += " and "
		}
		v.What += "service mappings"
		var cur ServiceMappings
		if err := con.get(c, "/api/v1/service-mappings", nil, &cur); err != nil {
			return v, err
		}
		var planned []store.ServiceMapping
		if err := json.Unmarshal(set.Change.ServiceMappings, &planned); err != nil {
			return v, fmt.Errorf("decode the plan's service mappings: %w", err)
		}
		v.MappingChanges = mappingsDiff(cur.Mappings, planned)
	}
	return v, nil
}

func hasWrite(c plan.Customer) bool {
	for _, it := range c.Items {
		if it.Write {
			return true
		}
	}
	return false
}

// settingsDiff lists the settings whose values differ between the saved
// document and the planned one, labelled as the form labels them.
func settingsDiff(saved, planned map[string]any) []settingChange {
	labels, prev := map[string]string{}, ""
	for _, f := range settingFields {
		label := f.Label
		if strings.HasPrefix(label, "…") { // "… after days" continues the field before it
			label = prev + " " + label
		}
		labels[f.Path], prev = f.Section+" › "+label, label
	}
	old, next := map[string]string{}, map[string]string{}
	flatten("", saved, old)
	flatten("", planned, next)
	var out []settingChange
	for path, n := range next {
		if o := old[path]; o != n {
			out = append(out, settingChange{Path: path, Label: labels[path], Old: o, New: n})
		}
	}
	for path, o := range old {
		if _, ok := next[path]; !ok {
			out = append(out, settingChange{Path: path, Label: labels[path], Old: o, New: "—"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// flatten writes the leaves of a decoded JSON document as path → JSON text.
func flatten(prefix string, v any, out map[string]string) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, x, out)
		}
		return
	}
	if v == nil {
		out[prefix] = "—"
		return
	}
	if s, ok := v.(string); ok {
		out[prefix] = s
		return
	}
	raw, _ := json.Marshal(v)
	out[prefix] = string(raw)
}

// mappingsDiff lists the offering items whose mapping the plan adds, changes or removes.
func mappingsDiff(saved []ServiceMapping, planned []store.ServiceMapping) []mappingChange {
	old, next := map[string]string{}, map[string]string{}
	for _, m := range saved {
		var overage *int64
		if m.Overage != nil {
			overage = m.Overage.ServiceID
		}
		old[itemKey(m.OfferingItem, m.InfraID)] = describeMapping(m.ServiceID, m.ServiceName, m.Free, m.BilledUnit, m.Divisor, m.Rounding, overage)
	}
	for _, m := range planned {
		next[itemKey(m.OfferingItem, m.InfraID)] = describeMapping(m.ServiceID, m.ServiceName, m.Free, m.BilledUnit, m.Divisor, m.Rounding, m.OverageServiceID)
	}
	var out []mappingChange
	for k, n := range next {
		if o, ok := old[k]; !ok || o != n {
			if !ok {
				o = "not mapped"
			}
			out = append(out, mappingChange{Item: k, Old: o, New: n})
		}
	}
	for k, o := range old {
		if _, ok := next[k]; !ok {
			out = append(out, mappingChange{Item: k, Old: o, New: "not mapped"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Item < out[j].Item })
	return out
}

func itemKey(item, infra string) string {
	if infra == "" {
		return item
	}
	return item + "@" + infra
}

func describeMapping(id *int64, name string, free bool, unit, divisor, rounding string, overage *int64) string {
	s := name
	if id != nil {
		s = fmt.Sprintf("%s (%d)", name, *id)
	}
	if free {
		s += ", free"
	}
	if unit != "" || divisor != "" || rounding != "" {
		s += fmt.Sprintf(", %s ÷ %s rounded %s", orDefault(unit), orDefault(divisor), orDefault(rounding))
	}
	if overage != nil {
		s += fmt.Sprintf(", overage as service %d", *overage)
	}
	return s
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

// applyPlan applies a plan by its id. A plan that no longer holds is shown
// again with what changed; success returns to the form the plan came from.
func (con *webConsole) applyPlan(c echo.Context) error {
	id := c.Param("planID")
	ans, err := con.call(c, http.MethodPost, "/api/v1/plans/"+url.PathEscape(id)+"/apply", nil, nil)
	if err != nil {
		return err
	}
	p := ans.problem()
	if p == nil {
		var out planner.Applied
		if err := json.Unmarshal(ans.body, &out); err != nil {
			return fmt.Errorf("decode the applied plan: %w", err)
		}
		return redirect(c, planBack(c.FormValue("back"), out.Set), appliedMessage(out))
	}
	if p.Status != http.StatusConflict {
		return p
	}
	var set plan.Set
	if err := con.get(c, "/api/v1/plans/"+url.PathEscape(id), nil, &set); err != nil {
		return err
	}
	c.QueryParams().Set("back", c.FormValue("back"))
	v, err := con.planViewOf(c, set, 1)
	if err != nil {
		return err
	}
	if p.Type != problemTypeBase+"plan-drift" {
		c.Set(problemKey, p) // applied already, or claimed by someone else
		return con.renderPlan(c, p.Status, v)
	}
	_, current, err := con.settingsDoc(c)
	if err != nil {
		return err
	}
	v.Drift = &planDrift{Detail: p.Detail, SettingsMoved: current.Version != set.SettingsVersion}
	names := map[int64]string{}
	for _, e := range set.Customers {
		names[e.CompanyID] = e.CompanyName
	}
	for _, d := range p.Drifts {
		v.Drift.Customers = append(v.Drift.Customers, driftLine{CompanyID: d.CompanyID, Name: names[d.CompanyID], Changed: strings.Join(d.Changed, ", ")})
	}
	return con.renderPlan(c, p.Status, v)
}

// appliedMessage says what applying a plan saved, and what it could not do at once.
func appliedMessage(out planner.Applied) string {
	var saved []string
	if out.Set.Change.Settings != nil {
		saved = append(saved, "settings")
	}
	if out.Set.Change.ServiceMappings != nil {
		saved = append(saved, "service mappings")
	}
	msg := "The plan was applied"
	if len(saved) > 0 {
		msg += ": " + strings.Join(saved, " and ") + " saved"
	}
	msg += fmt.Sprintf("; %d customers were asked to re-plan now.", len(out.Set.Customers))
	const shown = 3 // the message travels in a cookie
	for i, w := range out.Warnings {
		if i == shown {
			msg += fmt.Sprintf(" And %d more warnings (audit log).", len(out.Warnings)-shown)
			break
		}
		msg += " " + w + "."
	}
	return msg
}

// previewAgain previews a drifted plan's change once more, over what holds
// now. The change is the plan's whole configuration, so it is offered only
// while the saved settings are the ones the plan was made over.
func (con *webConsole) previewAgain(c echo.Context) error {
	var set plan.Set
	if err := con.get(c, "/api/v1/plans/"+url.PathEscape(c.Param("planID")), nil, &set); err != nil {
		return err
	}
	change := map[string]any{}
	if set.Change.Settings != nil {
		change["settings"] = set.Change.Settings
	}
	if set.Change.ServiceMappings != nil {
		var rows []store.ServiceMapping
		if err := json.Unmarshal(set.Change.ServiceMappings, &rows); err != nil {
			return fmt.Errorf("decode the plan's service mappings: %w", err)
		}
		in := make([]ServiceMappingInput, len(rows))
		for i, r := range rows {
			in[i] = ServiceMappingInput{OfferingItem: r.OfferingItem, InfraID: r.InfraID, ServiceID: r.ServiceID, Free: r.Free,
				BilledUnit: r.BilledUnit, Divisor: r.Divisor, Rounding: r.Rounding}
			if r.OverageServiceID != nil {
				in[i].Overage = &servicemap.Overage{ServiceID: r.OverageServiceID}
			}
		}
		change["serviceMappings"] = in
	}
	if len(set.Change.CustomerMappings) > 0 {
		change["customerMappings"] = set.Change.CustomerMappings
	}
	fresh, p, err := con.previewPlan(c, set.Scope, change)
	if err != nil {
		return err
	}
	if p != nil {
		return p
	}
	return redirect(c, planURL(fresh.ID, planBack(c.FormValue("back"), fresh)), "A new plan was made over what holds now; review it again.")
}

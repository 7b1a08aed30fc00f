package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/picklist"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/settings"
)

// Kinds of settings inputs.
const (
	kindBool   = "bool"
	kindInt    = "int"
	kindID     = "id" // an optional Autotask id: empty is null
	kindText   = "text"
	kindEmail  = "email"
	kindSelect = "select"
	kindMulti  = "multi"
)

// option is one choice of a select or checkbox group.
type option struct{ Value, Label string }

// settingField is how one setting is shown; Path is its JSON path in the
// settings document, which is also the form field's name, so the API's field
// errors land next to the right input.
type settingField struct {
	Section, Path, Label, Kind, Help string
	Options                          []option
}

// settingFields is every setting of internal/settings, in the guide's order.
// Only presentation lives here: values, defaults and rules stay in the API.
var settingFields = []settingField{
	{"General", "mode", "Mode", kindSelect, "shadow runs everything but records each write instead of sending it (Shadow report)", []option{
		{string(settings.ModeLive), "Live"}, {string(settings.ModeShadow), "Shadow"}}},
	{"General", "billingEnabled", "Billing (usage reporting to Autotask)", kindBool, "report pay-as-you-go usage as contract service adjustments", nil},
	{"General", "twoWaySync", "Two-way synchronization", kindBool, "create Autotask services for offering items that have none", nil},
	{"General", "ticketCreationEnabled", "Ticket creation from alerts", kindBool, "", nil},
	{"General", "syncIntervalSeconds", "Sync interval (seconds)", kindInt, "5 to 900", nil},
	{"New services", "newServices.allocationCodeId", "Allocation code (Recurring Contract Service billing code)", kindID, "required with two-way sync", nil},
	{"New services", "newServices.periodType", "Period type", kindSelect, "", []option{
		{string(settings.PeriodMonthly), "Monthly"}, {string(settings.PeriodQuarterly), "Quarterly"},
		{string(settings.PeriodSemiAnnual), "Semi-Annual"}, {string(settings.PeriodYearly), "Yearly"}}},
	{"Provisioning", "provisioning.autoCreateCustomers", "Create customer tenants automatically", kindBool, "for companies with services mapped in a recurring contract", nil},
	{"Provisioning", "provisioning.createAccountsBasedOn", "Create accounts based on", kindSelect, "", []option{
		{string(settings.BasedOnPrimaryContact), "Primary contact"}, {string(settings.BasedOnCompanyName), "Company name"}}},
	{"Provisioning", "provisioning.activationEmail", "Activation e-mail", kindEmail, "required when accounts are based on the company name", nil},
	{"Provisioning", "provisioning.twoFactorAuthentication", "Two-factor authentication for new tenants", kindBool, "", nil},
	{"Provisioning", "provisioning.tenantMode", "New tenants start in", kindSelect, "", []option{
		{string(settings.ModeProduction), "Production"}, {string(settings.ModeTrial), "Trial"}}},
	{"Provisioning", "provisioning.defaultStorageId", "Default storage (Acronis storage)", kindText, "used when a contract has no storage service", nil},
	{"Deprovisioning", "deprovisioning.zeroQuotas", "Set quotas to 0 when services end", kindBool, "", nil},
	{"Deprovisioning", "deprovisioning.disable.enabled", "Disable the tenant", kindBool, "", nil},
	{"Deprovisioning", "deprovisioning.disable.afterDays", "… after days", kindInt, "", nil},
	{"Deprovisioning", "deprovisioning.delete.enabled", "Delete the tenant", kindBool, "", nil},
	{"Deprovisioning", "deprovisioning.delete.afterDays", "… after days", kindInt, "", nil},
	{"Tickets", "tickets.reopening.enabled", "Re-open only recently closed tickets", kindBool, "otherwise a recurring alert re-opens its ticket every time", nil},
	{"Tickets", "tickets.reopening.withinDays", "… closed within days", kindInt, "", nil},
	{"Tickets", "tickets.autoClose.enabled", "Close tickets when their alert clears", kindBool, "", nil},
	{"Tickets", "tickets.autoClose.statusId", "… with status (Autotask ticket status)", kindID, "", nil},
	{"Tickets", "tickets.sourceId", "Ticket source (Autotask)", kindID, "", nil},
	{"Tickets", "tickets.noteTypeId", "Note type (Autotask)", kindID, "", nil},
	{"Tickets", "tickets.notePublishId", "Note publish (Autotask)", kindID, "", nil},
	{"Tickets", "tickets.dismissAlertOnComplete", "Dismiss the Acronis alert when its ticket is completed", kindBool, "", nil},
	{"Usage reporting", "usageReporting.period", "Reporting period", kindSelect, "", []option{
		{string(settings.PeriodCurrentMonth), "Current month"}, {string(settings.PeriodPreviousMonth), "Previous month"},
		{string(settings.PeriodCustomBillingMonth), "Custom billing month"}}},
	{"Usage reporting", "usageReporting.billingDay", "Billing day (custom billing month)", kindInt, "1 to 28", nil},
	{"Usage reporting", "usageReporting.storage", "Report backup storage as", kindMulti, "none turns backup storage off", []option{
		{string(settings.StorageQuotaOverageTotal), "Quota, overage and total"}, {string(settings.StorageClass1Free), "Class 1 (free)"},
		{string(settings.StorageClass2Billed), "Class 2 (billed)"}}},
}

// ticketSettingPrefix selects the fields the ticket page edits.
const ticketSettingPrefix = "tickets."

// fieldValue is one field as the form shows it.
type fieldValue struct {
	settingField
	Value   string
	Checked bool
	Values  []string
	Error   string
	// Unverified says why a saved id is not confirmed by its vendor.
	Unverified string
}

// settingsSection groups fields under a heading.
type settingsSection struct {
	Name   string
	Fields []fieldValue
}

type settingsView struct {
	Version   int64
	UpdatedBy string
	UpdatedAt string
	Sections  []settingsSection
	// Conflict explains a save refused because someone else saved first.
	Conflict string
	Action   string
	// Previews says Save first shows what the change does to the customers.
	Previews bool
	// PreviewFailed offers saving without a preview after the plan could not be made.
	PreviewFailed bool
}

// lookupPath reads a dotted path of a decoded JSON document.
func lookupPath(doc map[string]any, path string) any {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// setPath writes a dotted path of a decoded JSON document.
func setPath(doc map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	m := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// formSettings shows doc in the fields selected by prefix ("" for all);
// choices turns free-text fields into selects where the API lists the values.
func formSettings(doc map[string]any, prefix string, errs map[string]string, choices map[string][]option) []settingsSection {
	var out []settingsSection
	for _, f := range settingFields {
		if !strings.HasPrefix(f.Path, prefix) {
			continue
		}
		if opts, ok := choices[f.Path]; ok && len(opts) > 0 {
			f.Kind, f.Options = kindSelect, opts
		}
		fv := fieldValue{settingField: f, Error: errs[f.Path]}
		switch v := lookupPath(doc, f.Path).(type) {
		case bool:
			fv.Checked = v
		case float64:
			fv.Value = strconv.FormatFloat(v, 'f', -1, 64)
		case string:
			fv.Value = v
		case []any:
			for _, x := range v {
				fv.Values = append(fv.Values, fmt.Sprint(x))
			}
		case []string:
			fv.Values = v
		case nil:
		default: // numbers the form put back (int64)
			fv.Value = fmt.Sprint(v)
		}
		if f.Kind == kindSelect && !hasOption(f.Options, fv.Value) {
			// A saved value the list does not offer stays visible, marked.
			fv.Options = append(slices.Clone(f.Options), option{fv.Value, fv.Value + " (not offered by the vendor)"})
		}
		if len(out) == 0 || out[len(out)-1].Name != f.Section {
			out = append(out, settingsSection{Name: f.Section})
		}
		out[len(out)-1].Fields = append(out[len(out)-1].Fields, fv)
	}
	return out
}

func hasOption(opts []option, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}

// settingChoiceLists are the settings the console offers as choices from a
// vendor's list, and the list of each.
var settingChoiceLists = []struct {
	path string
	list picklist.Name
}{
	{"newServices.allocationCodeId", picklist.BillingCodes},
	{"provisioning.defaultStorageId", picklist.Storages},
	{"tickets.autoClose.statusId", picklist.TicketStatuses},
	{"tickets.sourceId", picklist.TicketSources},
	{"tickets.noteTypeId", picklist.NoteTypes},
	{"tickets.notePublishId", picklist.NotePublish},
}

// picklistPath is the API path of a list.
func picklistPath(name picklist.Name) string {
	if name == picklist.Storages {
		return "/api/v1/acronis/storages"
	}
	return "/api/v1/autotask/picklists/" + string(name)
}

// picklistOptions reads a list through the API as choices labelled
// "label (id)"; ok is false when the vendor cannot be reached, and the field
// then stays a text input.
func (con *webConsole) picklistOptions(c echo.Context, name picklist.Name) (opts []option, l picklist.List, ok bool) {
	if err := con.get(c, picklistPath(name), nil, &l); err != nil {
		return nil, l, false
	}
	for _, v := range l.Values {
		opts = append(opts, option{v.ID, v.Label + " (" + v.ID + ")"})
	}
	return opts, l, true
}

// settingChoices reads the choices of the settings under prefix from the
// vendors' lists; a list that cannot be read leaves its field a text input.
func (con *webConsole) settingChoices(c echo.Context, prefix string) map[string][]option {
	out := map[string][]option{}
	for _, f := range settingChoiceLists {
		if !strings.HasPrefix(f.path, prefix) {
			continue
		}
		if opts, _, ok := con.picklistOptions(c, f.list); ok {
			out[f.path] = append([]option{{"", "— none —"}}, opts...)
		}
	}
	return out
}

// applyForm writes the submitted values of the fields selected by prefix
// into doc. Values that are not numbers where numbers belong are passed on
// as text, so the API's decoder names the field in its answer.
func applyForm(doc map[string]any, prefix string, form url.Values) {
	for _, f := range settingFields {
		if !strings.HasPrefix(f.Path, prefix) {
			continue
		}
		raw := strings.TrimSpace(form.Get(f.Path))
		switch f.Kind {
		case kindBool:
			setPath(doc, f.Path, raw != "")
		case kindInt, kindID:
			if raw == "" && f.Kind == kindID {
				setPath(doc, f.Path, nil)
			} else if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
				setPath(doc, f.Path, n)
			} else {
				setPath(doc, f.Path, raw)
			}
		case kindMulti:
			vals := form[f.Path]
			if vals == nil {
				vals = []string{}
			}
			setPath(doc, f.Path, vals)
		default:
			setPath(doc, f.Path, raw)
		}
	}
}

// settingsDoc reads the settings through the API as a generic document.
func (con *webConsole) settingsDoc(c echo.Context) (map[string]any, SettingsDocument, error) {
	var meta SettingsDocument
	ans, err := con.call(c, http.MethodGet, "/api/v1/settings", nil, nil)
	if err != nil {
		return nil, meta, err
	}
	if p := ans.problem(); p != nil {
		return nil, meta, p
	}
	var raw struct {
		Settings map[string]any `json:"settings"`
	}
	if err := json.Unmarshal(ans.body, &raw); err != nil {
		return nil, meta, err
	}
	if err := json.Unmarshal(ans.body, &meta); err != nil {
		return nil, meta, err
	}
	return raw.Settings, meta, nil
}

func (con *webConsole) settingsPage(c echo.Context) error {
	doc, meta, err := con.settingsDoc(c)
	if err != nil {
		return err
	}
	v := settingsViewOf(meta, doc, "", nil, "/settings", con.settingChoices(c, ""))
	v.Previews = con.plansWired()
	return con.render(c, http.StatusOK, "settings", "Integration settings", "settings", v)
}

func settingsViewOf(meta SettingsDocument, doc map[string]any, prefix string, errs map[string]string, action string, choices map[string][]option) settingsView {
	v := settingsView{Version: meta.Version, UpdatedBy: meta.UpdatedBy, Sections: formSettings(doc, prefix, errs, choices), Action: action}
	unverified := map[string]string{}
	for _, u := range meta.Unverified {
		unverified[u.Field] = u.State + ": " + u.Message
	}
	for i := range v.Sections {
		for j := range v.Sections[i].Fields {
			v.Sections[i].Fields[j].Unverified = unverified[v.Sections[i].Fields[j].Path]
		}
	}
	if meta.UpdatedAt != nil {
		v.UpdatedAt = meta.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	return v
}

func (con *webConsole) saveSettings(c echo.Context) error {
	return con.saveSettingsForm(c, "", "settings", "/settings", "Integration settings", "settings")
}

// saveSettingsForm saves the fields under prefix as a JSON Merge Patch
// (PATCH /api/v1/settings) at the version the form was read at: only what
// the form shows changes. The API validates; its field errors are shown next
// to the inputs, and a version conflict is explained without losing the input.
// Where plans are wired the patch is first previewed for every customer:
// Preview always shows the plan; Save shows it when it writes or warns
// anything (saving is then applying it) and otherwise saves at once.
func (con *webConsole) saveSettingsForm(c echo.Context, prefix, page, action, title, nav string) error {
	version, err := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if err != nil || version < 0 {
		return invalid("the form has no settings version; reload the page", settings.FieldError{Field: "version", Message: "is required"})
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	patch := map[string]any{}
	applyForm(patch, prefix, form)
	saved := "Settings saved."
	intent := c.FormValue("intent")
	if con.plansWired() && intent != intentDirect {
		set, p, err := con.previewSettings(c, version, patch)
		switch {
		case err != nil:
			return err
		case p != nil && p.Status >= 500:
			p.Detail = "The change could not be previewed, so nothing was saved: " + p.Detail
			return con.settingsFormFailed(c, p, version, prefix, form, page, action, title, nav, true)
		case p != nil:
			return con.settingsFormFailed(c, p, version, prefix, form, page, action, title, nav, false)
		case intent == intentPreview || needsReview(set):
			return redirect(c, planURL(set.ID, action), "")
		}
		saved = fmt.Sprintf("Settings saved. Their preview wrote nothing and warned of nothing for any of the %d customers, so they were saved at once.", set.Summary.Customers)
	}
	ans, err := con.callWith(c, http.MethodPatch, "/api/v1/settings", nil, patch,
		map[string]string{echo.HeaderContentType: mergePatchType, "If-Match": etag(version)})
	if err != nil {
		return err
	}
	p := ans.problem()
	if p == nil {
		return redirect(c, action, saved)
	}
	return con.settingsFormFailed(c, p, version, prefix, form, page, action, title, nav, false)
}

// previewSettings plans every customer under the form's merge patch. A form
// read at an older version than the saved one is refused as the API refuses
// a stale save, before anything is planned.
func (con *webConsole) previewSettings(c echo.Context, version int64, patch map[string]any) (plan.Set, *Problem, error) {
	_, current, err := con.settingsDoc(c)
	if err != nil {
		return plan.Set{}, nil, err
	}
	if current.Version != version {
		return plan.Set{}, newProblem(http.StatusPreconditionFailed, "stale-version",
			fmt.Sprintf("the settings are at version %d, not %d", current.Version, version)), nil
	}
	return con.previewPlan(c, plan.Scope{All: true}, map[string]any{"settings": patch})
}

// settingsFormFailed shows the settings form again after a refused save or
// preview: the API's field errors next to the inputs, a version conflict
// explained, and the submitted values kept.
func (con *webConsole) settingsFormFailed(c echo.Context, p *Problem, version int64, prefix string, form url.Values, page, action, title, nav string, previewFailed bool) error {
	c.Set(problemKey, p)
	// The form is shown again with the submitted values over the current settings.
	doc, current, err := con.settingsDoc(c)
	if err != nil {
		return err
	}
	applyForm(doc, prefix, form)
	choices := con.settingChoices(c, prefix)
	formAction := action
	if page == "tickets" {
		formAction = "/tickets/settings"
	}
	v := settingsViewOf(SettingsDocument{Version: version, Unverified: current.Unverified}, doc, prefix, fieldErrors(p), formAction, choices)
	if p.Status == http.StatusConflict || p.Status == http.StatusPreconditionFailed {
		v = settingsViewOf(current, doc, prefix, nil, formAction, choices)
		v.Conflict = fmt.Sprintf("Nothing was saved: %s saved version %d of the settings at %s, after you opened this page at version %d. "+
			"The form below still shows your values; review them against the current settings and save again to apply them over that version.",
			orSomeone(current.UpdatedBy), current.Version, v.UpdatedAt, version)
	}
	v.Previews, v.PreviewFailed = con.plansWired(), previewFailed
	if page == "tickets" {
		tv, err := con.ticketsView(c)
		if err != nil {
			return err
		}
		tv.Settings = v
		return con.render(c, p.Status, page, title, nav, tv)
	}
	return con.render(c, p.Status, page, title, nav, v)
}

func orSomeone(name string) string {
	if name == "" {
		return "someone"
	}
	return name
}

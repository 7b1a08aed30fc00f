package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/picklist"
)

// alertColumn is one ticket field of the alert-mapping grid; Options are
// its Autotask picklist's choices (none when Autotask cannot be reached: the
// cells are then text inputs).
type alertColumn struct {
	Key, Label string
	Options    []option
}

// alertColumns are the ticket fields of an alert mapping, in grid order.
var alertColumns = []alertColumn{
	{Key: "priority", Label: "Priority"}, {Key: "status", Label: "Status"}, {Key: "queueId", Label: "Queue"},
	{Key: "issueType", Label: "Issue type"}, {Key: "subIssueType", Label: "Sub-issue type"}, {Key: "ticketType", Label: "Ticket type"},
}

// alertRow is one alert type of the mapping grid; Values are by column key.
type alertRow struct {
	Index  int
	Type   AlertType
	Create bool
	Values map[string]string
	Errors map[string]string
	// Unverified says, by column key, why a saved id is not confirmed by Autotask.
	Unverified map[string]string
}

type ticketsView struct {
	Rows     []alertRow
	Columns  []alertColumn
	Settings settingsView
	Recent   []AlertTicketLink
}

// alertColumnsWithChoices fills each column's choices from its Autotask
// picklist; sub-issue types are labelled with their issue type.
func (con *webConsole) alertColumnsWithChoices(c echo.Context) []alertColumn {
	cols := slices.Clone(alertColumns)
	issueTypes := map[string]string{}
	for i := range cols {
		opts, l, ok := con.picklistOptions(c, picklist.AlertMappingLists[cols[i].Key])
		if !ok {
			continue
		}
		if cols[i].Key == "issueType" {
			for _, v := range l.Values {
				issueTypes[v.ID] = v.Label
			}
		}
		if cols[i].Key == "subIssueType" {
			for j, v := range l.Values {
				if parent := issueTypes[v.ParentID]; parent != "" {
					opts[j].Label = parent + " › " + opts[j].Label
				}
			}
		}
		cols[i].Options = opts
	}
	return cols
}

func idString(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// ticketsView reads the alert types with their mappings, the ticket settings
// and the latest tickets.
func (con *webConsole) ticketsView(c echo.Context) (ticketsView, error) {
	v := ticketsView{Columns: con.alertColumnsWithChoices(c)}
	var types AlertTypes
	if err := con.get(c, "/api/v1/alert-types", nil, &types); err != nil {
		return v, err
	}
	unverified := map[string]map[string]string{}
	for _, u := range types.Unverified {
		if unverified[u.AlertType] == nil {
			unverified[u.AlertType] = map[string]string{}
		}
		unverified[u.AlertType][u.Field] = u.State + ": " + u.Message
	}
	for i, t := range types.Types {
		r := alertRow{Index: i, Type: t, Values: map[string]string{}, Unverified: unverified[t.ID]}
		if m := t.Mapping; m != nil {
			r.Create = m.CreateTicket
			r.Values = map[string]string{"priority": idString(m.Priority), "status": idString(m.Status), "queueId": idString(m.QueueID),
				"issueType": idString(m.IssueType), "subIssueType": idString(m.SubIssueType), "ticketType": idString(m.TicketType)}
		}
		v.Rows = append(v.Rows, r)
	}
	doc, meta, err := con.settingsDoc(c)
	if err != nil {
		return v, err
	}
	v.Settings = settingsViewOf(meta, doc, ticketSettingPrefix, nil, "/tickets/settings", con.settingChoices(c, ticketSettingPrefix))
	v.Settings.Previews = con.plansWired()
	var recent AlertTicketList
	if err := con.get(c, "/api/v1/tickets", map[string][]string{"limit": {"10"}}, &recent); err == nil {
		v.Recent = recent.Tickets
	}
	return v, nil
}

func (con *webConsole) tickets(c echo.Context) error {
	v, err := con.ticketsView(c)
	if err != nil {
		return err
	}
	return con.render(c, http.StatusOK, "tickets", "Ticket synchronization", "tickets", v)
}

// saveAlertMappings sends every row of the grid as PUT /api/v1/alert-mappings.
func (con *webConsole) saveAlertMappings(c echo.Context) error {
	v, err := con.ticketsView(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	in := AlertMappingsUpdate{Mappings: []AlertMappingInput{}}
	byType := map[string]int{}
	for i := range v.Rows {
		r := &v.Rows[i]
		k := strconv.Itoa(r.Index)
		if form.Get("type."+k) != r.Type.ID {
			continue // the list changed since the page was read; leave that type alone
		}
		r.Create = form.Get("create."+k) != ""
		m := AlertMappingInput{AlertType: r.Type.ID, CreateTicket: r.Create}
		for _, col := range alertColumns {
			raw := strings.TrimSpace(form.Get(col.Key + "." + k))
			r.Values[col.Key] = raw
			var id *int64
			if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
				id = &n
			} else if raw != "" {
				if r.Errors == nil {
					r.Errors = map[string]string{}
				}
				r.Errors[col.Key] = "must be an Autotask id (a whole number)"
			}
			switch col.Key {
			case "priority":
				m.Priority = id
			case "status":
				m.Status = id
			case "queueId":
				m.QueueID = id
			case "issueType":
				m.IssueType = id
			case "subIssueType":
				m.SubIssueType = id
			case "ticketType":
				m.TicketType = id
			}
		}
		byType[r.Type.ID] = i
		in.Mappings = append(in.Mappings, m)
	}
	for _, r := range v.Rows {
		if len(r.Errors) > 0 {
			c.Set(problemKey, invalid("some ids are not numbers; nothing was saved"))
			return con.render(c, http.StatusBadRequest, "tickets", "Ticket synchronization", "tickets", v)
		}
	}
	p, err := con.send(c, http.MethodPut, "/api/v1/alert-mappings", in, nil)
	if err != nil {
		return err
	}
	if p == nil {
		return redirect(c, "/tickets", fmt.Sprintf("Alert mappings saved (%d alert types).", len(in.Mappings)))
	}
	c.Set(problemKey, p)
	for _, f := range p.Errors {
		var k int
		var field string
		if n, _ := fmt.Sscanf(strings.Replace(f.Field, "].", "] ", 1), "mappings[%d] %s", &k, &field); n >= 1 && k >= 0 && k < len(in.Mappings) {
			row := &v.Rows[byType[in.Mappings[k].AlertType]]
			if row.Errors == nil {
				row.Errors = map[string]string{}
			}
			row.Errors[field] = f.Message
		}
	}
	return con.render(c, p.Status, "tickets", "Ticket synchronization", "tickets", v)
}

func (con *webConsole) saveTicketSettings(c echo.Context) error {
	return con.saveSettingsForm(c, ticketSettingPrefix, "tickets", "/tickets", "Ticket synchronization", "tickets")
}

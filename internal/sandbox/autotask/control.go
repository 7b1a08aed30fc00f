package autotask

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	client "github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// ControlPrefix is where the Autotask state controls are served: what a
// person does in Autotask's web UI (change units, end or renew a contract),
// for demos and scripts driving a sandbox in another process. Controls need no
// credentials and are neither logged nor faulted nor counted in the budget.
const ControlPrefix = "/_sandbox/autotask/"

// controlHandler serves:
//
//	PUT  contracts/{id}/units {"serviceId": 301, "units": 30}  units from today on (an adjustment)
//	PUT  contracts/{id}/end   {"endDate": "2026-01-31"}        end date (default yesterday)
//	POST contracts/{id}/renew {"months": 12}                   a renewal contract from today with the same units
func (s *Sandbox) controlHandler() http.Handler {
	m := http.NewServeMux()
	p := ControlPrefix
	fail := func(w http.ResponseWriter, status int, err error) {
		writeJSON(w, status, map[string]string{"error": err.Error()})
	}
	contract := func(w http.ResponseWriter, r *http.Request, v any) (int64, bool) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			fail(w, http.StatusBadRequest, fmt.Errorf("contract id %q is not a number", r.PathValue("id")))
			return 0, false
		}
		if _, ok := s.Contract(id); !ok {
			fail(w, http.StatusNotFound, fmt.Errorf("no contract %d", id))
			return 0, false
		}
		if r.ContentLength != 0 {
			if err := json.NewDecoder(r.Body).Decode(v); err != nil {
				fail(w, http.StatusBadRequest, err)
				return 0, false
			}
		}
		return id, true
	}
	today := func() time.Time { return dateOnly(s.now()) }
	m.HandleFunc("PUT "+p+"contracts/{id}/units", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ServiceID int64 `json:"serviceId"`
			Units     *int  `json:"units"`
		}
		id, ok := contract(w, r, &in)
		if !ok {
			return
		}
		if in.ServiceID == 0 || in.Units == nil || *in.Units < 0 {
			fail(w, http.StatusBadRequest, fmt.Errorf("give serviceId and units (0 or more)"))
			return
		}
		cur, _ := s.CurrentUnits(id, in.ServiceID)
		if err := s.AdjustUnits(id, in.ServiceID, *in.Units-cur, today()); err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"contractId": id, "serviceId": in.ServiceID, "units": *in.Units, "was": cur})
	})
	m.HandleFunc("PUT "+p+"contracts/{id}/end", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			EndDate string `json:"endDate"`
		}
		id, ok := contract(w, r, &in)
		if !ok {
			return
		}
		end := today().AddDate(0, 0, -1)
		if in.EndDate != "" {
			d, err := time.Parse(time.DateOnly, in.EndDate)
			if err != nil {
				fail(w, http.StatusBadRequest, fmt.Errorf("endDate: want YYYY-MM-DD: %w", err))
				return
			}
			end = d
		}
		if err := s.EndContract(id, end); err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"contractId": id, "endDate": end.Format(time.DateOnly)})
	})
	m.HandleFunc("POST "+p+"contracts/{id}/renew", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Months int `json:"months"`
		}
		id, ok := contract(w, r, &in)
		if !ok {
			return
		}
		if in.Months == 0 {
			in.Months = 12
		}
		renewal, err := s.RenewContract(id, today(), in.Months)
		if err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"contractId": renewal, "renewedContractId": id})
	})
	m.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, fmt.Errorf("unknown control %s %s", r.Method, strings.TrimPrefix(r.URL.Path, p)))
	})
	return m
}

// RenewContract adds the renewal of a contract, as an Autotask user renewing
// it does: a new Recurring Service contract of the same company from start for
// months, pointing back at the old one (renewedContractID), with its
// user-defined fields and the units each service had on the old contract's
// last day. It returns the renewal's id.
func (s *Sandbox) RenewContract(contractID int64, start time.Time, months int) (int64, error) {
	old, ok := s.Contract(contractID)
	if !ok {
		return 0, fmt.Errorf("sandbox: no contract %d", contractID)
	}
	units := map[int64]int{}
	s.mu.RLock()
	if old.EndDate == nil {
		return 0, fmt.Errorf("sandbox: contract %d has no end date", contractID)
	}
	last := dateOnly(old.EndDate.Time)
	links := s.db.mustTable("ContractServices")
	for _, link := range links.byID {
		if s.intOf(links.m, link, "contractID") != contractID {
			continue
		}
		n, _ := s.unitsOnLocked(serviceUnits, link.id(), last)
		units[s.intOf(links.m, link, "serviceID")] = int(n)
	}
	s.mu.RUnlock()
	renewal, err := s.AddContract(client.Contract{CompanyID: old.CompanyID, ContractName: old.ContractName + " (renewal)",
		ContractType: old.ContractType, Status: 1, StartDate: client.Date(start), EndDate: client.Date(start.AddDate(0, months, -1)),
		RenewedContractID: contractID, UserDefinedFields: old.UserDefinedFields})
	if err != nil {
		return 0, err
	}
	for svc, n := range units {
		if err := s.AddServiceUnits(renewal, svc, n); err != nil {
			return 0, err
		}
	}
	return renewal, nil
}

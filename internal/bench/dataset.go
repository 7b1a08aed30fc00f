package bench

import (
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// company is one generated Autotask company with its contract.
type company struct {
	id         int64
	name       string
	contractID int64
	payg       bool
	units      map[int64]int // service id → today's units
	tenantID   string
}

// quotaItems maps the standard services a propagation change may touch to
// their Acronis offering items (the mappings seedDemo stores).
var quotaItems = map[int64]string{
	atsandbox.ServiceWorkstations:    "pw_base_workstations",
	atsandbox.ServiceServers:         "pw_base_servers",
	atsandbox.ServiceVirtualMachines: "pw_base_vms",
	atsandbox.ServiceM365Seats:       "pw_base_m365_seats",
}

var catalogServices = []int64{
	atsandbox.ServiceWorkstations, atsandbox.ServiceServers, atsandbox.ServiceVirtualMachines, atsandbox.ServiceM365Seats,
	atsandbox.ServiceBackupStorage, atsandbox.ServiceAdvSecurityWS, atsandbox.ServiceAdvSecurityServer,
	atsandbox.ServiceWebHosting, atsandbox.ServiceMobileDevices, atsandbox.ServiceManagedFirewall,
}

// firstContractID is the first id the Autotask sandbox gives a contract.
const firstContractID = 2001

// discover lists the generated companies that have a contract, read from
// the sandbox in-process (no API request is spent).
func discover(at *atsandbox.Sandbox) []*company {
	var out []*company
	for id := int64(firstContractID); ; id++ {
		k, ok := at.Contract(id)
		if !ok {
			break
		}
		comp, ok := at.Company(int64(k.CompanyID))
		if !ok {
			continue
		}
		c := &company{id: comp.ID, name: comp.CompanyName, contractID: k.ID, units: map[int64]int{}}
		for _, u := range k.UserDefinedFields {
			if u.Name == atsandbox.PAYGUDFName && u.Value != nil && *u.Value == "Yes" {
				c.payg = true
			}
		}
		for _, svc := range catalogServices {
			if n, ok := at.CurrentUnits(k.ID, svc); ok {
				c.units[svc] = n
			}
		}
		out = append(out, c)
	}
	return out
}

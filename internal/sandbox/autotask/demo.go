package autotask

import (
	"fmt"
	"strings"
	"time"

	client "github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// Well-known ids of the reference and demo data, so tests and the Acronis
// sandbox's matching data can refer to them.
const (
	MSPCompanyID int64 = 0

	BillingCodeRecurring int64 = 29682801 // "Recurring Services" (Recurring Contract Service, active)
	BillingCodeAcronis   int64 = 29682802 // "Acronis Cloud Services" (Recurring Contract Service, active)
	BillingCodeSupport   int64 = 29682803 // "Remote Support" (Work Type)
	BillingCodeLegacy    int64 = 29682804 // "Legacy Recurring" (Recurring Contract Service, inactive)

	PAYGUDFName       = "Acronis PAYG"
	PAYGUDFID   int64 = 501
)

// Demo service ids and names (names match the Acronis offering items).
const (
	ServiceWorkstations      int64 = 301
	ServiceServers           int64 = 302
	ServiceVirtualMachines   int64 = 303
	ServiceM365Seats         int64 = 304
	ServiceBackupStorage     int64 = 305
	ServiceAdvSecurityWS     int64 = 306
	ServiceAdvSecurityServer int64 = 307
	ServiceWebHosting        int64 = 308
	ServiceMobileDevices     int64 = 309
	ServiceManagedFirewall   int64 = 310
	ServiceBundleServer      int64 = 401
)

// catalogService is one service of the demo catalog.
type catalogService struct {
	id    int64
	name  string
	price float64
}

func catalog() []catalogService {
	return []catalogService{
		{ServiceWorkstations, "Acronis Cyber Protect - Workstations", 6},
		{ServiceServers, "Acronis Cyber Protect - Servers", 25},
		{ServiceVirtualMachines, "Acronis Cyber Protect - Virtual machines", 15},
		{ServiceM365Seats, "Acronis Cyber Protect - Microsoft 365 seats", 2.5},
		{ServiceBackupStorage, "Acronis Cyber Protect - Backup storage (GB)", 0.05},
		{ServiceAdvSecurityWS, "Acronis Cyber Protect - Advanced Security (Workstations)", 3},
		{ServiceAdvSecurityServer, "Acronis Cyber Protect - Advanced Security (Servers)", 8},
		{ServiceWebHosting, "Acronis Cyber Protect - Web hosting servers", 20},
		{ServiceMobileDevices, "Acronis Cyber Protect - Mobile devices", 1.5},
		{ServiceManagedFirewall, "Managed Firewall", 40},
	}
}

// seedReference adds what every Autotask database has: the MSP's own company
// (id 0) and allocation (billing) codes.
func (s *Sandbox) seedReference() {
	s.mu.Lock()
	defer s.mu.Unlock()
	must(s.addLockedID("Companies", client.Company{CompanyName: "Acronis Autotask Demo MSP", CompanyNumber: "MSP",
		CompanyType: int(s.picks.code("Companies", "companyType", "Partner")), Phone: "+1 555 0100", IsActive: client.Ptr(true),
		City: "Boston", WebAddress: "www.msp.example"}, client.Ptr(MSPCompanyID)))
	codes := []struct {
		id     int64
		name   string
		typ    string
		active bool
	}{
		{BillingCodeRecurring, "Recurring Services", "Recurring Contract Service", true},
		{BillingCodeAcronis, "Acronis Cloud Services", "Recurring Contract Service", true},
		{BillingCodeSupport, "Remote Support", "Work Type", true},
		{BillingCodeLegacy, "Legacy Recurring", "Recurring Contract Service", false},
	}
	for _, c := range codes {
		must(s.addLocked("BillingCodes", client.BillingCode{ID: c.id, Name: c.name, Description: c.name,
			BillingCodeType: int(s.picks.code("BillingCodes", "billingCodeType", c.typ)), UseType: 1,
			IsActive: client.Ptr(c.active), IsExcludedFromNewContracts: client.Ptr(false), UnitPrice: client.Ptr(0.0), UnitCost: client.Ptr(0.0)}))
	}
}

// seedCatalog adds the Acronis services, the server bundle and, optionally,
// the "Acronis PAYG" contract UDF.
func (s *Sandbox) seedCatalogLocked(withUDF bool) {
	monthly := int(s.picks.code("Services", "periodType", "Monthly"))
	for _, c := range catalog() {
		must(s.addLocked("Services", client.Service{ID: c.id, Name: c.name, Description: c.name, InvoiceDescription: c.name,
			BillingCodeID: int(BillingCodeAcronis), PeriodType: monthly, UnitPrice: client.Ptr(c.price), UnitCost: client.Ptr(c.price / 2)}))
	}
	must(s.addLocked("ServiceBundles", client.ServiceBundle{ID: ServiceBundleServer, Name: "Acronis Cyber Protect - Server bundle",
		Description: "Servers with Advanced Security", BillingCodeID: int(BillingCodeAcronis), PeriodType: monthly,
		UnitPrice: client.Ptr(30.0), UnitCost: client.Ptr(15.0)}))
	for _, svc := range []int64{ServiceServers, ServiceAdvSecurityServer} {
		must(s.addLocked("ServiceBundleServices", client.ServiceBundleService{ServiceBundleID: ServiceBundleServer, ServiceID: svc}))
	}
	if withUDF {
		must(s.addLocked("UserDefinedFieldDefinitions", client.UserDefinedFieldDefinition{ID: PAYGUDFID, Name: PAYGUDFName,
			Description: "Yes: usage is reported (pay-as-you-go); No: quotas follow contract units (prepaid).",
			UDFType:     int(s.picks.code("UserDefinedFieldDefinitions", "udfType", "Contract")),
			DataType:    int(s.picks.code("UserDefinedFieldDefinitions", "dataType", "List")), DefaultValue: []byte(`"No"`),
			IsActive: client.Ptr(true), IsRequired: client.Ptr(false), IsProtected: client.Ptr(false), IsPrivate: client.Ptr(false),
			IsEncrypted: client.Ptr(false), IsFieldMapping: client.Ptr(false), IsVisibleToClientPortal: client.Ptr(false), SortOrder: 1}))
		for _, v := range []string{"Yes", "No"} {
			must(s.addLocked("UserDefinedFieldListItems", client.UserDefinedFieldListItem{UDFFieldID: PAYGUDFID, ValueForDisplay: v, ValueForExport: v}))
		}
	}
}

// demoCompany is one company of the demo dataset.
type demoCompany struct {
	id      int64
	name    string
	domain  string
	contact [2]string // first, last name of the primary contact
	payg    string    // "", "Yes" or "No": the contract's Acronis PAYG value
	// prepaid, when set, adds a second, prepaid contract with these units.
	prepaid map[int64]int
	units   map[int64]int
	bundle  int // server bundle units
	ended   bool
	noDeal  bool // no contract at all
}

func demoCompanies() []demoCompany {
	return []demoCompany{
		{id: 101, name: "Contoso Ltd", domain: "contoso.example", contact: [2]string{"Anna", "Berg"}, payg: "No",
			units: map[int64]int{ServiceWorkstations: 25, ServiceServers: 3, ServiceBackupStorage: 500}},
		{id: 102, name: "Fabrikam Inc", domain: "fabrikam.example", contact: [2]string{"Ben", "Carter"}, payg: "Yes",
			units: map[int64]int{ServiceWorkstations: 0, ServiceServers: 0, ServiceBackupStorage: 0}},
		{id: 103, name: "Northwind Traders", domain: "northwind.example", contact: [2]string{"Chloe", "Dubois"},
			units: map[int64]int{ServiceWorkstations: 10, ServiceBackupStorage: 250}, bundle: 2},
		// Workstations bought both pay-as-you-go and prepaid: invalid per SPEC F5.
		{id: 104, name: "Tailspin Toys", domain: "tailspin.example", contact: [2]string{"David", "Evans"}, payg: "Yes",
			units: map[int64]int{ServiceWorkstations: 0, ServiceServers: 0}, prepaid: map[int64]int{ServiceWorkstations: 10}},
		{id: 105, name: "Wide World Importers", domain: "wideworld.example", contact: [2]string{"Emma", "Fischer"},
			units: map[int64]int{ServiceWorkstations: 15}, ended: true},
		{id: 106, name: "Adventure Works", domain: "adventure-works.example", contact: [2]string{"Felix", "Garcia"}, noDeal: true},
		{id: 107, name: "Litware Inc", domain: "litware.example", contact: [2]string{"Grace", "Hall"},
			units: map[int64]int{ServiceWorkstations: 12, ServiceServers: 1}},
		{id: 108, name: "Proseware Inc", domain: "proseware.example", contact: [2]string{"Henry", "Ito"},
			units: map[int64]int{ServiceWorkstations: 8}},
		{id: 109, name: "Woodgrove Bank", domain: "woodgrove.example", contact: [2]string{"Isla", "Jensen"},
			units: map[int64]int{ServiceWorkstations: 40, ServiceServers: 5, ServiceVirtualMachines: 10}},
		{id: 110, name: "Blue Yonder Airlines", domain: "blueyonder.example", contact: [2]string{"Jack", "Kowalski"},
			units: map[int64]int{ServiceM365Seats: 120, ServiceWorkstations: 20}},
	}
}

// DemoContractID is the contract of a demo company (companyID + 2000); company
// 106 has none.
func DemoContractID(companyID int64) int64 { return 2000 + companyID }

// DemoSecondContractID is the second (prepaid) contract of a demo company that has one (companyID + 3000).
func DemoSecondContractID(companyID int64) int64 { return 3000 + companyID }

// DemoContactID is the primary contact of a demo company (companyID + 30000).
func DemoContactID(companyID int64) int64 { return 30000 + companyID }

// seedDemo builds the demo dataset described in the package documentation.
func (s *Sandbox) seedDemo() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seedCatalogLocked(true)
	today := s.today()
	start := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -6, 0)
	for _, d := range demoCompanies() {
		if _, err := s.addLocked("Companies", client.Company{ID: d.id, CompanyName: d.name,
			CompanyNumber: strings.ToUpper(d.domain[:3]) + fmt.Sprint(d.id), CompanyType: int(s.picks.code("Companies", "companyType", "Customer")),
			IsActive: client.Ptr(true), Phone: fmt.Sprintf("+1 555 01%02d", d.id-100), Address1: fmt.Sprintf("%d Main Street", d.id),
			City: "Seattle", State: "WA", PostalCode: "98101", CountryID: 237, WebAddress: "www." + d.domain, OwnerResourceID: 29682885,
		}); err != nil {
			return err
		}
		if _, err := s.addLocked("Contacts", client.Contact{ID: DemoContactID(d.id), CompanyID: int(d.id), FirstName: d.contact[0],
			LastName: d.contact[1], EmailAddress: strings.ToLower(d.contact[0]+"."+d.contact[1]) + "@" + d.domain,
			PrimaryContact: client.Ptr(true), IsActive: 1, Phone: fmt.Sprintf("+1 555 02%02d", d.id-100), Title: "IT Manager"}); err != nil {
			return err
		}
		if d.noDeal {
			continue
		}
		cs, ce := start, start.AddDate(2, 0, -1)
		if d.ended {
			cs = time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(-1, -1, 0)
			ce = time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		}
		if err := s.addContractLocked(DemoContractID(d.id), d.id, DemoContactID(d.id), d.name+" - Acronis Cyber Protect", cs, ce, d.payg, d.units, d.bundle); err != nil {
			return fmt.Errorf("contract of %s: %w", d.name, err)
		}
		if d.prepaid != nil {
			if err := s.addContractLocked(DemoSecondContractID(d.id), d.id, DemoContactID(d.id), d.name+" - Acronis prepaid", cs, ce, "No", d.prepaid, 0); err != nil {
				return fmt.Errorf("second contract of %s: %w", d.name, err)
			}
		}
	}
	return nil
}

// addContractLocked adds an active Recurring Service contract with units.
func (s *Sandbox) addContractLocked(id, companyID, contactID int64, name string, start, end time.Time, payg string, units map[int64]int, bundle int) error {
	c := client.Contract{ID: id, CompanyID: int(companyID), ContactID: int(contactID), ContractName: name,
		ContractType: int(s.picks.code("Contracts", "contractType", "Recurring Service")), Status: int(s.picks.code("Contracts", "status", "Active")),
		ContractCategory: 13, StartDate: client.Date(start), EndDate: client.Date(end), BillingPreference: 1,
		IsDefaultContract: client.Ptr(false), IsCompliant: client.Ptr(true), SetupFee: client.Ptr(0.0),
		TimeReportingRequiresStartAndStopTimes: 1}
	if payg != "" {
		c.UserDefinedFields = []client.UDF{{Name: PAYGUDFName, Value: client.Ptr(payg)}}
	}
	cid, err := s.addLocked("Contracts", c)
	if err != nil {
		return err
	}
	contract := s.record("Contracts", cid)
	for _, svc := range sortedKeys(units) {
		if units[svc] == 0 {
			linkID, err := s.addLocked("ContractServices", client.ContractService{ContractID: int(cid), ServiceID: int(svc)})
			if err != nil {
				return err
			}
			if err := s.changeUnits(serviceUnits, contract, s.record("ContractServices", linkID), dateOnly(start), 0, nil, true); err != nil {
				return err
			}
			continue
		}
		if _, err := s.addLocked("ContractServiceAdjustments", client.ContractServiceAdjustment{ContractID: int(cid), ServiceID: int(svc),
			UnitChange: units[svc], EffectiveDate: client.Date(start)}); err != nil {
			return err
		}
	}
	if bundle > 0 {
		if _, err := s.addLocked("ContractServiceBundleAdjustments", client.ContractServiceBundleAdjustment{ContractID: int(cid),
			ServiceBundleID: int(ServiceBundleServer), UnitChange: bundle, EffectiveDate: client.Date(start)}); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[int64]int) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func must(_ int64, err error) {
	if err != nil {
		panic("sandbox: seed: " + err.Error())
	}
}

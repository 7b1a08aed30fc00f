package acronis

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Demo tenant ids (see the package documentation for the whole dataset).
const (
	LitwareID         = "5a6b7c8d-0001-4000-8000-000000000107"
	ProsewareID       = "5a6b7c8d-0001-4000-8000-000000000108"
	WoodgroveID       = "5a6b7c8d-0001-4000-8000-000000000109"
	WoodgroveRetailID = "5a6b7c8d-0001-4000-8000-000000001091"
	WoodgroveWealthID = "5a6b7c8d-0001-4000-8000-000000001092"
	FourthCoffeeID    = "5a6b7c8d-0001-4000-8000-000000000111"
	PartnerName       = "Sandbox MSP"
	LitwareName       = "Litware Inc"
	ProsewareName     = "Proseware Inc"
	WoodgroveName     = "Woodgrove Bank"
	WoodgroveRetail   = "Woodgrove Retail Banking"
	WoodgroveWealth   = "Woodgrove Wealth Management"
	FourthCoffeeName  = "Fourth Coffee"
	gib               = float64(1 << 30)
)

// Demo alert ids (all on Litware Inc; the last one is already dismissed).
const (
	AlertBackupFailedID  = "A1E7B0C2-0001-4000-8000-000000000001"
	AlertNoBackupID      = "A1E7B0C2-0001-4000-8000-000000000002"
	AlertQuotaExceededID = "A1E7B0C2-0001-4000-8000-000000000003"
	AlertMalwareID       = "A1E7B0C2-0001-4000-8000-000000000004"
	AlertDismissedID     = "A1E7B0C2-0001-4000-8000-000000000005"
)

// GeneratedTenantID is the id of the i-th (0-based) generated customer.
func GeneratedTenantID(i int) string { return fmt.Sprintf("6e000000-0000-4000-8000-%012x", i+1) }

// GeneratedTenantName is the name of the i-th (0-based) generated customer; it
// matches the Autotask sandbox's generated companies.
func GeneratedTenantName(i int) string { return fmt.Sprintf("Generated Company %05d", i+1) }

// seedPartner creates the root and the partner with the whole catalogue
// enabled without limit and both services bound.
func (s *Sandbox) seedPartner() {
	now := s.st.created
	root := s.newTenant(RootID, "Sandbox Data Center", "root", "", now)
	root.pricingMode = "production"
	s.st.addTenant(root)
	p := s.newTenant(PartnerID, PartnerName, "partner", RootID, now)
	p.pricingMode = "production"
	p.apps = []string{CyberProtectionAppID, PlatformAppID}
	p.contact.Email, p.contact.Firstname, p.contact.Lastname = "admin@sandbox-msp.example", "Sandy", "Box"
	p.contact.Types = []string{"legal", "primary"}
	for i := range catalog {
		p.items[i] = &itemState{status: 1}
	}
	s.st.addTenant(p)
}

// demoItem is an offering item of a demo tenant: quota (nil: unlimited) and use.
type demoItem struct {
	name    string
	quota   *float64
	used    float64
	infraID string
}

func q(v float64) *float64 { return &v }

// addCustomer creates a child tenant with services, items and usages.
// Callers hold s.mu or run before the sandbox is shared.
func (s *Sandbox) addCustomer(id, name, kind, parent, email string, items []demoItem, now time.Time) *tenant {
	t := s.newTenant(id, name, kind, parent, now)
	t.pricingMode = "production"
	t.productionStart = now.AddDate(0, -3, 0)
	t.apps = []string{CyberProtectionAppID, PlatformAppID}
	t.contact.Email = email
	t.contact.Types = []string{"legal", "primary", "billing"}
	t.usages = map[int]*usageState{}
	for _, it := range items {
		i := catIndex(it.name, it.infraID)
		if i < 0 {
			panic("acronis sandbox: demo item " + it.name + " is not in the catalogue")
		}
		st := &itemState{status: 1}
		if it.quota != nil {
			st.value, st.overage, st.version = q(*it.quota), q(0), 1
		}
		t.items[i] = st
		if it.used > 0 {
			t.usages[i] = &usageState{value: it.used, absolute: it.used}
		}
	}
	s.st.addTenant(t)
	return t
}

// seedDemo builds the demo dataset described in the package documentation.
func (s *Sandbox) seedDemo() {
	now := s.st.created
	ws, srv, vm, m365, mbx := "pw_base_workstations", "pw_base_servers", "pw_base_vms", "pw_base_m365_seats", "pw_base_m365_mailboxes"
	sto, sec, mgmt := "pw_base_storage", "pw_pack_adv_security", "pw_pack_adv_management"
	s.addCustomer(LitwareID, LitwareName, "customer", PartnerID, "grace.hall@litware.example", []demoItem{
		{name: ws, quota: q(12), used: 11}, {name: srv, quota: q(1), used: 1}, {name: vm, used: 2},
		{name: m365, used: 25}, {name: mbx, used: 25}, {name: sec, quota: q(12), used: 10},
		{name: sto, infraID: DefaultStorageID, quota: q(500 * gib), used: 180.5 * gib},
		{name: "local_storage", used: 40 * gib},
	}, now)
	pro := s.addCustomer(ProsewareID, ProsewareName, "customer", PartnerID, "henry.ito@proseware.example", []demoItem{
		{name: ws, quota: q(8), used: 6}, {name: sto, infraID: DefaultStorageID, used: 75 * gib},
	}, now)
	pro.ancestralAccess = false
	wg := s.addCustomer(WoodgroveID, WoodgroveName, "partner", PartnerID, "isla.jensen@woodgrove.example", []demoItem{
		{name: ws, used: 40}, {name: srv, used: 5}, {name: vm, used: 10}, {name: mgmt},
		{name: sto, infraID: DefaultStorageID, used: 900 * gib},
	}, now)
	wg.pricingMode = "production"
	s.addCustomer(WoodgroveRetailID, WoodgroveRetail, "customer", WoodgroveID, "it@retail.woodgrove.example", []demoItem{
		{name: ws, used: 25}, {name: srv, used: 3}, {name: sto, infraID: DefaultStorageID, used: 600 * gib},
	}, now)
	s.addCustomer(WoodgroveWealthID, WoodgroveWealth, "customer", WoodgroveID, "it@wealth.woodgrove.example", []demoItem{
		{name: ws, used: 15}, {name: srv, used: 2}, {name: vm, used: 10}, {name: sto, infraID: DefaultStorageID, used: 300 * gib},
	}, now)
	fc := s.addCustomer(FourthCoffeeID, FourthCoffeeName, "customer", PartnerID, "it@fourthcoffee.example", []demoItem{
		{name: ws, quota: q(5), used: 5}, {name: sto, infraID: SecondaryStorageID, used: 20 * gib},
	}, now)
	fc.supportAccess = false

	base := now.Add(-48 * time.Hour)
	add := func(id, typ, sev string, details map[string]any, at time.Time) *alert {
		t, _ := alertTypeByID(typ)
		a := &alert{id: id, typ: typ, category: t.category, severity: sev, details: details, tenantID: LitwareID,
			createdAt: at, updatedAt: at, receivedAt: at.Add(350 * time.Millisecond)}
		s.st.alerts[id] = a
		return a
	}
	add(AlertBackupFailedID, "BackupFailed", "error", map[string]any{
		"planId": "8f0c2a4e-4f61-4b8e-9a55-000000000001", "planName": "Daily server backup",
		"resourceId": "4c1f8d2e-7a3b-4e5c-9d10-000000000001", "resourceName": "LIT-SRV01",
		"errorMessage": map[string]any{"kbLink": map[string]any{"serCode": "0x00E2000B+0x00E2000B"}},
	}, base)
	add(AlertNoBackupID, "NoBackupForXDays", "warning", map[string]any{
		"planId": "8f0c2a4e-4f61-4b8e-9a55-000000000002", "planName": "Workstations nightly",
		"resourceId": "4c1f8d2e-7a3b-4e5c-9d10-000000000002", "resourceName": "LIT-WS07", "daysPassed": 3,
	}, base.Add(time.Hour))
	add(AlertQuotaExceededID, "DrStorageHardQuotaExceeds", "critical", map[string]any{
		"resourceName": "Acronis Cloud Storage (EU)",
	}, base.Add(2*time.Hour))
	add(AlertMalwareID, MalwareAlertType, "warning", map[string]any{
		"title": "Malware Detected", "category": "Protection",
		"description": "Malicious file \"trojan.exe\" was put into quarantine.",
		"fields": map[string]any{"Malware type": "Trojan:Win32/Caphaw.D!lnk", "Device ID": "62aedd2b-6556-45d5-a76e-43db475068a7",
			"Full path": "C:\\Windows\\System32\\trojan.exe"},
	}, base.Add(3*time.Hour))
	d := add(AlertDismissedID, "BackupCanceled", "warning", map[string]any{
		"planName": "Daily server backup", "resourceName": "LIT-SRV02",
	}, base.Add(-24*time.Hour))
	s.dismissLocked(d, base.Add(-23*time.Hour))
}

// seedGenerated adds n customers under the partner, deterministic by seed.
// Each holds a few items with quotas and use; about 3% have an active alert.
// Offering items and usages are stored sparsely, so 10,000 customers take a
// few tens of MB.
func (s *Sandbox) seedGenerated(n int, seed uint64) {
	now := s.st.created
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	pick := []string{"pw_base_workstations", "pw_base_servers", "pw_base_vms", "pw_base_m365_seats", "pw_pack_adv_security"}
	for i := range n {
		var items []demoItem
		for _, name := range pick {
			if rng.IntN(100) < 45 {
				continue
			}
			quota := float64(1 + rng.IntN(50))
			items = append(items, demoItem{name: name, quota: &quota, used: float64(rng.IntN(int(quota) + 1))})
		}
		storage := float64(rng.IntN(2000)) * gib
		items = append(items, demoItem{name: "pw_base_storage", infraID: DefaultStorageID, used: storage})
		slug := fmt.Sprintf("company%05d", i+1)
		t := s.addCustomer(GeneratedTenantID(i), GeneratedTenantName(i), "customer", PartnerID, "admin@"+slug+".example", items, now)
		if rng.IntN(100) < 3 {
			at := now.Add(-time.Duration(1+rng.IntN(72)) * time.Hour)
			id := strings.ToUpper(fmt.Sprintf("a2000000-0000-4000-8000-%012x", i+1))
			s.st.alerts[id] = &alert{id: id, typ: "BackupFailed", category: "Backup", severity: "error", tenantID: t.id,
				details:   map[string]any{"planName": "Daily backup", "resourceName": strings.ToUpper(slug) + "-PC01"},
				createdAt: at, updatedAt: at, receivedAt: at}
		}
	}
}

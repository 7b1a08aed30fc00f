package acronis

// Service ids.
const (
	// CyberProtectionAppID is the Cyber Protection service ("backup").
	CyberProtectionAppID = "6e6d758d-8e74-3ae3-ac84-50eb0dff12eb"
	// PlatformAppID is the platform service.
	PlatformAppID = "f9ab3c64-3b1a-3b9c-8a38-5b3a4d1b2c01"
)

// Storages (infra) of the partner. DefaultStorageID comes first in
// GET /tenants/{id}/infra and is what the demo customers use.
const (
	DefaultStorageID   = "019097a6-114f-4418-bd54-e01ef049f209"
	SecondaryStorageID = "debe7865-fa8d-4c16-8e26-adcf8d7fd23d"
)

// Edition is the Cyber Protect edition of the catalogue.
const Edition = "pck_per_workload"

// catItem is one offering item of the data center's catalogue. Infra items
// appear once per storage.
type catItem struct {
	name, usageName, typ, unit, infraID string
	edition                             *string
	appID                               string
}

type infra struct {
	id, name, backend, owner, location, url string
	platformOwned                           bool
	capabilities                            []string
}

var infras = []infra{
	{id: DefaultStorageID, name: "Acronis Cloud Storage (EU)", backend: "acronis", location: "7b4fb2ff-9d8c-4a4e-a3a7-5c1f0b0e0001",
		url: "https://eu-storage.sandbox.invalid", platformOwned: true, capabilities: []string{"backup"}},
	{id: SecondaryStorageID, name: "Sandbox MSP S3 Storage", backend: "amazon_s3", owner: PartnerID, location: "7b4fb2ff-9d8c-4a4e-a3a7-5c1f0b0e0002",
		url: "https://s3.sandbox.invalid/sandbox-msp", capabilities: []string{"backup"}},
}

func infraByID(id string) *infra {
	for i := range infras {
		if infras[i].id == id {
			return &infras[i]
		}
	}
	return nil
}

// Catalogue names. The pck_per_workload names of workstations, servers,
// VMs, web hosting servers, NAS, M365 seats/mailboxes/SharePoint, storage and
// the advanced packs are the real ones; OneDrive, hosted Exchange, Google
// Workspace, mobile devices and websites follow the same prefix with the
// legacy usage names because their pck names are not published.
func newCatalog() []catItem {
	ed := Edition
	e := &ed
	count := func(name, usage string) catItem {
		return catItem{name: name, usageName: usage, typ: "count", unit: "quantity", edition: e, appID: CyberProtectionAppID}
	}
	feature := func(name, usage string) catItem {
		return catItem{name: name, usageName: usage, typ: "feature", unit: "n/a", edition: e, appID: CyberProtectionAppID}
	}
	items := []catItem{
		count("pw_base_workstations", "workstations"),
		count("pw_base_servers", "servers"),
		count("pw_base_vms", "vms"),
		count("pw_base_web_hosting_servers", "web_hosting_servers"),
		count("pw_base_nas", "nas"),
		count("pw_base_m365_seats", "mailboxes"),
		feature("pw_base_m365_mailboxes", "o365_mailboxes"),
		feature("pw_base_m365_onedrive", "o365_onedrive"),
		count("pw_base_m365_sharepoint_sites", "o365_sharepoint_sites"),
		count("pw_base_hosted_exchange", "hosted_exchange"),
		count("pw_base_gsuite_seats", "gsuite_seats"),
		count("pw_base_mobiles", "mobiles"),
		count("pw_base_websites", "websites"),
		count("pw_pack_adv_management", "adv_management"),
		count("pw_pack_adv_security", "adv_security"),
		count("pw_pack_adv_dlp", "adv_dlp"),
		count("pw_pack_adv_backup_m365_seats", "adv_backup_m365_seats"),
		count("pw_pack_adv_security_m365_seats", "adv_security_m365_seats"),
		count("pw_base_child_storages", "child_storages"),
		{name: "local_storage", usageName: "local_storage", typ: "count", unit: "bytes", appID: CyberProtectionAppID},
	}
	for _, in := range infras {
		items = append(items, catItem{name: "pw_base_storage", usageName: "storage", typ: "infra", unit: "bytes", infraID: in.id, edition: e, appID: CyberProtectionAppID})
	}
	return items
}

// catalog is shared read-only by every sandbox.
var catalog = newCatalog()

// catIndex finds an item by name and storage; -1 if unknown. A storage item
// named without infra_id matches the default storage.
func catIndex(name, infraID string) int {
	for i, c := range catalog {
		if c.name == name && (c.infraID == infraID || (infraID == "" && c.infraID == DefaultStorageID)) {
			return i
		}
	}
	return -1
}

// usageOnly are usages reported without an offering item of their own
// (immutable storage is part of "storage").
var usageOnly = catItem{name: "immutable_storage", usageName: "immutable_storage", typ: "infra", unit: "bytes", appID: CyberProtectionAppID}

// alertType is one Alert Manager type.
type alertType struct {
	id, category, severity, title string
}

// Alert types. BackupFailed, BackupStatusUnknown, BackupCanceled,
// NoBackupForXDays and DrStorageHardQuotaExceeds are ids seen in real
// payloads; the malware type is the developer portal's sample.
var alertTypes = []alertType{
	{id: "BackupFailed", category: "Backup", severity: "error", title: "Backup failed"},
	{id: "BackupStatusUnknown", category: "Backup", severity: "warning", title: "Backup status is unknown"},
	{id: "BackupCanceled", category: "Backup", severity: "warning", title: "Backup is canceled"},
	{id: "NoBackupForXDays", category: "Backup", severity: "warning", title: "Backup did not start"},
	{id: "DrStorageHardQuotaExceeds", category: "Quota", severity: "critical", title: "Hard quota is exceeded"},
	{id: MalwareAlertType, category: MalwareAlertCategory, severity: "warning", title: "Malware Detected"},
}

// The CTI alert type of the developer portal's sample.
const (
	MalwareAlertType     = "cti.a.p.am.alert.v1.0~a.p.basic.v1.0~vendor.application.malware_detected.v1.0"
	MalwareAlertCategory = "cti.a.p.am.category.v1.0~vendor.application.protection.v1.0"
)

func alertTypeByID(id string) (alertType, bool) {
	for _, t := range alertTypes {
		if t.id == id {
			return t, true
		}
	}
	return alertType{}, false
}

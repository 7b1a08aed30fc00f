package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/servicemap"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
	"github.com/acronis-autotask/acronis-autotask/internal/usage"
)

// OfferingItems is the partner's catalogue as the service-mapping screen
// groups it (SPEC F3): standard workloads, advanced packs and storage.
type OfferingItems struct {
	Standard []OfferingItem `json:"standard"`
	Advanced []OfferingItem `json:"advanced"`
	Storage  []OfferingItem `json:"storage"`
	// StorageMetrics are the storage reporting metrics of each storage
	// (quota/overage/total, class 1, class 2), mapped like offering items.
	StorageMetrics []OfferingItem `json:"storageMetrics"`
}

// OfferingItem is one item customers can get, with its current mapping (nil
// when unmapped) and the Autotask service name the integration would suggest.
type OfferingItem struct {
	Name          string `json:"name"`
	ApplicationID string `json:"applicationId"`
	Group         string `json:"group"`
	// InfraID and StorageName identify the storage of a storage item.
	InfraID     string `json:"infraId,omitempty"`
	StorageName string `json:"storageName,omitempty"`
	// MeasurementUnit is Acronis' unit: bytes, quantity, seconds or n/a.
	MeasurementUnit      string          `json:"measurementUnit"`
	SuggestedServiceName string          `json:"suggestedServiceName"`
	Mapping              *ServiceMapping `json:"mapping,omitempty"`
}

func (s *Server) getOfferingItems(c echo.Context) error {
	ctx := c.Request().Context()
	items, err := s.catalog(ctx)
	if err != nil {
		return err
	}
	st, err := s.mappings()
	if err != nil {
		return err
	}
	saved, err := st.ListServiceMappings(ctx)
	if err != nil {
		return fmt.Errorf("list service mappings: %w", err)
	}
	byKey := make(map[string]store.ServiceMapping, len(saved))
	for _, m := range saved {
		byKey[servicemap.Key(m.OfferingItem, m.InfraID)] = m
	}
	out := OfferingItems{Standard: []OfferingItem{}, Advanced: []OfferingItem{}, Storage: []OfferingItem{}, StorageMetrics: []OfferingItem{}}
	for _, it := range append(items, servicemap.StorageMetricItems(items)...) {
		v := OfferingItem{Name: it.Name, ApplicationID: it.ApplicationID, Group: string(it.Group), InfraID: it.InfraID,
			StorageName: it.StorageName, MeasurementUnit: it.Unit, SuggestedServiceName: suggestedServiceName(it)}
		if m, ok := byKey[it.Key()]; ok {
			view := serviceMappingView(m, it)
			v.Mapping = &view
		}
		switch {
		case usage.IsStorageMetric(it.Name):
			out.StorageMetrics = append(out.StorageMetrics, v)
		case it.Group == entitlement.GroupAdvanced:
			out.Advanced = append(out.Advanced, v)
		case it.Group == entitlement.GroupStorage:
			out.Storage = append(out.Storage, v)
		default:
			out.Standard = append(out.Standard, v)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// catalog lists the offering items the partner may give customers, discovered
// from Acronis (never hard-coded), in Acronis' order.
func (s *Server) catalog(ctx context.Context) ([]servicemap.Item, error) {
	ac, err := s.acronisClient(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := ac.AvailableForChild(ctx, ac.PartnerTenantID(), acronis.KindCustomer, acronis.AllEditions)
	if err != nil {
		return nil, fmt.Errorf("list offering items available to customers: %w", err)
	}
	grouped := activities.CatalogFromOfferingItems(raw)
	names := storageNames(ctx, ac, raw)
	out := make([]servicemap.Item, len(raw))
	for i, it := range raw {
		out[i] = servicemap.Item{Item: grouped[i], UsageName: it.UsageName, Unit: it.MeasurementUnit, StorageName: names[it.InfraID]}
	}
	return out, nil
}

// storageNames reads the names of the storages in items. Names are for
// display only, so a failure leaves them empty rather than failing the list.
func storageNames(ctx context.Context, ac *acronis.Client, items []acronis.OfferingItem) map[string]string {
	var ids []string
	seen := map[string]bool{}
	for _, it := range items {
		if it.InfraID != "" && !seen[it.InfraID] {
			seen[it.InfraID] = true
			ids = append(ids, it.InfraID)
		}
	}
	out := map[string]string{}
	infras, err := ac.GetInfras(ctx, ids)
	if err != nil {
		return out
	}
	for _, in := range infras {
		out[in.ID] = in.Name
	}
	return out
}

// workloadLabels are the product's names for the usage names of offering
// items; unknown items get a label derived from their name.
var workloadLabels = map[string]string{
	"workstations":            "Workstations",
	"servers":                 "Servers",
	"vms":                     "Virtual machines",
	"web_hosting_servers":     "Web hosting servers",
	"nas":                     "NAS",
	"mailboxes":               "Microsoft 365 seats",
	"m365_seats":              "Microsoft 365 seats",
	"o365_mailboxes":          "Microsoft 365 mailboxes",
	"o365_onedrive":           "Microsoft 365 OneDrive",
	"o365_sharepoint_sites":   "Microsoft 365 SharePoint Online sites",
	"hosted_exchange":         "Hosted Exchange",
	"gsuite_seats":            "Google Workspace seats",
	"gsuite_shared_drives":    "Google Workspace Shared drives",
	"mobiles":                 "Mobile devices",
	"websites":                "Websites",
	"child_storages":          "Child storages",
	"local_storage":           "Local backup (GB)",
	"storage":                 "Backup storage (GB)",
	"adv_management":          "Advanced Management",
	"adv_security":            "Advanced Security",
	"adv_dlp":                 "Advanced Data Loss Prevention",
	"adv_backup":              "Advanced Backup",
	"adv_backup_m365_seats":   "Advanced Backup (Microsoft 365 seats)",
	"adv_security_m365_seats": "Advanced Security (Microsoft 365 seats)",
	"adv_disaster_recovery":   "Advanced Disaster Recovery",
	"adv_email_security":      "Advanced Email Security",
}

// suggestedServiceName is the default Autotask service name of an item, e.g.
// "Acronis Cyber Protect - Workstations"; storage items name their storage.
func suggestedServiceName(it servicemap.Item) string {
	usage := it.UsageName
	if usage == "" {
		usage = it.Name
		for _, p := range []string{"pw_base_", "pw_pack_", "pck_", "p_"} {
			usage = strings.TrimPrefix(usage, p)
		}
	}
	label, ok := workloadLabels[usage]
	if !ok {
		label = strings.ReplaceAll(usage, "_", " ")
		if label != "" {
			label = strings.ToUpper(label[:1]) + label[1:]
		}
	}
	if it.Group == entitlement.GroupStorage && it.StorageName != "" {
		label += " - " + it.StorageName
	}
	return "Acronis Cyber Protect - " + label
}

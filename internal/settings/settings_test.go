package settings

import (
	"errors"
	"reflect"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestDefaults_AreValidAndAllFeaturesOff(t *testing.T) {
	d := Defaults()
	if err := d.Validate(); err != nil {
		t.Fatalf("Defaults().Validate() = %v; want nil", err)
	}
	if d.BillingEnabled || d.TwoWaySync || d.TicketCreationEnabled || d.Provisioning.AutoCreateCustomers {
		t.Fatalf("a feature is on by default: %+v", d)
	}
	if d.UsageReporting.Period != PeriodCustomBillingMonth || d.UsageReporting.BillingDay != 1 || d.SyncIntervalSeconds != 30 {
		t.Fatalf("defaults differ from SPEC F2: %+v", d.UsageReporting)
	}
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestValidate_ReportsEveryBadFieldAtOnce(t *testing.T) {
	s := Defaults()
	s.TwoWaySync = true
	s.Provisioning.CreateAccountsBasedOn = BasedOnCompanyName
	s.Provisioning.TenantMode = "staging"
	s.Deprovisioning.Disable = DelayedStep{Enabled: true, AfterDays: 30}
	s.Deprovisioning.Delete = DelayedStep{Enabled: true, AfterDays: 10}
	s.Tickets.Reopening = ReopenWindow{Enabled: true, WithinDays: 0}
	s.Tickets.AutoClose = AutoClose{Enabled: true}
	s.UsageReporting.BillingDay = 29
	s.UsageReporting.Storage = []StorageReport{StorageClass1Free, StorageClass1Free, "class3"}
	s.SyncIntervalSeconds = 3600

	got := fieldsOf(t, s.Validate())
	want := []string{
		"deprovisioning.delete",
		"newServices.allocationCodeId",
		"provisioning.activationEmail",
		"provisioning.tenantMode",
		"syncIntervalSeconds",
		"tickets.autoClose.statusId",
		"tickets.reopening.withinDays",
		"usageReporting.billingDay",
		"usageReporting.storage",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("bad fields\n got %v\nwant %v", got, want)
	}
}

func TestValidate_AcceptsAFullValidConfiguration(t *testing.T) {
	s := Defaults()
	s.BillingEnabled, s.TwoWaySync, s.TicketCreationEnabled = true, true, true
	s.NewServices = NewServices{AllocationCodeID: ptr(int64(29682801)), PeriodType: PeriodQuarterly}
	s.Provisioning = Provisioning{CreateAccountsBasedOn: BasedOnCompanyName, ActivationEmail: "ops@msp.example", AutoCreateCustomers: true, TwoFactorAuthentication: true, TenantMode: ModeTrial, DefaultStorageID: "infra-1"}
	s.Deprovisioning = Deprovisioning{ZeroQuotas: true, Disable: DelayedStep{true, 30}, Delete: DelayedStep{true, 30}}
	s.Tickets = Tickets{Reopening: ReopenWindow{true, 3}, AutoClose: AutoClose{true, ptr(int64(5))}, SourceID: ptr(int64(2)), NoteTypeID: ptr(int64(1)), NotePublishID: ptr(int64(1))}
	s.UsageReporting = UsageReporting{Period: PeriodCustomBillingMonth, BillingDay: 28, Storage: []StorageReport{StorageQuotaOverageTotal, StorageClass2Billed}}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	if !s.BackupStorageEnabled() {
		t.Fatal("BackupStorageEnabled() = false with storage reporting selected")
	}
}

func TestValidate_DeleteDaysOnlyComparedWhenBothStepsAreOn(t *testing.T) {
	s := Defaults()
	s.Deprovisioning.Disable = DelayedStep{Enabled: false, AfterDays: 30}
	s.Deprovisioning.Delete = DelayedStep{Enabled: true, AfterDays: 5}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil (disable is off)", err)
	}
}

func TestDecode_KeepsDefaultsAndRejectsUnknownFields(t *testing.T) {
	s, err := Decode([]byte(`{"billingEnabled": true, "usageReporting": {"period": "current_month"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.BillingEnabled || s.UsageReporting.Period != PeriodCurrentMonth || s.SyncIntervalSeconds != 30 {
		t.Fatalf("Decode merged wrongly: %+v", s)
	}
	if _, err := Decode([]byte(`{"billingEnabld": true}`)); err == nil {
		t.Fatal("Decode accepted a misspelt field")
	}
}

func TestValidate_StorageClassesNameEachStorageOnce(t *testing.T) {
	s := Defaults()
	s.UsageReporting.StorageClasses = []StorageClass{{InfraID: "a", Class1UsageNames: []string{"protected_mailbox_storage"}}, {InfraID: "b"}}
	if err := s.Validate(); err != nil {
		t.Fatalf("valid storage classes refused: %v", err)
	}
	s.UsageReporting.StorageClasses = []StorageClass{{InfraID: "a"}, {InfraID: "a"}}
	if got := fieldsOf(t, s.Validate()); !reflect.DeepEqual(got, []string{"usageReporting.storageClasses"}) {
		t.Fatalf("duplicate storage: fields %v", got)
	}
	s.UsageReporting.StorageClasses = []StorageClass{{InfraID: "", Class1UsageNames: []string{""}}}
	if got := fieldsOf(t, s.Validate()); len(got) != 2 || got[0] != "usageReporting.storageClasses.0.class1UsageNames.0" || got[1] != "usageReporting.storageClasses.0.infraId" {
		t.Fatalf("empty names: fields %v", got)
	}
}

package settings

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	validation "github.com/go-ozzo/ozzo-validation/v4"
	"github.com/go-ozzo/ozzo-validation/v4/is"
)

// FieldError names one invalid field by its JSON path, e.g. "deprovisioning.delete.afterDays".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field at once so an admin fixes them in one round.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

// MaxSyncIntervalSeconds is the guide's promise: changes reach the other side within 15 minutes.
const MaxSyncIntervalSeconds = 15 * 60

// Validate checks every field and every cross-field rule of SPEC F2 and returns
// a *ValidationError listing all problems, or nil.
func (s Settings) Validate() error {
	err := validation.ValidateStruct(&s,
		validation.Field(&s.Mode, validation.Required, validation.In(ModeLive, ModeShadow).Error("must be live or shadow")),
		validation.Field(&s.NewServices),
		validation.Field(&s.Provisioning),
		validation.Field(&s.Deprovisioning),
		validation.Field(&s.Tickets),
		validation.Field(&s.UsageReporting),
		validation.Field(&s.SyncIntervalSeconds, validation.Min(5), validation.Max(MaxSyncIntervalSeconds)),
	)
	var fields []FieldError
	flatten("", err, &fields)
	if s.TwoWaySync {
		if s.NewServices.AllocationCodeID == nil {
			fields = append(fields, FieldError{"newServices.allocationCodeId", "is required when two-way sync is on"})
		}
		if s.NewServices.PeriodType == "" {
			fields = append(fields, FieldError{"newServices.periodType", "is required when two-way sync is on"})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return &ValidationError{Fields: fields}
}

// Validate implements validation.Validatable.
func (n NewServices) Validate() error {
	return validation.ValidateStruct(&n,
		validation.Field(&n.AllocationCodeID, validation.NilOrNotEmpty, validation.Min(int64(1))),
		validation.Field(&n.PeriodType, validation.In(PeriodMonthly, PeriodQuarterly, PeriodSemiAnnual, PeriodYearly).
			Error("must be one of Monthly, Quarterly, Semi-Annual, Yearly")),
	)
}

// Validate implements validation.Validatable.
func (p Provisioning) Validate() error {
	return validation.ValidateStruct(&p,
		validation.Field(&p.CreateAccountsBasedOn, validation.Required,
			validation.In(BasedOnCompanyName, BasedOnPrimaryContact).Error("must be company_name or primary_contact")),
		validation.Field(&p.ActivationEmail,
			validation.When(p.CreateAccountsBasedOn == BasedOnCompanyName,
				validation.Required.Error("is required when accounts are based on the company name")),
			is.EmailFormat),
		validation.Field(&p.TenantMode, validation.Required,
			validation.In(ModeProduction, ModeTrial).Error("must be production or trial")),
		validation.Field(&p.DefaultStorageID, validation.Length(0, 128)),
	)
}

// Validate implements validation.Validatable.
func (d Deprovisioning) Validate() error {
	return validation.ValidateStruct(&d,
		validation.Field(&d.Disable),
		validation.Field(&d.Delete),
		validation.Field(&d.Delete, validation.By(func(any) error {
			if d.Disable.Enabled && d.Delete.Enabled && d.Delete.AfterDays < d.Disable.AfterDays {
				return errors.New("afterDays must be at least disable.afterDays: a tenant is disabled before it is deleted")
			}
			return nil
		})),
	)
}

// Validate implements validation.Validatable.
func (s DelayedStep) Validate() error {
	return validation.ValidateStruct(&s,
		validation.Field(&s.AfterDays, validation.When(s.Enabled, validation.Min(1).Error("must be at least 1 day")), validation.Max(3650)),
	)
}

// Validate implements validation.Validatable.
func (t Tickets) Validate() error {
	positive := validation.Min(int64(1)).Error("must be an Autotask picklist value")
	return validation.ValidateStruct(&t,
		validation.Field(&t.Reopening),
		validation.Field(&t.AutoClose),
		validation.Field(&t.SourceID, positive),
		validation.Field(&t.NoteTypeID, positive),
		validation.Field(&t.NotePublishID, positive),
	)
}

// Validate implements validation.Validatable.
func (r ReopenWindow) Validate() error {
	return validation.ValidateStruct(&r,
		validation.Field(&r.WithinDays, validation.When(r.Enabled, validation.Min(1).Error("must be at least 1 day")), validation.Max(3650)),
	)
}

// Validate implements validation.Validatable.
func (a AutoClose) Validate() error {
	return validation.ValidateStruct(&a,
		validation.Field(&a.StatusID,
			validation.When(a.Enabled, validation.NotNil.Error("is required when auto-closing is on")),
			validation.Min(int64(0))),
	)
}

// Validate implements validation.Validatable.
func (u UsageReporting) Validate() error {
	return validation.ValidateStruct(&u,
		validation.Field(&u.Period, validation.Required,
			validation.In(PeriodCurrentMonth, PeriodPreviousMonth, PeriodCustomBillingMonth).
				Error("must be current_month, previous_month or custom_billing_month")),
		validation.Field(&u.BillingDay,
			validation.When(u.Period == PeriodCustomBillingMonth, validation.Required.Error("is required for custom_billing_month")),
			validation.Min(1), validation.Max(28).Error("must be between 1 and 28: every month has that day")),
		validation.Field(&u.Storage, validation.By(uniqueStorage),
			validation.Each(validation.In(StorageQuotaOverageTotal, StorageClass1Free, StorageClass2Billed).
				Error("must be quota_overage_total, class1_free or class2_billed"))),
		validation.Field(&u.StorageClasses, validation.By(uniqueStorageClasses)),
	)
}

// Validate implements validation.Validatable.
func (c StorageClass) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.InfraID, validation.Required, validation.Length(1, 128)),
		validation.Field(&c.Class1UsageNames, validation.Each(validation.Required, validation.Length(1, 128))),
	)
}

func uniqueStorageClasses(v any) error {
	seen := map[string]bool{}
	for _, c := range v.([]StorageClass) {
		if seen[c.InfraID] {
			return fmt.Errorf("lists storage %s twice", c.InfraID)
		}
		seen[c.InfraID] = true
	}
	return nil
}

func uniqueStorage(v any) error {
	seen := map[StorageReport]bool{}
	for _, s := range v.([]StorageReport) {
		if seen[s] {
			return fmt.Errorf("lists %s twice", s)
		}
		seen[s] = true
	}
	return nil
}

// flatten turns ozzo's nested error maps into dotted JSON paths.
func flatten(prefix string, err error, out *[]FieldError) {
	if err == nil {
		return
	}
	var errs validation.Errors
	if !errors.As(err, &errs) {
		name := prefix
		if name == "" {
			name = "settings"
		}
		*out = append(*out, FieldError{name, err.Error()})
		return
	}
	for k, e := range errs {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		flatten(p, e, out)
	}
}

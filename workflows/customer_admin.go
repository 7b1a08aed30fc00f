package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
)

// Admin actions arrive as updates: validators reject what makes no sense in
// the current state (the caller gets the reason, history gets nothing), and
// handlers answer with what will happen.

func (c *customer) validateMap(_ workflow.Context, r MapRequest) error {
	switch {
	case r.New == (r.TenantID != ""):
		return errors.New("give exactly one of tenantId (an existing tenant) or new: true")
	case c.state.TenantID != "":
		return fmt.Errorf("company %d is already mapped to tenant %s; remove that mapping first", c.state.CompanyID, c.state.TenantID)
	case r.Actor == "":
		return errors.New("actor is required")
	}
	return nil
}

func (c *customer) handleMap(ctx workflow.Context, r MapRequest) (ActionResult, error) {
	if err := c.mu.Lock(ctx); err != nil {
		return ActionResult{}, err
	}
	defer c.mu.Unlock()
	defer c.kick()
	if c.state.TenantID != "" { // mapped while this update waited for the lock
		return ActionResult{}, fmt.Errorf("company %d is already mapped to tenant %s", c.state.CompanyID, c.state.TenantID)
	}
	if r.New {
		c.state.ProvisionRequested, c.state.Unmanaged = true, false
		c.state.NeedsReconcile, c.state.RetryAt = true, time.Time{}
		return ActionResult{Message: "a new customer tenant will be created for this company and its quotas set from its contracts"}, nil
	}
	// The plan comes first: a mapping that would write below usage or start
	// deprovisioning a tenant in use needs the admin to confirm that plan's id.
	var confirmed *plan.Customer
	if workflow.GetVersion(ctx, versionMapPlan, workflow.DefaultVersion, 1) == 1 {
		check := activities.MapInput{CompanyID: c.state.CompanyID, TenantID: r.TenantID, Actor: r.Actor}
		if err := c.exec(ctx, PoolAcronis, "Check tenant "+r.TenantID+" can be mapped to "+c.who(), activities.AcronisActs.CheckMappable, check).Get(ctx, nil); err != nil {
			return ActionResult{}, refusal(err)
		}
		p, err := c.previewMapping(ctx, r.TenantID)
		if err != nil {
			return ActionResult{}, refusal(err)
		}
		if len(p.Warnings) > 0 && r.PlanID != p.ID {
			c.auditAs(ctx, r.Actor, "customer.map.plan_required", fmt.Sprintf("mapping to tenant %s not done: plan %s has warnings: %s", r.TenantID, p.ID, strings.Join(p.Warnings, "; ")))
			return ActionResult{}, planRequired(p)
		}
		confirmed = &p
	}
	in := activities.MapInput{CompanyID: c.state.CompanyID, TenantID: r.TenantID, Actor: r.Actor}
	if err := c.exec(ctx, PoolAcronis, "Map "+c.who()+" to existing tenant "+r.TenantID, activities.AcronisActs.MapExistingTenant, in).Get(ctx, nil); err != nil {
		// Refused (self-service tenant, already mapped elsewhere…): the reason and its type go back to the admin.
		return ActionResult{}, refusal(err)
	}
	c.state.TenantID, c.state.MappedHow, c.state.Unmanaged = r.TenantID, "manual", false
	c.state.Phase, c.state.Applied = PhaseActive, ""
	c.state.Deprovision = Deprovision{}
	c.state.NeedsReconcile, c.state.RetryAt = true, time.Time{}
	msg := fmt.Sprintf("mapped to tenant %s; its quotas will follow the company's contracts", r.TenantID)
	if confirmed != nil {
		c.state.Confirmed, c.state.ConfirmedPlan = confirmed.BelowUsage(), confirmed.ID
	}
	if confirmed != nil && len(confirmed.Warnings) > 0 {
		c.auditAs(ctx, r.Actor, "customer.map.plan_confirmed", fmt.Sprintf("plan %s confirmed with warnings: %s", confirmed.ID, strings.Join(confirmed.Warnings, "; ")))
		msg += "; plan " + confirmed.ID + " confirmed"
	}
	return ActionResult{Message: msg, Plan: confirmed}, nil
}

func (c *customer) validateUnmap(_ workflow.Context, r ActionRequest) error {
	if c.state.TenantID == "" {
		return fmt.Errorf("company %d is not mapped", c.state.CompanyID)
	}
	if r.Actor == "" {
		return errors.New("actor is required")
	}
	return nil
}

func (c *customer) handleUnmap(ctx workflow.Context, r ActionRequest) (ActionResult, error) {
	if err := c.mu.Lock(ctx); err != nil {
		return ActionResult{}, err
	}
	defer c.mu.Unlock()
	defer c.kick()
	tenant := c.state.TenantID
	if tenant == "" {
		return ActionResult{}, fmt.Errorf("company %d is not mapped", c.state.CompanyID)
	}
	reason := fmt.Sprintf("mapping removed: the integration stops managing tenant %s and leaves it exactly as it is "+
		"(quotas, users, enabled state; no deprovisioning step)", tenant)
	if r.Reason != "" {
		reason = r.Reason + "; " + reason
	}
	in := activities.UnmapInput{CompanyID: c.state.CompanyID, TenantID: tenant, Actor: r.Actor, Reason: reason}
	if err := c.exec(ctx, PoolLocal, "Remove the mapping of "+c.who()+" to tenant "+tenant+" (asked by "+r.Actor+")", activities.StoreActs.RemoveMapping, in).Get(ctx, nil); err != nil {
		return ActionResult{}, refusal(err)
	}
	c.state.TenantID, c.state.MappedHow, c.state.Applied = "", "", ""
	c.state.Deprovision, c.state.Phase = Deprovision{}, PhaseUnmapped
	// Automatic provisioning would find the same tenant by its internal tag and
	// map it again: an admin's unmap holds until an admin maps the company.
	c.state.Unmanaged = true
	return ActionResult{Message: fmt.Sprintf("mapping to tenant %s removed; the tenant itself is unchanged", tenant)}, nil
}

func (c *customer) validateDeprovisioning(_ workflow.Context, r ActionRequest) error {
	if c.state.Deprovision.Since.IsZero() || c.state.Deprovision.Deleted {
		return fmt.Errorf("company %d has no pending deprovisioning", c.state.CompanyID)
	}
	if r.Actor == "" {
		return errors.New("actor is required")
	}
	return nil
}

func (c *customer) handleHold(ctx workflow.Context, r ActionRequest) (ActionResult, error) {
	unlock, err := c.adminLock(ctx)
	if err != nil {
		return ActionResult{}, err
	}
	defer unlock()
	defer c.kick()
	c.state.Deprovision.Hold = true
	c.auditAs(ctx, r.Actor, "customer.deprovisioning.hold", r.Reason)
	return ActionResult{Message: "deprovisioning is on hold; no step runs until it is released"}, nil
}

func (c *customer) validateRelease(ctx workflow.Context, r ActionRequest) error {
	if err := c.validateDeprovisioning(ctx, r); err != nil {
		return err
	}
	if !c.state.Deprovision.Hold {
		return errors.New("deprovisioning is not on hold")
	}
	return nil
}

func (c *customer) handleRelease(ctx workflow.Context, r ActionRequest) (ActionResult, error) {
	unlock, err := c.adminLock(ctx)
	if err != nil {
		return ActionResult{}, err
	}
	defer unlock()
	defer c.kick()
	c.state.Deprovision.Hold = false
	c.auditAs(ctx, r.Actor, "customer.deprovisioning.release", r.Reason)
	msg := "deprovisioning resumed"
	if p := c.state.pendingActions(); len(p) > 0 {
		msg += fmt.Sprintf("; next: %s at %s", p[0].Action, p[0].At.UTC().Format(time.RFC3339))
	}
	return ActionResult{Message: msg}, nil
}

func (c *customer) validateDeprovisionNow(ctx workflow.Context, r ActionRequest) error {
	if err := c.validateDeprovisioning(ctx, r); err != nil {
		return err
	}
	if len(c.state.pendingActions()) == 0 {
		return errors.New("no deprovisioning step is enabled in the settings")
	}
	return nil
}

func (c *customer) handleDeprovisionNow(ctx workflow.Context, r ActionRequest) (ActionResult, error) {
	unlock, err := c.adminLock(ctx)
	if err != nil {
		return ActionResult{}, err
	}
	defer unlock()
	defer c.kick()
	pending := c.state.pendingActions()
	if len(pending) == 0 { // the step ran (or services returned) while this update waited for the lock
		return ActionResult{}, fmt.Errorf("company %d has no pending deprovisioning step any more", c.state.CompanyID)
	}
	next := pending[0]
	c.state.Deprovision.Now = true
	c.auditAs(ctx, r.Actor, "customer.deprovisioning.now", r.Reason)
	return ActionResult{Message: next.Action + " will run now"}, nil
}

// adminLock takes the lock map and unmap take, so a hold, release or
// deprovision-now never lands in the middle of a step (issue 14). Workflows
// that ran these actions before took no lock: they replay without it.
func (c *customer) adminLock(ctx workflow.Context) (func(), error) {
	if workflow.GetVersion(ctx, versionAdminLock, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return func() {}, nil
	}
	if err := c.mu.Lock(ctx); err != nil {
		return nil, err
	}
	return c.mu.Unlock, nil
}

// kick wakes the main loop after an update changed the state.
func (c *customer) kick() { c.wake.SendAsync(struct{}{}) }

// refusal passes an activity's failure to the update's caller with its
// message and error type (NotManageable, AlreadyMapped…), without the
// activity-task wrapping, so the API can answer with the right status.
func refusal(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return temporal.NewNonRetryableApplicationError(errorText(err), app.Type(), nil)
	}
	return errors.New(errorText(err))
}

// ConfirmRequest confirms what an applied plan showed for one customer: the
// quotas below usage it lists may be written (item key → quota).
type ConfirmRequest struct {
	PlanID string            `json:"planId"`
	Actor  string            `json:"actor"`
	Quotas map[string]string `json:"quotas"`
}

func (c *customer) validateConfirmPlan(_ workflow.Context, r ConfirmRequest) error {
	switch {
	case r.PlanID == "" || r.Actor == "":
		return errors.New("planId and actor are required")
	case c.state.TenantID == "":
		return fmt.Errorf("company %d is not mapped: there is no quota to confirm", c.state.CompanyID)
	}
	return nil
}

// handleConfirmPlan records a plan's confirmed quotas and writes the
// contracts' quotas again with them.
func (c *customer) handleConfirmPlan(ctx workflow.Context, r ConfirmRequest) (ActionResult, error) {
	if err := c.mu.Lock(ctx); err != nil {
		return ActionResult{}, err
	}
	defer c.mu.Unlock()
	defer c.kick()
	c.state.Confirmed, c.state.ConfirmedPlan = r.Quotas, r.PlanID
	c.state.Applied, c.state.NeedsReconcile, c.state.RetryAt = "", true, time.Time{}
	// fmt prints a map sorted by key: the same text on every replay.
	c.auditAs(ctx, r.Actor, "customer.plan.confirmed", fmt.Sprintf("plan %s confirmed: quotas below usage allowed (item:quota): %v", r.PlanID, r.Quotas))
	return ActionResult{Message: fmt.Sprintf("plan %s confirmed; the quotas will be written on the next step", r.PlanID)}, nil
}

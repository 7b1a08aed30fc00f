package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acronis-autotask/acronis-autotask/activities"
	"github.com/acronis-autotask/acronis-autotask/internal/bounds"
	"github.com/acronis-autotask/acronis-autotask/internal/company"
	"github.com/acronis-autotask/acronis-autotask/internal/entitlement"
	"github.com/acronis-autotask/acronis-autotask/internal/plan"
	"github.com/acronis-autotask/acronis-autotask/internal/shadow"
)

// Messages a customer workflow accepts.
const (
	// SignalContracts delivers a company.Snapshot from the contract sync.
	SignalContracts = "contracts"
	// SignalRefresh asks the workflow to re-read its company from Autotask ("sync now").
	SignalRefresh = "refresh"
	// UpdateMap maps the company to an existing tenant or a new one.
	UpdateMap = "map"
	// UpdateUnmap removes the mapping.
	UpdateUnmap = "unmap"
	// UpdateHold pauses deprovisioning; UpdateRelease resumes it.
	UpdateHold    = "hold"
	UpdateRelease = "release"
	// UpdateDeprovisionNow runs the next deprovisioning step at once.
	UpdateDeprovisionNow = "deprovision-now"
	// UpdateConfirmPlan confirms the quotas below usage of an applied plan.
	UpdateConfirmPlan = "confirm-plan"
	// QueryStatus returns a CustomerStatus.
	QueryStatus = "status"
	// QueryState returns the whole CustomerState, snapshot included: what
	// previews plan from.
	QueryState = "state"
)

// MapRequest is the body of UpdateMap: exactly one of TenantID or New.
type MapRequest struct {
	TenantID string `json:"tenantId,omitempty"`
	New      bool   `json:"new,omitempty"`
	Actor    string `json:"actor"`
	// PlanID confirms the plan a mapping to an existing tenant answered with.
	PlanID string `json:"planId,omitempty"`
}

// ActionRequest carries who asked for an admin action.
type ActionRequest struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// ActionResult says, in words, what the workflow will do.
type ActionResult struct {
	Message string `json:"message"`
	// Plan is what a mapping to an existing tenant will write.
	Plan *plan.Customer `json:"plan,omitempty"`
}

// failuresBeforeError is SPEC F11: three consecutive failures raise a visible error.
const failuresBeforeError = 3

// historyLimit continues-as-new well before the server's 51,200-event hard limit,
// even if the server's suggestion never comes.
const historyLimit = 2000

// CustomerWorkflow is the lifecycle of one Autotask company (id customer-<companyID>):
// it provisions a tenant, keeps quotas equal to the contracts, deprovisions when
// services end, and answers operators' questions about all of it.
func CustomerWorkflow(ctx workflow.Context, state CustomerState) error {
	c := &customer{state: state}
	if err := c.setup(ctx); err != nil {
		return err
	}
	return c.run(ctx)
}

type customer struct {
	state     CustomerState
	contracts workflow.ReceiveChannel
	refresh   workflow.ReceiveChannel
	replan    workflow.ReceiveChannel
	wake      workflow.Channel
	mu        workflow.Mutex
	timer     deadlineTimer
	upserted  [2]string
	recorded  [2]string
}

func (c *customer) setup(ctx workflow.Context) error {
	c.contracts = workflow.GetSignalChannel(ctx, SignalContracts)
	c.refresh = workflow.GetSignalChannel(ctx, SignalRefresh)
	c.replan = workflow.GetSignalChannel(ctx, SignalReplan)
	c.wake = workflow.NewBufferedChannel(ctx, 1)
	c.mu = workflow.NewMutex(ctx)
	if c.state.Phase == "" {
		c.state.Phase = PhaseNew
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, c.status); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (CustomerState, error) { return c.state, nil }); err != nil {
		return fmt.Errorf("register state query: %w", err)
	}
	handlers := []struct {
		name     string
		handler  any
		validate any
	}{
		{UpdateMap, c.handleMap, c.validateMap},
		{UpdateUnmap, c.handleUnmap, c.validateUnmap},
		{UpdateHold, c.handleHold, c.validateDeprovisioning},
		{UpdateRelease, c.handleRelease, c.validateRelease},
		{UpdateDeprovisionNow, c.handleDeprovisionNow, c.validateDeprovisionNow},
		{UpdateConfirmPlan, c.handleConfirmPlan, c.validateConfirmPlan},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler, workflow.UpdateHandlerOptions{Validator: h.validate}); err != nil {
			return fmt.Errorf("register %s update: %w", h.name, err)
		}
	}
	return workflow.UpsertTypedSearchAttributes(ctx, AttrAutotaskCompanyID.ValueSet(fmt.Sprint(c.state.CompanyID)))
}

func (c *customer) run(ctx workflow.Context) error {
	log := workflow.GetLogger(ctx)
	for {
		c.receiveSignals(ctx)
		if b := c.state.NextBoundary; !b.IsZero() && !workflow.Now(ctx).Before(b) {
			c.state.NeedsReconcile, c.state.NextBoundary = true, time.Time{} // a contract started or ended
		}
		if err := c.mu.Lock(ctx); err != nil {
			return err
		}
		if c.state.NeedsReconcile && !c.waitingToRetry(ctx) {
			c.reconcile(ctx)
		}
		if !c.waitingToRetry(ctx) {
			c.advanceDeprovisioning(ctx)
		}
		if !c.waitingToRetry(ctx) {
			c.endTrial(ctx)
		}
		if c.twoWayActive() && !c.waitingToRetry(ctx) && !c.state.NeedsReconcile {
			// Asked only here, so the marker is recorded exactly when it was before.
			twoWay := workflow.GetVersion(ctx, versionTwoWaySync, workflow.DefaultVersion, 1)
			if twoWay == 1 {
				c.twoWaySync(ctx)
			}
		}
		c.mu.Unlock()
		c.publish(ctx)

		if c.shouldContinueAsNew(ctx) {
			// Drain what was delivered to this run and let update handlers finish:
			// anything left here would be lost with the run.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			c.receiveSignals(ctx)
			if !c.state.NeedsReconcile {
				c.state.Runs++
				log.Info("continuing as new", "history", workflow.GetInfo(ctx).GetCurrentHistoryLength())
				return workflow.NewContinueAsNewError(ctx, CustomerWorkflow, c.state)
			}
			continue
		}

		// Wait for the next message, admin action or due time, whichever comes first.
		c.armTimer(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(c.contracts, func(workflow.ReceiveChannel, bool) {})
		sel.AddReceive(c.refresh, func(workflow.ReceiveChannel, bool) {})
		sel.AddReceive(c.replan, func(workflow.ReceiveChannel, bool) {})
		sel.AddReceive(c.wake, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil) })
		c.timer.addTo(sel)
		sel.Select(ctx)
		if err := ctx.Err(); err != nil {
			return err // cancelled by an operator: stop, leaving Acronis as it is
		}
	}
}

// receiveSignals applies every delivered signal without blocking.
func (c *customer) receiveSignals(ctx workflow.Context) {
	for {
		var snap company.Snapshot
		if !c.contracts.ReceiveAsync(&snap) {
			break
		}
		// Snapshots can arrive out of order (a full scan and an incremental read); keep the newest.
		if c.state.Snapshot != nil && snap.ObservedAt.Before(c.state.Snapshot.ObservedAt) {
			continue
		}
		c.state.Snapshot = &snap
		c.state.CompanyName = snap.CompanyName
		c.state.NeedsReconcile = true
		c.state.RetryAt = time.Time{}
	}
	for c.refresh.ReceiveAsync(nil) {
		c.state.Snapshot = nil // re-read from Autotask
		c.state.NeedsReconcile = true
		c.state.RetryAt = time.Time{}
	}
	c.receiveReplans(ctx)
}

func (c *customer) waitingToRetry(ctx workflow.Context) bool {
	return !c.state.RetryAt.IsZero() && workflow.Now(ctx).Before(c.state.RetryAt)
}

func (c *customer) shouldContinueAsNew(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > historyLimit
}

// reconcile brings Acronis in line with the newest snapshot under the current
// mappings and settings. It records failures instead of returning them, so
// one bad call never ends the customer's workflow.
func (c *customer) reconcile(ctx workflow.Context) {
	s := &c.state
	if s.Snapshot == nil {
		var snap company.Snapshot
		if err := c.exec(ctx, PoolAutotask, fmt.Sprintf("Read company %d and its contracts from Autotask", s.CompanyID), activities.AutotaskActs.LoadCompanySnapshot, s.CompanyID).Get(ctx, &snap); err != nil {
			c.fail(ctx, "read company from Autotask", err)
			return
		}
		s.Snapshot, s.CompanyName = &snap, snap.CompanyName
	}
	var plan entitlement.Plan
	now := workflow.Now(ctx)
	s.NextBoundary = nextContractBoundary(s.Snapshot, now)
	if err := c.exec(ctx, PoolLocal, "Plan quotas for "+c.who()+" from its contracts", activities.StoreActs.PlanCustomer, activities.PlanInput{Snapshot: *s.Snapshot, Today: now}).Get(ctx, &plan); err != nil {
		c.fail(ctx, "plan entitlements", err)
		return
	}
	s.Plan = &plan
	if s.TenantID == "" && plan.TenantID != "" {
		s.TenantID, s.MappedHow = plan.TenantID, "manual" // mapped outside this run, e.g. before a reset
	}
	if !plan.Desired.Valid() {
		s.Phase = PhaseInvalid
		s.LastError = "nothing changed: " + strings.Join(plan.Desired.Problems, "; ")
		c.audit(ctx, "customer.invalid", s.LastError)
		s.NeedsReconcile = false
		return
	}
	if !plan.Settings.BillingEnabled {
		if s.TenantID == "" {
			s.Phase = PhaseUnmapped
		}
		s.LastError = ""
		s.NeedsReconcile = false
		return
	}

	if s.TenantID == "" {
		provision := c.state.ProvisionRequested || (plan.Desired.HasActiveServices && plan.Settings.AutoCreateCustomers && !s.Unmanaged)
		if !provision {
			s.Phase, s.LastError, s.NeedsReconcile = PhaseUnmapped, "", false
			return
		}
		if !c.provision(ctx) {
			return
		}
	}

	if plan.Desired.HasActiveServices {
		if !c.cancelDeprovisioning(ctx) {
			return
		}
		if !c.applyContractQuotas(ctx, plan.Desired.Quotas, "contracts changed") {
			return
		}
		s.Phase = PhaseActive
	} else if s.Deprovision.Since.IsZero() {
		s.Deprovision = Deprovision{Since: workflow.Now(ctx), Hold: s.Deprovision.Hold}
		s.Phase = PhaseDeprovisioning
		c.audit(ctx, "customer.deprovisioning.start", "no active services")
	}
	c.succeed(ctx)
	s.LastSyncedAt = workflow.Now(ctx)
	s.NeedsReconcile = false
}

func (c *customer) provision(ctx workflow.Context) bool {
	s := &c.state
	in := activities.ProvisionInput{CompanyID: s.CompanyID, CompanyName: s.CompanyName, Settings: s.Plan.Settings, MayExist: s.ProvisionAttempts > 0, Warnings: s.Plan.Desired.Warnings}
	if s.Plan.Settings.AccountsBasedOn == "primary_contact" {
		// Read once and kept for retries: it is one Autotask request per customer
		// (BENCHMARKS.md, finding 2). Workflows before this change re-read it.
		// Each version is asked only when its case applies, in this order, as
		// the switch that recorded the v3 histories asked them.
		keep := false
		if s.Contact != nil {
			keep = workflow.GetVersion(ctx, versionKeepPrimaryContact, workflow.DefaultVersion, 1) == 1
		}
		fromSnapshot := false
		if !keep && s.Snapshot != nil && s.Snapshot.ContactKnown {
			fromSnapshot = workflow.GetVersion(ctx, versionContactFromSnapshot, workflow.DefaultVersion, 1) == 1
		}
		switch {
		case keep:
			in.Contact = s.Contact
		case fromSnapshot:
			// The contract sync reads contacts in batches of 200 companies.
			in.Contact = s.Snapshot.PrimaryContact
		default:
			if err := c.exec(ctx, PoolAutotask, "Read the primary contact of "+c.who()+" from Autotask", activities.AutotaskActs.PrimaryContact, s.CompanyID).Get(ctx, &in.Contact); err != nil {
				c.fail(ctx, "read primary contact", err)
				return false
			}
		}
		s.Contact = in.Contact
	}
	// Counted before the attempt: any later attempt looks for the tenant this one may create.
	s.ProvisionAttempts++
	var p activities.Provisioned
	if err := c.exec(ctx, PoolAcronis, "Create Acronis tenant for "+c.who(), activities.AcronisActs.ProvisionTenant, in).Get(ctx, &p); err != nil {
		if hasErrorType(err, activities.ErrTypeNameTaken) {
			// Waiting for an admin, not failing: retrying cannot help until the company is mapped.
			s.Phase, s.LastError, s.NeedsReconcile = PhaseUnmapped, errorText(err), false
			c.audit(ctx, "customer.provisioning.blocked", s.LastError)
			return false
		}
		c.fail(ctx, "provision tenant", err)
		return false
	}
	if shadow.IsPlaceholder(p.TenantID) && workflow.GetVersion(ctx, versionShadowMode, workflow.DefaultVersion, 1) == 1 {
		c.provisionedInShadow(ctx, p.TenantID)
		return false
	}
	// The mapping is recorded only after the tenant exists; the tenant's
	// internal tag lets a retry find it, so a crash in between duplicates nothing.
	rec := activities.MapInput{CompanyID: s.CompanyID, TenantID: p.TenantID, Actor: "provisioning"}
	if err := c.exec(ctx, PoolLocal, "Record that "+c.who()+" maps to tenant "+p.TenantID, activities.StoreActs.RecordAutomaticMapping, rec).Get(ctx, nil); err != nil {
		c.fail(ctx, "record mapping", err)
		return false
	}
	s.Provisioned = &p
	s.TenantID, s.MappedHow = p.TenantID, "automatic"
	c.state.ProvisionRequested = false
	if p.TenantCreated && s.Plan.Settings.TenantMode == "trial" {
		// The guide: trial customers switch to production after a full month.
		s.TrialEndsAt = trialEnd(workflow.Now(ctx))
	}
	return true
}

func (c *customer) applyQuotas(ctx workflow.Context, quotas []entitlement.Quota, reason string) bool {
	return c.writeQuotas(ctx, quotas, reason, false)
}

// applyContractQuotas writes the quotas the contracts give, holding back any
// that would go below usage unless a plan the admin confirmed showed it.
func (c *customer) applyContractQuotas(ctx workflow.Context, quotas []entitlement.Quota, reason string) bool {
	return c.writeQuotas(ctx, quotas, reason, true)
}

func (c *customer) writeQuotas(ctx workflow.Context, quotas []entitlement.Quota, reason string, keepUsage bool) bool {
	s := &c.state
	fp := fingerprint(s.TenantID, quotas)
	if fp == s.Applied {
		return true
	}
	in := activities.ApplyQuotasInput{CompanyID: s.CompanyID, TenantID: s.TenantID, Quotas: quotas, Reason: reason,
		KeepUsage: keepUsage, Confirmed: s.Confirmed}
	if s.Plan != nil {
		in.Warnings = s.Plan.Desired.Warnings
	}
	var res activities.AppliedQuotas
	if err := c.exec(ctx, PoolAcronis, "Set the Acronis quotas of "+c.who()+" ("+reason+")", activities.AcronisActs.ApplyQuotas, in).Get(ctx, &res); err != nil {
		c.fail(ctx, "apply quotas", err)
		return false
	}
	if res.Shadow {
		return true // quotas shadow mode only recorded are written when it goes live
	}
	s.Applied, s.AppliedAt = fp, workflow.Now(ctx)
	s.Held = nil
	for _, h := range res.Held {
		s.Held = append(s.Held, fmt.Sprintf("%s: %s not lowered to %s, below what the tenant uses; preview and apply a plan (POST /api/v1/plans) to confirm it",
			plan.WarnBelowUsage, h.Item, h.After))
	}
	if len(res.Held) > 0 {
		c.audit(ctx, "customer.quotas.held", strings.Join(s.Held, "; "))
	}
	if keepUsage {
		s.Confirmed = nil // a confirmation covers the one write it was shown
	}
	return true
}

// cancelDeprovisioning undoes a pending deprovisioning when services return:
// timers are dropped and a disabled (not deleted) tenant is enabled again.
func (c *customer) cancelDeprovisioning(ctx workflow.Context) bool {
	s := &c.state
	if s.Deprovision.Since.IsZero() {
		return true
	}
	if s.Deprovision.Disabled {
		in := activities.TenantStateInput{CompanyID: s.CompanyID, TenantID: s.TenantID, Reason: "active services again"}
		if err := c.exec(ctx, PoolAcronis, "Enable tenant "+s.TenantID+" of "+c.who()+" again", activities.AcronisActs.EnableTenant, in).Get(ctx, nil); err != nil {
			c.fail(ctx, "enable tenant", err)
			return false
		}
	}
	s.Deprovision = Deprovision{}
	s.Applied = "" // quotas may have been zeroed: write them again
	c.audit(ctx, "customer.deprovisioning.cancel", "active services again")
	return true
}

// advanceDeprovisioning runs every deprovisioning step that is due, in order:
// quotas to zero, disable, delete (disabled first).
func (c *customer) advanceDeprovisioning(ctx workflow.Context) {
	s := &c.state
	d := &s.Deprovision
	if d.Since.IsZero() || d.Deleted || s.TenantID == "" || s.Plan == nil || (d.Hold && !d.Now) || s.Plan.Settings.Shadow {
		return
	}
	set := s.Plan.Settings
	now := workflow.Now(ctx)
	forced := d.Now
	d.Now = false
	if set.ZeroQuotas && !d.QuotasZeroed {
		if !c.applyQuotas(ctx, zeroQuotas(s.Plan.Desired.Quotas), "deprovisioning: no active services") {
			return
		}
		d.QuotasZeroed = true
		if forced {
			return
		}
	}
	in := activities.TenantStateInput{CompanyID: s.CompanyID, TenantID: s.TenantID, Reason: "deprovisioning: no active services since " + d.Since.UTC().Format(time.RFC3339)}
	if set.DisableEnabled && !d.Disabled && (forced || !now.Before(d.Since.Add(set.DisableAfter))) {
		if err := c.exec(ctx, PoolAcronis, "Disable tenant "+s.TenantID+" of "+c.who(), activities.AcronisActs.DisableTenant, in).Get(ctx, nil); err != nil {
			c.fail(ctx, "disable tenant", err)
			return
		}
		d.Disabled, s.Phase = true, PhaseDisabled
		c.succeed(ctx)
		if forced {
			return
		}
	}
	if set.DeleteEnabled && (forced || !now.Before(d.Since.Add(set.DeleteAfter))) {
		if err := c.exec(ctx, PoolAcronis, "Delete tenant "+s.TenantID+" of "+c.who(), activities.AcronisActs.DeleteTenant, in).Get(ctx, nil); err != nil {
			c.fail(ctx, "delete tenant", err)
			return
		}
		un := activities.UnmapInput{CompanyID: s.CompanyID, TenantID: s.TenantID, Actor: "deprovisioning", Reason: "tenant deleted"}
		if err := c.exec(ctx, PoolLocal, "Remove the mapping of "+c.who()+" to tenant "+s.TenantID, activities.StoreActs.RemoveMapping, un).Get(ctx, nil); err != nil {
			c.fail(ctx, "remove mapping", err)
			return
		}
		d.Deleted, s.Phase = true, PhaseDeleted
		s.TenantID, s.Applied = "", ""
		c.succeed(ctx)
	}
}

func zeroQuotas(qs []entitlement.Quota) []entitlement.Quota {
	out := make([]entitlement.Quota, len(qs))
	for i, q := range qs {
		zero := int64(0)
		q.Enabled, q.Value, q.Source = false, &zero, "deprovisioning"
		out[i] = q
	}
	return out
}

// nextWake is the earliest time the workflow must act without a message,
// and what it will do then (the timer's summary).
func (c *customer) nextWake() (time.Time, string) {
	s := &c.state
	var at time.Time
	var what string
	earliest := func(t time.Time, w string) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at, what = t, w
		}
	}
	if s.NeedsReconcile {
		earliest(s.RetryAt, "retry the failed step")
	}
	earliest(s.NextBoundary, "a contract starts or ends")
	if c.twoWayActive() {
		earliest(s.NextDriftCheck, "check Acronis for quota changes")
	}
	for _, p := range s.allPending() {
		if !p.Held && !s.shadow() {
			earliest(p.At, strings.ReplaceAll(p.Action, "-", " "))
		}
	}
	return at, what
}

// armTimer keeps exactly one timer, for nextWake, and replaces it only when
// the deadline moves (a settings change, a hold, a retry).
func (c *customer) armTimer(ctx workflow.Context) {
	at, what := c.nextWake()
	c.timer.set(ctx, at, time.Second, "Wait until "+what+" at "+at.UTC().Format(time.RFC3339))
}

// customerStep is the policy every customer activity shares; failures past
// it are retried by the workflow itself with a longer backoff (fail).
var customerStep = activityOptions{
	StartToClose: 2 * time.Minute,
	Heartbeat:    20 * time.Second,
	Retry: &temporal.RetryPolicy{
		InitialInterval:    2 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
		MaximumAttempts:    5,
	},
}

// exec runs one activity on pool with the customer policy; summary is what
// the Temporal UI shows for it.
func (c *customer) exec(ctx workflow.Context, pool Pool, summary string, activity any, args ...any) workflow.Future {
	return executeActivity(ctx, customerStep.on(pool, summary), activity, args...)
}

// who names the customer in summaries: its name once known, else its id.
func (c *customer) who() string {
	if c.state.CompanyName == "" {
		return fmt.Sprintf("company %d", c.state.CompanyID)
	}
	return c.state.CompanyName
}

// fail records a failed step; the workflow retries it later with backoff, and
// after three failures in a row the customer shows as "error".
func (c *customer) fail(ctx workflow.Context, what string, err error) {
	s := &c.state
	s.Failures++
	s.LastError = what + ": " + errorText(err)
	s.RetryAt = workflow.Now(ctx).Add(stepBackoff(s.Failures))
	s.NeedsReconcile = true
	if s.Failures >= failuresBeforeError {
		s.Phase = PhaseError
	}
	workflow.GetLogger(ctx).Warn("customer step failed", "step", what, "failures", s.Failures, "error", s.LastError)
}

func (c *customer) succeed(ctx workflow.Context) {
	c.state.Failures, c.state.LastError, c.state.RetryAt = 0, "", time.Time{}
	if c.state.Phase == PhaseError || c.state.Phase == PhaseNew {
		c.state.Phase = PhaseActive
	}
}

// hasErrorType reports whether an activity failed with the given application error type.
func hasErrorType(err error, t string) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == t
}

// errorText unwraps Temporal's activity error to the message that says what
// went wrong, without the wrapper's types and retry flags, bounded so an
// error quoting a huge input never bloats the workflow's state.
func errorText(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Message() != "" {
		return bounds.Truncate(app.Message(), bounds.ErrorMessage)
	}
	return bounds.Truncate(err.Error(), bounds.ErrorMessage)
}

func (c *customer) audit(ctx workflow.Context, kind, reason string) { c.auditAs(ctx, "", kind, reason) }

// auditAs records who asked (the API token's name) when an admin action caused the event.
func (c *customer) auditAs(ctx workflow.Context, actor, kind, reason string) {
	s := c.state
	e := activities.AuditInput{Actor: actor, Kind: kind, CompanyID: s.CompanyID, TenantID: s.TenantID, Reason: reason}
	// The audit entry is best effort here: the state change it describes already happened.
	_ = c.exec(ctx, PoolLocal, "Audit "+kind+" of "+c.who(), activities.StoreActs.RecordCustomerEvent, e).Get(ctx, nil)
}

// publish keeps the search attributes and the UI's current details in step with the state.
func (c *customer) publish(ctx workflow.Context) {
	s := c.state
	if want := [2]string{string(s.Phase), s.TenantID}; want != c.upserted {
		if err := workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerState.ValueSet(want[0]), AttrAcronisTenantID.ValueSet(want[1])); err != nil {
			workflow.GetLogger(ctx).Error("upsert search attributes", "error", err)
		} else {
			c.upserted = want
		}
	}
	// The store keeps each customer's phase and last error for lists and stats
	// (added after v1: replayed v1 histories take the default branch).
	if rec := [2]string{string(s.Phase), s.LastError}; rec != c.recorded {
		// Asked only when there is something to record, as before.
		if workflow.GetVersion(ctx, versionRecordCustomerState, workflow.DefaultVersion, 1) == 1 {
			if err := c.exec(ctx, PoolLocal, "Record that "+c.who()+" is "+rec[0], activities.StoreActs.RecordCustomerState, s.CompanyID, rec[0], rec[1]).Get(ctx, nil); err == nil {
				c.recorded = rec
			}
		}
	}
	workflow.SetCurrentDetails(ctx, c.details())
}

func (c *customer) details() string {
	s := c.state
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (Autotask company %d): **%s**", orUnknown(s.CompanyName), s.CompanyID, s.Phase)
	if s.TenantID != "" {
		fmt.Fprintf(&b, ", Acronis tenant `%s` (%s)", s.TenantID, s.MappedHow)
	}
	b.WriteString("\n\n")
	switch {
	case s.LastError != "":
		fmt.Fprintf(&b, "Last error: %s. Retrying at %s.\n", s.LastError, s.RetryAt.UTC().Format(time.RFC3339))
	case s.Phase == PhaseUnmapped:
		b.WriteString("Waiting for an admin to map this company, or for a contract with mapped services.\n")
	default:
		b.WriteString("Waiting for contract changes.\n")
	}
	for _, p := range s.allPending() {
		held := ""
		if p.Held {
			held = " (on hold)"
		}
		fmt.Fprintf(&b, "- %s at %s%s\n", p.Action, p.At.UTC().Format(time.RFC3339), held)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown company"
	}
	return s
}

func (c *customer) status() (CustomerStatus, error) {
	st := CustomerStatus{CustomerState: c.state, Pending: c.state.allPending()}
	if c.state.Plan != nil {
		st.Quotas = c.state.Plan.Desired.Quotas
	}
	st.Snapshot = nil // large and internal; the quotas say what matters
	return st, nil
}

// fingerprint identifies a set of quotas for a tenant so an unchanged plan is not written again.
func fingerprint(tenantID string, qs []entitlement.Quota) string {
	raw, _ := json.Marshal(struct {
		T string
		Q []entitlement.Quota
	}{tenantID, qs})
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:12])
}

// provisionedInShadow finishes a provisioning that shadow mode recorded: no
// tenant exists, so no mapping is recorded; the quotas the new tenant would
// get are recorded against its placeholder id, and the customer waits in the
// shadow phase. Going live re-plans it (a new configuration generation), and
// with no tenant the next reconcile provisions for real.
func (c *customer) provisionedInShadow(ctx workflow.Context, placeholder string) {
	s := &c.state
	in := activities.ApplyQuotasInput{CompanyID: s.CompanyID, TenantID: placeholder, Quotas: s.Plan.Desired.Quotas, Reason: "contracts changed", Warnings: s.Plan.Desired.Warnings}
	if err := c.exec(ctx, PoolAcronis, "Record the Acronis quotas "+c.who()+" would get (shadow mode)", activities.AcronisActs.ApplyQuotas, in).Get(ctx, nil); err != nil {
		c.fail(ctx, "record quotas in shadow mode", err)
		return
	}
	s.Phase, s.NeedsReconcile = PhaseShadow, false
	s.Failures, s.LastError, s.RetryAt = 0, "", time.Time{}
	s.LastSyncedAt = workflow.Now(ctx)
}

// shadow reports whether the last plan was made in shadow mode: deadlines of
// writes (deprovisioning, the trial's end) wait until the mode is live again.
func (s *CustomerState) shadow() bool { return s.Plan != nil && s.Plan.Settings.Shadow }

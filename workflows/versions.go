package workflows

// Change ids of workflow.GetVersion, one per change to the commands of a
// released workflow. Each call stays until no open run can still replay the
// older branch: workflows continue as new (customers at least every
// historyLimit events), and a new run records the newest version, so once a
// release has run long enough for every run started by the previous one to
// have continued or ended, and that older generation's recorded histories are
// retired from testdata/histories, the DefaultVersion branch (and then the
// call) may go. Generations are the prefixes of the recorded histories
// (v1, v2, v3: cmd/acronis-autotask/histories_test.go historyVersion).
const (
	// versionTwoWaySync adds the drift check (two-way sync) to the customer
	// loop. Added in v2; may be removed after v3 (v1 runs replay the default).
	versionTwoWaySync = "two-way-sync"
	// versionRecordCustomerState records each customer's phase and last error
	// in the store for lists and stats. Added in v2; may be removed after v3.
	versionRecordCustomerState = "record-customer-state"
	// versionContactFromSnapshot takes the primary contact from the contract
	// sync's snapshot instead of reading it from Autotask. Added in v3; may be
	// removed after v4 (v2 runs replay the default).
	versionContactFromSnapshot = "contact-from-snapshot"
	// versionKeepPrimaryContact reuses the contact read for an earlier
	// provisioning attempt. Added in v3; may be removed after v4.
	versionKeepPrimaryContact = "keep-primary-contact"
	// versionReplanOnConfig: a "replan" signal carrying a new configuration
	// generation makes the customer re-plan from its snapshot (issue 14).
	// Added in v4; may be removed after v5.
	versionReplanOnConfig = "replan-on-config"
	// versionMapPlan: mapping to an existing tenant checks it, plans the
	// mapping's writes and needs the plan's id when the plan warns (issue 14).
	// Added in v4; may be removed after v5.
	versionMapPlan = "map-existing-with-plan"
	// versionAdminLock: hold, release and deprovision-now take the lock map and
	// unmap take (issue 14). Added in v4; may be removed after v5.
	versionAdminLock = "admin-actions-lock"
	// versionBillingReport settles closed usage periods from Acronis billing
	// reports and marks current-month numbers as estimates (issue 18); the
	// default branch reports every period from live usage. Added in v4; may
	// be removed after v5 (the usage workflow continues as new after every
	// run, so a v4 release running for one day retires v3 runs).
	versionBillingReport = "usage-billing-report"
	// versionPrepaidOverage: settling a closed period also bills the usage of
	// prepaid items with overage above their contract units (issue 18 item
	// 3); the default branch settles pay-as-you-go usage only. Added in v5;
	// may be removed after v6 (the usage workflow continues as new after
	// every run, so a day of v5 retires v4 runs).
	versionPrepaidOverage = "usage-prepaid-overage"
	// versionShadowMode: provisioning in shadow mode (issue 14 item 5) records
	// the new tenant's quotas against its placeholder and leaves the customer
	// in the shadow phase instead of recording a mapping. Asked only when the
	// provisioning answers with a placeholder, which no earlier history does.
	// Added in v5; may be removed after v6.
	versionShadowMode = "shadow-mode"
	// versionClearJoined: a cleared alert leaves its ticket's active alerts and
	// auto-close closes a ticket only when no alert counted on it (its owner
	// or one that joined it) is still active; the last alert to clear closes
	// it and tells the owner's workflow (issue 14). Added in v5; may be
	// removed after v6.
	versionClearJoined = "auto-close-after-joined-clear"
)

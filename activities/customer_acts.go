package activities

// Activity method sets the customer workflow calls, grouped by the system each
// touches. The workflow refers to them through these nil pointers, which keeps
// activity names type-checked without a live dependency.
var (
	// AcronisActs names the Acronis activities for workflow code.
	AcronisActs *Acronis
	// AutotaskActs names the Autotask activities for workflow code.
	AutotaskActs *Autotask
	// ContractSyncActs names the contract sync activities for workflow code.
	ContractSyncActs *ContractSync
	// StoreActs names the store activities for workflow code.
	StoreActs *Store
)

// TenantSyncActs names the tenant sync activity for workflow code.
var TenantSyncActs *TenantSync

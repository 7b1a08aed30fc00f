package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/acronis"
	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// TenantQuota is one offering item's quota as Acronis has it now.
type TenantQuota struct {
	Key     string   `json:"key"` // entitlement.Item.Key(): name or name@infra
	Enabled bool     `json:"enabled"`
	Value   *float64 `json:"value,omitempty"` // nil: unlimited
}

// ReadQuotas reads a tenant's offering items, for two-way sync to notice
// quotas changed by hand in the Acronis console.
func (a *Acronis) ReadQuotas(ctx context.Context, tenantID string) ([]TenantQuota, error) {
	api, err := a.Client(ctx)
	if err != nil {
		return nil, err
	}
	items, err := api.ListOfferingItems(ctx, tenantID, acronis.AllEditions)
	if err != nil {
		return nil, classify("read offering items of "+tenantID, err)
	}
	out := make([]TenantQuota, 0, len(items))
	for _, it := range items {
		key := it.Name
		if it.InfraID != "" {
			key += "@" + it.InfraID
		}
		q := TenantQuota{Key: key, Enabled: it.Enabled()}
		if it.Quota != nil {
			q.Value = it.Quota.Value
		}
		out = append(out, q)
	}
	return out, nil
}

// SetUnitsInput asks for a contract service to carry exactly Units from today.
type SetUnitsInput struct {
	CompanyID  int64  `json:"companyId"`
	ContractID int64  `json:"contractId"`
	ServiceID  int64  `json:"serviceId"`
	Units      int64  `json:"units"`
	Reason     string `json:"reason"`
}

// SetUnitsResult says what was written: nothing when Autotask already had the units.
type SetUnitsResult struct {
	Before       int64 `json:"before"`
	UnitChange   int64 `json:"unitChange"`
	AdjustmentID int64 `json:"adjustmentId,omitempty"`
}

// SetContractUnits makes a contract service carry the given units from today
// with one ContractServiceAdjustment. It reads the current units first, so a
// retry after a lost answer finds the change made and writes nothing twice.
func (a *Autotask) SetContractUnits(ctx context.Context, in SetUnitsInput) (SetUnitsResult, error) {
	c, err := a.Client(ctx)
	if err != nil {
		return SetUnitsResult{}, err
	}
	today := autotask.Date(a.now())
	rows, err := autotask.QueryAll[autotask.ContractServiceUnit](ctx, c, autotask.NewQuery(
		autotask.Eq("contractID", in.ContractID), autotask.Eq("serviceID", in.ServiceID),
		autotask.Lte("startDate", today), autotask.Gte("endDate", today)))
	if err != nil {
		return SetUnitsResult{}, classify(fmt.Sprintf("read units of contract %d service %d", in.ContractID, in.ServiceID), err)
	}
	var cur int64
	for _, r := range rows {
		cur += int64(r.Units)
	}
	res := SetUnitsResult{Before: cur, UnitChange: in.Units - cur}
	if res.UnitChange == 0 {
		return res, nil
	}
	id, err := c.CreateContractServiceAdjustment(ctx, autotask.ContractServiceAdjustment{
		ContractID: int(in.ContractID), ServiceID: int(in.ServiceID), UnitChange: int(res.UnitChange), EffectiveDate: today,
	})
	if err != nil {
		return res, classify(fmt.Sprintf("adjust contract %d service %d", in.ContractID, in.ServiceID), err)
	}
	res.AdjustmentID = id
	if a.Audit != nil {
		cid := in.ContractID
		e := store.AuditEntry{Actor: "integration", Kind: "autotask.contract_service.adjust", System: "autotask", CompanyID: &in.CompanyID,
			ContractID: &cid, Target: fmt.Sprintf("contract:%d/service:%d", in.ContractID, in.ServiceID), Reason: in.Reason,
			Before: mustJSON(map[string]int64{"units": cur}), After: mustJSON(map[string]any{"units": in.Units, "adjustmentId": id, "effectiveDate": today.Format(time.DateOnly)})}
		if err := a.Audit.AppendAudit(ctx, e); err != nil {
			return res, classify("audit the unit adjustment", err)
		}
	}
	return res, nil
}

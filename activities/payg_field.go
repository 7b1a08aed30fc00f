package activities

import (
	"context"
	"fmt"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	"github.com/acronis-autotask/acronis-autotask/internal/store"
)

// ensurePAYGField creates the contract user-defined field "Acronis PAYG"
// (a Yes/No list; no value means prepaid) unless it exists, so admins can mark
// pay-as-you-go contracts (guide: "Billing"). Picklist codes differ per
// Autotask database, so udfType and dataType are resolved by label.
func (s *ContractSync) ensurePAYGField(ctx context.Context, c *autotask.Client) (bool, error) {
	existing, err := autotask.QueryAll[autotask.UserDefinedFieldDefinition](ctx, c, autotask.NewQuery(autotask.Eq("name", PAYGField)))
	if err != nil {
		return false, classify("look for the Acronis PAYG field", err)
	}
	fields, err := c.Fields(ctx, "UserDefinedFieldDefinitions")
	if err != nil {
		return false, classify("read user-defined field metadata", err)
	}
	contractType, err := autotask.PicklistCode(fields, "udfType", "Contract")
	if err != nil {
		return false, classify("find the Contract user-defined field type", err)
	}
	for _, d := range existing {
		if d.UDFType == contractType {
			return false, nil
		}
	}
	listType, err := autotask.PicklistCode(fields, "dataType", "List")
	if err != nil {
		return false, classify("find the List data type", err)
	}
	id, err := c.CreateUDFDefinition(ctx, autotask.UserDefinedFieldDefinition{
		Name: PAYGField, UDFType: contractType, DataType: listType, IsActive: autotask.Ptr(true), IsRequired: autotask.Ptr(false),
		Description: "Set by the Acronis integration: Yes for pay-as-you-go contracts (usage is reported into the contract), No or empty for prepaid (quotas from units).",
	})
	if err != nil {
		return false, classify("create the Acronis PAYG field", err)
	}
	for _, v := range []string{"Yes", "No"} {
		if _, err := c.CreateUDFListItem(ctx, id, autotask.UserDefinedFieldListItem{ValueForDisplay: v, ValueForExport: v, IsActive: autotask.Ptr(true)}); err != nil {
			return false, classify("add "+v+" to the Acronis PAYG field", err)
		}
	}
	if s.Audit != nil {
		e := store.AuditEntry{Actor: "integration", Kind: "autotask.udf.create", System: "autotask", Target: fmt.Sprintf("udf:%d", id),
			Reason: "contracts need the Acronis PAYG field to choose pay-as-you-go or prepaid billing", After: mustJSON(map[string]any{"name": PAYGField, "values": []string{"Yes", "No"}})}
		if err := s.Audit.AppendAudit(ctx, e); err != nil {
			return true, classify("audit the Acronis PAYG field", err)
		}
	}
	return true, nil
}

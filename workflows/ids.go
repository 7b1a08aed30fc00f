// Package workflows holds the durable workflows that model each customer's
// lifecycle and each alert's ticket. This file holds the names people see in
// the Temporal UI: workflow ids and search attributes.
package workflows

import (
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// Search attributes set on customer and alert workflows so operators can find
// them in the Temporal UI. All are Keyword: the dev server allows 10 of those.
var (
	// AttrAutotaskCompanyID is the Autotask company a workflow is about.
	AttrAutotaskCompanyID = temporal.NewSearchAttributeKeyKeyword("AutotaskCompanyID")
	// AttrAcronisTenantID is the Acronis customer tenant mapped to that company.
	AttrAcronisTenantID = temporal.NewSearchAttributeKeyKeyword("AcronisTenantID")
	// AttrCustomerState is the lifecycle phase (unmapped, active, deprovisioning, error …).
	AttrCustomerState = temporal.NewSearchAttributeKeyKeyword("CustomerState")
)

// SearchAttributes lists every key the namespace must know before a workflow
// upserts it; an unknown key makes every workflow task fail.
func SearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{AttrAutotaskCompanyID, AttrAcronisTenantID, AttrCustomerState}
}

const (
	customerPrefix = "customer-"
	alertPrefix    = "alert-"
)

// CustomerWorkflowID names the one workflow of an Autotask company.
func CustomerWorkflowID(companyID int64) string {
	return customerPrefix + strconv.FormatInt(companyID, 10)
}

// CompanyIDFromWorkflowID is the inverse of CustomerWorkflowID.
func CompanyIDFromWorkflowID(id string) (int64, error) {
	rest, ok := strings.CutPrefix(id, customerPrefix)
	if !ok {
		return 0, fmt.Errorf("workflow id %q is not a customer workflow id", id)
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("workflow id %q: company id: %w", id, err)
	}
	return n, nil
}

// AlertWorkflowID names the one workflow of an Acronis alert.
func AlertWorkflowID(alertID string) string { return alertPrefix + alertID }

// AlertIDFromWorkflowID is the inverse of AlertWorkflowID.
func AlertIDFromWorkflowID(id string) (string, error) {
	rest, ok := strings.CutPrefix(id, alertPrefix)
	if !ok || rest == "" {
		return "", fmt.Errorf("workflow id %q is not an alert workflow id", id)
	}
	return rest, nil
}

func searchAttributesFor(companyID int64) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(AttrAutotaskCompanyID.ValueSet(strconv.FormatInt(companyID, 10)))
}

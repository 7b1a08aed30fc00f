package workflows

import (
	"context"
	"fmt"
)

// ReportUsageNow asks the usage report workflow to run at once (admin
// "report now"), starting it if it is not running. The workflow id is fixed
// and the conflict policy USE_EXISTING, so this can never start a second
// reporter next to a running one.
func (c Customers) ReportUsageNow(ctx context.Context) error {
	_, err := c.Client.SignalWithStartWorkflow(ctx, UsageReportWorkflowID, SignalUsageRunNow, nil,
		UsageReportStartOptions(c.TaskQueue), UsageReportWorkflow, UsageReportState{})
	if err != nil {
		return fmt.Errorf("signal the usage report: %w", err)
	}
	return nil
}

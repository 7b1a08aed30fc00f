package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/acronis-autotask/acronis-autotask/activities"
)

func TestQueueSuffix_RoutesEachActivityToThePoolOfTheAPIItCalls(t *testing.T) {
	cases := []struct {
		name     string
		activity any
		want     string
	}{
		{"ProvisionTenant", activities.AcronisActs.ProvisionTenant, AcronisQueueSuffix},
		{"ApplyQuotas", activities.AcronisActs.ApplyQuotas, AcronisQueueSuffix},
		{"PrimaryContact", activities.AutotaskActs.PrimaryContact, AutotaskQueueSuffix},
		{"SetContractUnits", activities.AutotaskActs.SetContractUnits, AutotaskQueueSuffix},
		{"PlanCustomer", activities.StoreActs.PlanCustomer, ""},
		{"AlertCreateTicket", activities.AlertActs.AlertCreateTicket, AutotaskQueueSuffix},
		{"AlertCloseTicket", activities.AlertActs.AlertCloseTicket, AutotaskQueueSuffix},
		{"AlertDismiss", activities.AlertActs.AlertDismiss, AcronisQueueSuffix},
		{"AlertOpenOrJoin", activities.AlertActs.AlertOpenOrJoin, ""},
		{"SyncAlerts", activities.AlertActs.SyncAlerts, ""},
		{"CollectUsage", activities.UsageActs.CollectUsage, ""},
	}
	for _, c := range cases {
		if got := queueSuffix(c.activity); got != c.want {
			t.Errorf("%s: queue suffix %q, want %q", c.name, got, c.want)
		}
	}
}

func (s *CustomerSuite) TestActivitiesRunOnTheQueueOfTheirVendor() {
	var mu sync.Mutex
	queues := map[string]string{}
	s.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		mu.Lock()
		defer mu.Unlock()
		queues[info.ActivityType.Name] = info.TaskQueue
	})
	s.at(time.Minute, func() { s.signal(snapshotWith(s.env.Now(), 25, s.start.AddDate(1, 0, 0))) })
	s.run(time.Hour)
	base := "default-test-taskqueue"
	s.Equal(base+AcronisQueueSuffix, queues["ProvisionTenant"])
	s.Equal(base+AcronisQueueSuffix, queues["ApplyQuotas"])
	s.Equal(base, queues["PlanCustomer"])
}

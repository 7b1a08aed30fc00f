package testenv

import (
	"context"
	"testing"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/acronis-autotask/acronis-autotask/workflows"
)

func TestStartTemporal_RegistersProjectSearchAttributes(t *testing.T) {
	srv := StartTemporal(t, client.Options{}, workflows.SearchAttributes())
	resp, err := srv.Client().OperatorService().ListSearchAttributes(context.Background(),
		&operatorservice.ListSearchAttributesRequest{Namespace: TestNamespace})
	if err != nil {
		t.Fatalf("ListSearchAttributes: %v", err)
	}
	for _, k := range workflows.SearchAttributes() {
		if _, ok := resp.GetCustomAttributes()[k.GetName()]; !ok {
			t.Errorf("search attribute %s not registered; got %v", k.GetName(), resp.GetCustomAttributes())
		}
	}
}

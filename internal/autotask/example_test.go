package autotask_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/acronis-autotask/acronis-autotask/internal/autotask"
	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// Example connects to the demo sandbox the way the product connects to a real
// database (zone discovery from the user name) and lists the PAYG contracts.
func Example() {
	sb, _ := atsandbox.New(atsandbox.Options{Dataset: "demo"})
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()

	ctx := context.Background()
	c, err := autotask.New(ctx, autotask.Config{
		Username:        atsandbox.DefaultUsername,
		Secret:          atsandbox.DefaultSecret,
		IntegrationCode: atsandbox.DefaultIntegrationCode,
		ZoneLookupURL:   srv.URL + "/atservicesrest/v1.0/zoneInformation",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := autotask.NewQuery(autotask.Eq("Acronis PAYG", "Yes").OnUDF()).Fields("contractName", "companyID")
	err = autotask.QueryPages(ctx, c, q, func(page []autotask.Contract) error {
		for _, k := range page {
			fmt.Println(k.CompanyID, k.ContractName)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 102 Fabrikam Inc - Acronis Cyber Protect
	// 104 Tailspin Toys - Acronis Cyber Protect
}

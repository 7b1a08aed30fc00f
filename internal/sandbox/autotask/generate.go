package autotask

import (
	"fmt"
	"math/rand/v2"
	"time"

	client "github.com/acronis-autotask/acronis-autotask/internal/autotask"
)

// GeneratedCompanyID is the id of the i-th generated company (0-based).
func GeneratedCompanyID(i int) int64 { return 1001 + int64(i) }

// seedGenerated builds n companies deterministically from seed: each has a
// primary contact and, for 95% of them, one active Recurring Service contract
// (about a quarter PAYG) with one to three Acronis services.
func (s *Sandbox) seedGenerated(n int, seed uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seedCatalogLocked(true)
	rng := rand.New(rand.NewPCG(seed, seed^0xa0761d6478bd642f))
	today := s.today()
	customer := int(s.picks.code("Companies", "companyType", "Customer"))
	services := []int64{ServiceWorkstations, ServiceServers, ServiceVirtualMachines, ServiceM365Seats, ServiceBackupStorage, ServiceAdvSecurityWS}
	for i := range n {
		id := GeneratedCompanyID(i)
		name := fmt.Sprintf("Generated Company %05d", i+1)
		if _, err := s.addLocked("Companies", client.Company{ID: id, CompanyName: name, CompanyNumber: fmt.Sprintf("GEN%05d", i+1),
			CompanyType: customer, IsActive: client.Ptr(true), Phone: fmt.Sprintf("+1 555 %07d", i)}); err != nil {
			return err
		}
		contactID := 100000 + int64(i)
		if _, err := s.addLocked("Contacts", client.Contact{ID: contactID, CompanyID: int(id), FirstName: "Admin", LastName: fmt.Sprintf("%05d", i+1),
			EmailAddress: fmt.Sprintf("admin@company%05d.example", i+1), PrimaryContact: client.Ptr(true), IsActive: 1}); err != nil {
			return err
		}
		roll := rng.IntN(100)
		if roll < 5 {
			continue
		}
		payg := "No"
		if roll >= 75 {
			payg = "Yes"
		}
		units := map[int64]int{}
		for range 1 + rng.IntN(3) {
			svc := services[rng.IntN(len(services))]
			if payg == "Yes" {
				units[svc] = 0
			} else {
				units[svc] = 1 + rng.IntN(50)
			}
		}
		start := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -rng.IntN(12), 0)
		if err := s.addContractLocked(0, id, contactID, name+" - Acronis Cyber Protect", start, start.AddDate(2, 0, -1), payg, units, 0); err != nil {
			return fmt.Errorf("contract of %s: %w", name, err)
		}
	}
	return nil
}

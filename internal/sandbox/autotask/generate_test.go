package autotask_test

import (
	"runtime"
	"testing"
	"time"

	atsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/autotask"
)

// BenchmarkGenerate10k measures building the 10,000-company dataset.
func BenchmarkGenerate10k(b *testing.B) {
	for range b.N {
		if _, err := atsandbox.New(atsandbox.Options{Dataset: "generated", Companies: 10000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGenerated_TenThousandCompaniesFitInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 10,000 companies")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	sb, err := atsandbox.New(atsandbox.Options{Dataset: "generated", Companies: 10000, Seed: 1, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("10,000 companies: %s, %.1f MiB live heap, %d unit rows", took, float64(heap)/(1<<20), sb.Count("ContractServiceUnits"))
	if got := sb.Count("Companies"); got != 10001 {
		t.Errorf("companies = %d, want 10001 (with the MSP)", got)
	}
	if heap > 64<<20 {
		t.Errorf("live heap %.1f MiB, want under 64 MiB", float64(heap)/(1<<20))
	}
}

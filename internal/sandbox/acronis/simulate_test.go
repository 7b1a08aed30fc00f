package acronis

import "testing"

func TestSimulatedUsage_RepeatableWithinQuotaAndStorageInGiB(t *testing.T) {
	ws := catItem{name: "pw_base_workstations", unit: "quantity"}
	a, b := simulatedUsage("t1", ws, nil), simulatedUsage("t1", ws, nil)
	if a != b || a < 3 || a > 12 {
		t.Fatalf("usage = %v then %v; want the same value in 3..12", a, b)
	}
	two := 2.0
	if got := simulatedUsage("t1", ws, &two); got > 2 {
		t.Fatalf("usage %v exceeds a quota of 2", got)
	}
	st := catItem{name: "pw_base_storage", unit: "bytes", infraID: "x"}
	if got := simulatedUsage("t1", st, nil); got < 20*(1<<30) || got != float64(int64(got)/(1<<30))*(1<<30) {
		t.Fatalf("storage usage = %v; want whole GiB, at least 20", got)
	}
}

package acronis

import "testing"

func TestSimulatedUsage_RepeatableWithinQuotaAndStorageInGiB(t *testing.T) {
	ws := catItem{name: "pw_base_workstations", unit: "quantity"}
	a, b := simulatedUsage("t1", ws, nil, nil), simulatedUsage("t1", ws, nil, nil)
	if a != b || a < 3 || a > 12 {
		t.Fatalf("usage = %v then %v; want the same value in 3..12", a, b)
	}
	two, zero, one := 2.0, 0.0, 1.0
	if got := simulatedUsage("t1", ws, &two, &zero); got > 2 {
		t.Fatalf("usage %v exceeds a hard quota of 2", got)
	}
	if got := simulatedUsage("t1", ws, &two, &one); got != 3 {
		t.Fatalf("usage %v with quota 2 and overage 1; want it stopped at 3", got)
	}
	if got := simulatedUsage("t1", ws, &two, nil); got != a {
		t.Fatalf("usage %v under a soft quota of 2; want %v, past the quota", got, a)
	}
	st := catItem{name: "pw_base_storage", unit: "bytes", infraID: "x"}
	if got := simulatedUsage("t1", st, nil, nil); got < 20*(1<<30) || got != float64(int64(got)/(1<<30))*(1<<30) {
		t.Fatalf("storage usage = %v; want whole GiB, at least 20", got)
	}
}

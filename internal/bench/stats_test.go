package bench

import (
	"testing"
	"time"
)

func secs(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, s := range v {
		out[i] = time.Duration(s) * time.Second
	}
	return out
}

func TestPercentile_NearestRank(t *testing.T) {
	ds := secs(5, 1, 4, 2, 3, 10, 9, 8, 7, 6) // 1..10 unsorted
	for _, tc := range []struct {
		p    float64
		want int
	}{{50, 5}, {90, 9}, {95, 10}, {99, 10}, {100, 10}, {10, 1}, {1, 1}} {
		if got := Percentile(ds, tc.p); got != time.Duration(tc.want)*time.Second {
			t.Errorf("p%v = %v, want %ds", tc.p, got, tc.want)
		}
	}
	if ds[0] != 5*time.Second {
		t.Error("Percentile sorted its input in place")
	}
	if Percentile(nil, 99) != 0 {
		t.Error("no samples: want 0")
	}
	if got := Percentile(secs(7), 50); got != 7*time.Second {
		t.Errorf("one sample: %v", got)
	}
}

func TestPercentile_HundredSamplesP99IsSecondLargest(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if got := Percentile(ds, 99); got != 99*time.Millisecond {
		t.Fatalf("p99 of 1..100 ms = %v, want 99ms", got)
	}
	s := Summarize(ds)
	if s.Count != 100 || s.P50 != 0.05 || s.P95 != 0.095 || s.Max != 0.1 {
		t.Fatalf("summary %+v", s)
	}
}

func TestPerHourAndShare(t *testing.T) {
	if got := PerHour(50, 3*time.Minute); got != 1000 {
		t.Errorf("50 in 3 min = %v/h, want 1000", got)
	}
	if got := PerHour(10, 0); got != 0 {
		t.Errorf("empty window: %v", got)
	}
	if got := Share(500, 10000); got != 5 {
		t.Errorf("share %v, want 5", got)
	}
	if Share(1, 0) != 0 {
		t.Error("share of 0")
	}
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tbench\nVmPeak:\t 2000000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t12\n"
	rss, peak := ParseProcStatus(status)
	if rss != 100<<20 || peak != 200<<20 {
		t.Fatalf("rss %d peak %d", rss, peak)
	}
	if r, p := ParseProcStatus("Name: x\n"); r != 0 || p != 0 {
		t.Fatal("missing lines must be 0")
	}
}

func TestTimeToFraction(t *testing.T) {
	start := time.Unix(1000, 0)
	var at []time.Time
	for i := 10; i >= 1; i-- {
		at = append(at, start.Add(time.Duration(i)*time.Second))
	}
	if d, ok := TimeToFraction(start, at, 10, 0.5); !ok || d != 5*time.Second {
		t.Errorf("50%%: %v %v", d, ok)
	}
	if d, ok := TimeToFraction(start, at, 10, 1); !ok || d != 10*time.Second {
		t.Errorf("100%%: %v %v", d, ok)
	}
	if _, ok := TimeToFraction(start, at, 20, 1); ok {
		t.Error("10 of 20 is not 100%")
	}
	if d, ok := TimeToFraction(start, at, 20, 0.5); !ok || d != 10*time.Second {
		t.Errorf("10 of 20 is 50%%: %v %v", d, ok)
	}
}

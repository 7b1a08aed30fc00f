package bench

import (
	"bufio"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of ds by the
// nearest-rank method: the smallest value with at least p% of the samples at
// or below it. It is 0 for no samples; ds is not modified.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Latencies summarises a set of latencies in seconds.
type Latencies struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Seconds"`
	P95   float64 `json:"p95Seconds"`
	P99   float64 `json:"p99Seconds"`
	Max   float64 `json:"maxSeconds"`
}

// Summarize computes the percentiles of ds.
func Summarize(ds []time.Duration) Latencies {
	return Latencies{
		Count: len(ds),
		P50:   Percentile(ds, 50).Seconds(),
		P95:   Percentile(ds, 95).Seconds(),
		P99:   Percentile(ds, 99).Seconds(),
		Max:   Percentile(ds, 100).Seconds(),
	}
}

// PerHour extrapolates count events seen over window to a rate per hour; 0
// for an empty window.
func PerHour(count int64, window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return float64(count) * float64(time.Hour) / float64(window)
}

// Share is part/whole in percent; 0 when whole is 0.
func Share(part, whole float64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * part / whole
}

// ParseProcStatus reads the VmRSS and VmHWM (peak RSS) lines of a
// /proc/<pid>/status file, in bytes; missing lines are 0.
func ParseProcStatus(status string) (rss, peak int64) {
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			n *= 1024
		}
		if name == "VmRSS" {
			rss = n
		} else {
			peak = n
		}
	}
	return rss, peak
}

// TimeToFraction returns how long after start a fraction (0 < f ≤ 1) of want
// events had happened, given the times they happened at; false when fewer
// than that happened.
func TimeToFraction(start time.Time, at []time.Time, want int, f float64) (time.Duration, bool) {
	need := int(math.Ceil(f * float64(want)))
	if need < 1 {
		need = 1
	}
	if len(at) < need {
		return 0, false
	}
	s := slices.Clone(at)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	return s[need-1].Sub(start), true
}

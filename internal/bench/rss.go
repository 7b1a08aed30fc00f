package bench

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// rssSampler records the worker's resident set size once a period: the
// worker's own process when it runs apart (SetPID), else this process, which
// then also holds the server and both sandboxes. This process is sampled too.
type rssSampler struct {
	mu       sync.Mutex
	pid      int // 0: this process
	peak     int64
	last     int64
	selfPeak int64
	quit     chan struct{}
	ended    chan struct{}
}

func readRSS(pid int) (rss, hwm int64) {
	path := "/proc/self/status"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	return ParseProcStatus(string(b))
}

// SetPID makes the sampler follow the worker's process.
func (r *rssSampler) SetPID(pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pid == os.Getpid() {
		pid = 0
	}
	r.pid, r.peak, r.last = pid, 0, 0
}

func (r *rssSampler) start(every time.Duration) {
	r.quit, r.ended = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.ended)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			r.sample()
			select {
			case <-t.C:
			case <-r.quit:
				return
			}
		}
	}()
}

func (r *rssSampler) sample() {
	r.mu.Lock()
	defer r.mu.Unlock()
	self, _ := readRSS(0)
	r.selfPeak = max(r.selfPeak, self)
	rss, hwm := readRSS(r.pid)
	if rss == 0 {
		return // the worker's process has exited: keep its last sample
	}
	r.last = rss
	r.peak = max(r.peak, rss, hwm)
}

func (r *rssSampler) current() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *rssSampler) stop() {
	if r.quit != nil {
		select {
		case <-r.quit:
		default:
			close(r.quit)
			<-r.ended
		}
	}
}

func (r *rssSampler) result() Memory {
	r.stop()
	r.sample()
	r.mu.Lock()
	defer r.mu.Unlock()
	m := Memory{PeakRSSBytes: r.peak, EndRSSBytes: r.last, Process: "worker process (acronis-autotask worker)"}
	_, selfHWM := readRSS(0)
	m.BenchPeakRSSBytes = max(r.selfPeak, selfHWM)
	if r.pid == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.Process = "bench process: worker, server and both sandboxes"
		m.HeapInuseEndBytes, m.Goroutines = int64(ms.HeapInuse), runtime.NumGoroutine()
	}
	return m
}

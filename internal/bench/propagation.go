package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// change is one propagation sample.
type change struct {
	comp     *company
	service  int64
	item     string
	want     int
	silent   bool
	at       time.Time
	latency  time.Duration
	done     bool
	applyErr error
}

// propagation changes contract units of random prepaid companies and waits
// for each Acronis quota to match.
func (e *env) propagation(ctx context.Context) error {
	o := e.opts
	if o.Changes == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(o.DataSeed, 0x5eed))
	var candidates []*company
	for _, c := range e.comps {
		if c.payg || c.tenantID == "" {
			continue
		}
		for svc := range quotaItems {
			if _, ok := c.units[svc]; ok {
				candidates = append(candidates, c)
				break
			}
		}
	}
	rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	n := min(o.Changes, len(candidates))
	changes := make([]*change, n)
	for i := range n {
		c := candidates[i]
		var svcs []int64
		for svc := range quotaItems {
			if _, ok := c.units[svc]; ok {
				svcs = append(svcs, svc)
			}
		}
		slices.Sort(svcs)
		svc := svcs[rng.IntN(len(svcs))]
		changes[i] = &change{comp: c, service: svc, item: quotaItems[svc], want: c.units[svc] + 1 + rng.IntN(5), silent: i%2 == 1}
	}
	e.progress("propagation: changing units of %d prepaid companies over %s (half adjustments, half silent in place); timeout %s",
		n, o.ChangeSpread, o.PropagationTimeout)
	before := e.counts()
	t0 := time.Now()
	var applied atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, ch := range changes {
			due := t0.Add(time.Duration(int64(o.ChangeSpread) * int64(i) / int64(max(n, 1))))
			if sleep(ctx, time.Until(due)) != nil {
				return
			}
			ch.at = time.Now()
			if ch.silent {
				ch.applyErr = e.at.SetUnitsSilently(ch.comp.contractID, ch.service, ch.want)
			} else {
				today := time.Now().UTC().Truncate(24 * time.Hour)
				ch.applyErr = e.at.AdjustUnits(ch.comp.contractID, ch.service, ch.want-ch.comp.units[ch.service], today)
			}
			applied.Store(int64(i + 1))
		}
	}()
	deadline := t0.Add(o.ChangeSpread + o.PropagationTimeout)
	for {
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			wg.Wait()
			return err
		}
		now := time.Now()
		open := 0
		for _, ch := range changes[:applied.Load()] {
			if ch.done || ch.applyErr != nil {
				continue
			}
			it, err := e.ac.OfferingItem(ch.comp.tenantID, ch.item, "")
			if err == nil && it.Quota != nil && *it.Quota == float64(ch.want) {
				ch.done, ch.latency = true, now.Sub(ch.at)
				ch.comp.units[ch.service] = ch.want
				continue
			}
			open++
		}
		if applied.Load() == int64(n) && open == 0 {
			break
		}
		if now.After(deadline) {
			break
		}
	}
	wg.Wait()
	after := e.counts()
	p := &Propagation{Requested: n, WindowSeconds: round1(time.Since(t0).Seconds()),
		AutotaskRequests: after.at - before.at, AcronisRequests: after.ac - before.ac}
	var all, adj, sil []time.Duration
	for _, ch := range changes {
		switch {
		case ch.applyErr != nil:
			p.ApplyErrors = append(p.ApplyErrors, fmt.Sprintf("company %d: %v", ch.comp.id, ch.applyErr))
		case !ch.done:
			p.TimedOut++
			if ch.silent {
				p.TimedOutSilent++
			}
		default:
			all = append(all, ch.latency)
			if ch.silent {
				sil = append(sil, ch.latency)
			} else {
				adj = append(adj, ch.latency)
			}
		}
	}
	p.All, p.Adjustments, p.Silent = round(Summarize(all)), round(Summarize(adj)), round(Summarize(sil))
	e.res.Propagation = p
	e.progress("propagation: %d/%d matched; all p50 %.1fs p95 %.1fs p99 %.1fs; adjustments p99 %.1fs; silent p99 %.1fs; %d timed out",
		p.All.Count, n, p.All.P50, p.All.P95, p.All.P99, p.Adjustments.P99, p.Silent.P99, p.TimedOut)
	return nil
}

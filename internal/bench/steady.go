package bench

import (
	"context"
	"fmt"
	"time"
)

// settle waits until the Acronis traffic of provisioning (quotas, users,
// activation emails) has died down to the periodic polls (at most 2 requests
// in 30 s), at most SettleMax.
// quietAfterData is how long after the data set was generated the steady
// state starts: longer than the contract sync's overlap (5 minutes).
const quietAfterData = 5*time.Minute + 30*time.Second

func (e *env) settle(ctx context.Context) error {
	start := time.Now()
	type point struct {
		at time.Time
		n  int64
	}
	window := []point{{start, e.ac.RequestLog().Total()}}
	// "Nothing changing" includes Autotask: the contract sync re-reads contracts
	// modified in its last 5-minute overlap, which the generated data all were.
	for time.Since(e.dataAt) < quietAfterData {
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	for time.Since(start) < e.opts.SettleMax {
		if err := sleep(ctx, 5*time.Second); err != nil {
			return err
		}
		now := point{time.Now(), e.ac.RequestLog().Total()}
		window = append(window, now)
		for len(window) > 1 && now.at.Sub(window[1].at) >= 30*time.Second {
			window = window[1:]
		}
		if now.at.Sub(window[0].at) >= 30*time.Second && now.n-window[0].n <= 2 {
			break
		}
	}
	e.res.SettleSeconds = round1(time.Since(start).Seconds())
	e.progress("settled after %.0fs (Autotask data unchanged for %s, then Acronis at most 2 requests in 30s, or %s passed)", time.Since(start).Seconds(), quietAfterData, e.opts.SettleMax)
	return nil
}

// steady counts requests over the window with nothing changing.
func (e *env) steady(ctx context.Context) error {
	s, err := e.measureSteady(ctx, "steady state")
	e.res.Steady = s
	return err
}

// steadyWithTickets repeats the steady-state window once the alert tickets
// are open: the alert sync checks open tickets for completion in Autotask.
func (e *env) steadyWithTickets(ctx context.Context) error {
	if !e.res.Alerts.Measured || e.res.Alerts.Latency.Count == 0 {
		return nil
	}
	s, err := e.measureSteady(ctx, fmt.Sprintf("steady state with %d open alert tickets", e.res.Alerts.Latency.Count))
	if s != nil {
		s.OpenAlertTickets = e.res.Alerts.Latency.Count
	}
	e.res.SteadyWithTickets = s
	return err
}

func (e *env) measureSteady(ctx context.Context, what string) (*Steady, error) {
	w := e.opts.SteadyWindow
	e.progress("%s: counting requests for %s with nothing changing", what, w)
	before, t0 := e.counts(), time.Now()
	if err := sleep(ctx, w); err != nil {
		return nil, err
	}
	after, elapsed := e.counts(), time.Since(t0)
	s := &Steady{WindowSeconds: round1(elapsed.Seconds()), AutotaskRequests: after.at - before.at, AcronisRequests: after.ac - before.ac,
		AutotaskThrottled: after.atThrottled - before.atThrottled}
	s.AutotaskPerHour = round1(PerHour(s.AutotaskRequests, elapsed))
	s.AcronisPerHour = round1(PerHour(s.AcronisRequests, elapsed))
	s.BudgetPercent = round2(Share(s.AutotaskPerHour, AutotaskHourlyLimit))
	s.AutotaskEndpoints = top(diff(after.atEndpoints, before.atEndpoints), 12)
	s.AcronisEndpoints = top(diff(after.acEndpoints, before.acEndpoints), 12)
	e.progress("%s: Autotask %d requests in %.0fs = %.0f/h (%.2f%% of %d/h), Acronis %.0f/h",
		what, s.AutotaskRequests, elapsed.Seconds(), s.AutotaskPerHour, s.BudgetPercent, AutotaskHourlyLimit, s.AcronisPerHour)
	return s, nil
}

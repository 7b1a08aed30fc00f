package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/acronis-autotask/acronis-autotask/internal/sandbox"
	acsandbox "github.com/acronis-autotask/acronis-autotask/internal/sandbox/acronis"
)

// counts is a snapshot of both sandboxes' traffic.
type counts struct {
	at, ac                 int64
	atThrottled, acThrottl int64
	atEndpoints            []sandbox.EndpointCount
	acEndpoints            []sandbox.EndpointCount
}

// counts reads both request logs. Autotask requests are what its request log
// saw (everything the rolling-hour limit counts); the thread-limit 429s are
// answered before the log and show only in the throttled count.
func (e *env) counts() counts {
	return counts{
		at: e.at.RequestLog().Total(), ac: e.ac.RequestLog().Total(),
		atThrottled: e.atStatus.count(http.StatusTooManyRequests), acThrottl: e.acStatus.count(http.StatusTooManyRequests),
		atEndpoints: e.at.RequestLog().Snapshot(), acEndpoints: e.ac.RequestLog().Snapshot(),
	}
}

// cold waits until every company with a contract is provisioned: its tenant
// exists, has the integration's admin user and Cyber Protection, and (prepaid)
// a standard item's quota equals the contract units. The time each tenant
// appeared is recorded too: a tenant alone is not a usable customer.
func (e *env) cold(ctx context.Context, start time.Time, done <-chan error) bool {
	o := e.opts
	c := &e.res.Cold
	c.Expected = len(e.comps)
	e.progress("cold provisioning: waiting for %d customers to be provisioned (timeout %s)", c.Expected, o.ColdTimeout)
	var tenantAt, readyAt []time.Time
	noTenant := slices.Clone(e.comps)
	var notReady []*company
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastReport := time.Now()
	deadline := start.Add(o.ColdTimeout)
	for {
		select {
		case <-ctx.Done():
			c.Note = fmt.Sprintf("interrupted with %d of %d tenants, %d provisioned", len(tenantAt), c.Expected, len(readyAt))
			e.finishCold(start, time.Now(), tenantAt, readyAt, e.counts())
			return false
		case err := <-done:
			c.Note = fmt.Sprintf("app exited: %v", err)
			return false
		case now := <-tick.C:
			keep := noTenant[:0]
			for _, comp := range noTenant {
				if t, ok := e.ac.TenantByName(comp.name); ok {
					comp.tenantID = t.ID
					tenantAt = append(tenantAt, now)
					notReady = append(notReady, comp)
					continue
				}
				keep = append(keep, comp)
			}
			noTenant = keep
			still := notReady[:0]
			for _, comp := range notReady {
				if e.provisioned(comp) {
					readyAt = append(readyAt, now)
					continue
				}
				still = append(still, comp)
			}
			notReady = still
			complete := len(noTenant) == 0 && len(notReady) == 0
			if len(noTenant) == 0 && c.TenantsWallSeconds == 0 {
				c.TenantsWallSeconds = round1(now.Sub(start).Seconds())
			}
			n := e.counts()
			if now.Sub(lastReport) >= 30*time.Second || complete {
				lastReport = now
				elapsed := now.Sub(start)
				c.Timeline = append(c.Timeline, Sample{Seconds: round1(elapsed.Seconds()), Tenants: len(tenantAt), Provisioned: len(readyAt),
					AutotaskRequests: n.at, AcronisRequests: n.ac, AutotaskThrottled: n.atThrottled, RSSBytes: e.rss.current()})
				e.progress("  %5.0fs: %d/%d tenants, %d provisioned; Autotask %d requests (%d throttled, %d in the rolling hour), Acronis %d",
					elapsed.Seconds(), len(tenantAt), c.Expected, len(readyAt), n.at, n.atThrottled, e.at.RequestsThisHour(), n.ac)
			}
			if complete {
				e.finishCold(start, now, tenantAt, readyAt, n)
				c.Complete = true
				return true
			}
			if now.After(deadline) {
				c.Note = fmt.Sprintf("timed out after %s with %d of %d tenants, %d provisioned", o.ColdTimeout, len(tenantAt), c.Expected, len(readyAt))
				e.finishCold(start, now, tenantAt, readyAt, n)
				return false
			}
		}
	}
}

// provisioned reports whether a company's tenant is usable: admin user,
// Cyber Protection, and for prepaid contracts the quota of a standard item.
func (e *env) provisioned(c *company) bool {
	t, ok := e.ac.Tenant(c.tenantID)
	if !ok || t.Users == 0 || !slices.Contains(t.Applications, acsandbox.CyberProtectionAppID) {
		return false
	}
	if c.payg {
		return true
	}
	for _, svc := range catalogServices {
		item, ok := quotaItems[svc]
		units, has := c.units[svc]
		if !ok || !has {
			continue
		}
		it, err := e.ac.OfferingItem(c.tenantID, item, "")
		return err == nil && it.Quota != nil && *it.Quota == float64(units)
	}
	return true // no standard service: the admin user is the last step
}

func (e *env) finishCold(start, now time.Time, tenantAt, readyAt []time.Time, n counts) {
	c := &e.res.Cold
	wall := now.Sub(start)
	c.Tenants, c.Provisioned = len(tenantAt), len(readyAt)
	c.WallSeconds = round1(wall.Seconds())
	if d, ok := TimeToFraction(start, readyAt, c.Expected, 0.5); ok {
		c.T50Seconds = round1(d.Seconds())
	}
	if d, ok := TimeToFraction(start, readyAt, c.Expected, 0.9); ok {
		c.T90Seconds = round1(d.Seconds())
	}
	c.AutotaskRequests, c.AcronisRequests = n.at, n.ac
	c.AutotaskThrottled, c.AcronisThrottled = n.atThrottled, n.acThrottl
	c.AutotaskServerErrors, c.AcronisServerErrors = e.atStatus.serverErrors(), e.acStatus.serverErrors()
	c.AutotaskPerHour = round1(PerHour(n.at, wall))
	c.AcronisPerHour = round1(PerHour(n.ac, wall))
	c.TenantsPerMinute = round1(float64(len(readyAt)) / wall.Minutes())
	c.AutotaskEndpoints = top(n.atEndpoints, 12)
	c.AcronisEndpoints = top(n.acEndpoints, 12)
	if c.Provisioned > 0 {
		c.AutotaskPerTenant = round1(float64(n.at) / float64(c.Provisioned))
		c.AcronisPerTenant = round1(float64(n.ac) / float64(c.Provisioned))
	}
	e.progress("cold provisioning: %d/%d tenants (all by %.0fs), %d provisioned in %.0fs; Autotask %d requests (%d throttled), Acronis %d",
		c.Tenants, c.Expected, c.TenantsWallSeconds, c.Provisioned, wall.Seconds(), n.at, n.atThrottled, n.ac)
}

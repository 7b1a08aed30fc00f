package autotask

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// ZoneInfo is Autotask's zoneInformation answer: which data center serves a user.
type ZoneInfo struct {
	ZoneName string `json:"zoneName"`
	// URL is the zone's REST base, e.g. "https://webservices3.autotask.net/atservicesrest/".
	URL    string `json:"url"`
	WebURL string `json:"webUrl"`
	// CI identifies the Autotask database.
	CI int `json:"ci"`
}

// LookupZone asks cfg.ZoneLookupURL which zone serves user. The lookup needs
// no credentials and is exempt from thread limits, so it bypasses the budget.
func (c *Client) LookupZone(ctx context.Context, user string) (ZoneInfo, error) {
	u, err := url.Parse(c.cfg.ZoneLookupURL)
	if err != nil {
		return ZoneInfo{}, fmt.Errorf("autotask: invalid zone lookup URL: %w", err)
	}
	q := u.Query()
	q.Set("user", user)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return ZoneInfo{}, fmt.Errorf("autotask: build zone lookup: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	c.stats.requests.Add(1)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return ZoneInfo{}, &Error{Kind: KindServer, Method: http.MethodGet, Path: u.Path, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return ZoneInfo{}, &Error{Kind: KindServer, Method: http.MethodGet, Path: u.Path, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		e := classify(http.MethodGet, u.Path, resp.StatusCode, resp.Header, body)
		if resp.StatusCode == http.StatusInternalServerError && e.Kind == KindInvalid {
			// Autotask answers an unknown or blank user name with 500.
			e.Kind = KindUnauthorized
		}
		return ZoneInfo{}, e
	}
	var z ZoneInfo
	if err := json.Unmarshal(body, &z); err != nil {
		return ZoneInfo{}, &Error{Kind: KindServer, Status: resp.StatusCode, Method: http.MethodGet, Path: u.Path, Err: fmt.Errorf("decode zone: %w", err)}
	}
	if z.URL == "" {
		return ZoneInfo{}, &Error{Kind: KindUnauthorized, Status: resp.StatusCode, Method: http.MethodGet, Path: u.Path, Messages: []string{"zone lookup returned no URL"}}
	}
	return z, nil
}

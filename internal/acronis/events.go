package acronis

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// EventManagerPath is the Event Manager API v1 base below the data-center URL.
const EventManagerPath = "/api/event_manager/v1"

// Event is an Event Manager event, e.g. a tenant created, updated or disabled
// (type cti.a.p.em.event.v1.0~a.p.tenant.<what>.v1.0).
type Event struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	TenantID   string `json:"tenant_id"`
	Subject    string `json:"subject"`
	Source     string `json:"source"`
	Time       Time   `json:"time"`
	IngestTime Time   `json:"ingest_time"`
	Sequence   int64  `json:"sequence"`
	Previous   int64  `json:"previous"`
}

// EventBatch is one answer of GET /events: the events and the offset to
// commit or pass next.
type EventBatch struct {
	Events []Event `json:"events"`
	Offset int64   `json:"offset"`
}

// PollEvents long-polls a subscription for events after offset. No new events
// within wait is answered 202 by Acronis and returned as an empty batch with
// the same offset.
func (c *Client) PollEvents(ctx context.Context, subscriptionID, consumerID string, offset int64, wait time.Duration) (EventBatch, error) {
	q := url.Values{"subscription_id": {subscriptionID}, "consumer_id": {consumerID}, "offset": {strconv.FormatInt(offset, 10)}}
	if wait > 0 {
		q.Set("timeout", "PT"+strconv.Itoa(int(wait.Seconds()))+"S")
	}
	var b EventBatch
	status, err := c.doStatus(ctx, call{method: http.MethodGet, path: EventManagerPath + "/events", query: q, idempotent: true}, &b)
	if err != nil {
		return b, err
	}
	if status == http.StatusAccepted {
		return EventBatch{Offset: offset}, nil
	}
	return b, nil
}

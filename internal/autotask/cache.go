package autotask

import (
	"container/list"
	"sync"
	"time"
)

// readCache keeps recent answers of the Console view, so repeated browsing
// through the REST API costs Autotask one request per answer and TTL. It is
// bounded in entries and in the size of an answer it keeps.
type readCache struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recent first
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key  string
	body []byte
	at   time.Time
}

// maxCachedAnswer is the largest answer kept (a 500-record page is far below).
const maxCachedAnswer = 1 << 20

func newReadCache(ttl time.Duration, entries int) *readCache {
	return &readCache{ttl: ttl, max: entries, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *readCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if time.Since(e.at) > c.ttl {
		c.order.Remove(el)
		delete(c.byKey, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.body, true
}

func (c *readCache) put(key string, body []byte) {
	if len(body) > maxCachedAnswer {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.Remove(el)
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, body: body, at: time.Now()})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
}

package picklist

import (
	"context"
	"sync"
	"time"
)

// Cache keeps each list for a TTL, so checking a settings save or drawing a
// console page costs the vendor one read per list and TTL, and remembers a
// failed read of a vendor for a short while, so a vendor that is down does not
// hold every page up once per list. A refresh always reads.
type Cache struct {
	ttl, holdOff time.Duration

	mu     sync.Mutex
	lists  map[Name]List
	failed map[string]failure // by vendor
}

type failure struct {
	err error
	at  time.Time
}

// DefaultTTL is how long a list is kept: picklists change rarely, and an
// admin who just changed one refreshes.
const DefaultTTL = 5 * time.Minute

// NewCache keeps lists for ttl (DefaultTTL when not positive) and failures for
// a tenth of it, at most 30 s.
func NewCache(ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Cache{ttl: ttl, holdOff: min(ttl/10, 30*time.Second), lists: map[Name]List{}, failed: map[string]failure{}}
}

// Get returns the list called name, reading it with fetch when it is not kept
// or refresh is set; cached reports that no read was made.
func (c *Cache) Get(ctx context.Context, name Name, refresh bool, fetch func(context.Context) (List, error)) (l List, cached bool, err error) {
	if !refresh {
		c.mu.Lock()
		l, ok := c.lists[name]
		f, failed := c.failed[vendorOf(name)]
		c.mu.Unlock()
		if ok && time.Since(l.FetchedAt) < c.ttl {
			return l, true, nil
		}
		if failed && time.Since(f.at) < c.holdOff {
			return List{}, true, f.err
		}
	}
	l, err = fetch(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failed[vendorOf(name)] = failure{err, time.Now()}
		return List{}, false, err
	}
	delete(c.failed, vendorOf(name))
	c.lists[name] = l
	return l, false, nil
}

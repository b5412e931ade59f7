package auth

import (
	"context"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
)

// ttlCache is a small map of values that expire. Hub processes sharing a
// database cannot invalidate each other's caches, so entries live briefly.
type ttlCache[V any] struct {
	mu      sync.RWMutex
	ttl     time.Duration
	max     int
	entries map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration, max int) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, max: max, entries: make(map[string]ttlEntry[V])}
}

func (c *ttlCache[V]) get(k string) (V, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || time.Now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(k string, v V) {
	c.mu.Lock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[k] = ttlEntry[V]{v: v, expires: time.Now().Add(c.ttl)}
	c.mu.Unlock()
}

func (c *ttlCache[V]) drop(k string) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

// AdminTokens resolves admin tokens to workspaces.
type AdminTokens struct {
	lookup func(ctx context.Context, hash string) (string, error)
	cache  *ttlCache[string]
}

// NewAdminTokens caches lookup's answers for a few seconds.
func NewAdminTokens(lookup func(ctx context.Context, hash string) (string, error)) *AdminTokens {
	return &AdminTokens{lookup: lookup, cache: newTTLCache[string](5*time.Second, 10_000)}
}

// Workspace returns the workspace of a presented admin token.
func (a *AdminTokens) Workspace(ctx context.Context, token string) (string, error) {
	h := Hash(token)
	if ws, ok := a.cache.get(h); ok {
		return ws, nil
	}
	ws, err := a.lookup(ctx, h)
	if err != nil {
		return "", err
	}
	a.cache.put(h, ws)
	return ws, nil
}

// Integrations caches integrations with their key hashes for inbound traffic.
// A change made through this process drops its entry at once; one made by
// another process sharing the database is seen within the TTL.
type Integrations struct {
	lookup func(ctx context.Context, id string) (domain.IntegrationAuth, error)
	cache  *ttlCache[domain.IntegrationAuth]
}

// IntegrationCacheTTL is how long another process's key change may take to be seen.
const IntegrationCacheTTL = time.Second

// NewIntegrations wraps lookup with a cache.
func NewIntegrations(lookup func(ctx context.Context, id string) (domain.IntegrationAuth, error)) *Integrations {
	return &Integrations{lookup: lookup, cache: newTTLCache[domain.IntegrationAuth](IntegrationCacheTTL, 100_000)}
}

// Get returns an integration by id.
func (i *Integrations) Get(ctx context.Context, id string) (domain.IntegrationAuth, error) {
	if in, ok := i.cache.get(id); ok {
		return in, nil
	}
	in, err := i.lookup(ctx, id)
	if err != nil {
		return in, err
	}
	i.cache.put(id, in)
	return in, nil
}

// Forget drops an integration after it changed.
func (i *Integrations) Forget(id string) { i.cache.drop(id) }

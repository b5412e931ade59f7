// Package cache holds small in-memory caches for hot lookups. Hub processes
// sharing a database cannot invalidate each other's caches, so entries live
// briefly; a process drops its own entry at once when it changes the object.
package cache

import (
	"sync"
	"time"
)

// TTL maps keys to values that expire.
type TTL[V any] struct {
	mu      sync.RWMutex
	ttl     time.Duration
	max     int
	entries map[string]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// NewTTL makes a cache whose entries live for ttl, holding at most max.
func NewTTL[V any](ttl time.Duration, max int) *TTL[V] {
	return &TTL[V]{ttl: ttl, max: max, entries: make(map[string]entry[V])}
}

// Get returns a live entry.
func (c *TTL[V]) Get(k string) (V, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || time.Now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores an entry. A full cache is emptied first: simple, and bounded.
func (c *TTL[V]) Put(k string, v V) {
	c.mu.Lock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[k] = entry[V]{v: v, expires: time.Now().Add(c.ttl)}
	c.mu.Unlock()
}

// Drop removes an entry.
func (c *TTL[V]) Drop(k string) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

// Clear removes every entry.
func (c *TTL[V]) Clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

package main

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// limiter is a token bucket per visitor. It remembers a bounded number of
// visitors, forgetting the least recently seen first, so visitors it has
// never seen (or forgot) start with a full bucket.
type limiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets *simplelru.LRU[string, *bucket]
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate, burst float64, visitors int, now func() time.Time) *limiter {
	l, err := simplelru.NewLRU[string, *bucket](visitors, nil)
	if err != nil {
		panic(err) // visitors is a positive constant
	}
	return &limiter{rate: rate, burst: burst, now: now, buckets: l}
}

// allow takes one of the visitor's tokens, if there is one left.
func (l *limiter) allow(visitor string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets.Get(visitor)
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets.Add(visitor, b)
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// tracked counts the visitors remembered.
func (l *limiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buckets.Len()
}

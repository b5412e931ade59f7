package main

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// limiter is a token bucket per visitor. It remembers a bounded number of
// visitors, forgetting the least recently seen first, so visitors it has
// never seen (or forgot) start with a full bucket.
type limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets *simplelru.LRU[string, *rate.Limiter]
}

func newLimiter(perSecond float64, burst, visitors int, now func() time.Time) *limiter {
	l, err := simplelru.NewLRU[string, *rate.Limiter](visitors, nil)
	if err != nil {
		panic(err) // visitors is a positive constant
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, now: now, buckets: l}
}

// allow takes one of the visitor's tokens, if there is one left.
func (l *limiter) allow(visitor string) bool {
	l.mu.Lock()
	b, ok := l.buckets.Get(visitor)
	if !ok {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets.Add(visitor, b)
	}
	l.mu.Unlock()
	return b.AllowN(l.now(), 1)
}

// tracked counts the visitors remembered.
func (l *limiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buckets.Len()
}

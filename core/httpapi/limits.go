package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Limits on what public senders may use, per client address. The address
// is the connection's own, never a header a client could write; a
// loopback, private or shared (CGNAT) address is most likely a reverse
// proxy that every visitor comes through, so it is not limited: behind a
// proxy only the per-visitor and per-integration limits apply.
const (
	// senderRate and senderBurst bound the messages one address may post
	// to public routes, and the streams it may open: a token bucket.
	senderRate  = 10.0 // per second
	senderBurst = 30
	// maxTrackedSenders bounds the addresses remembered; the least recently
	// seen is forgotten first.
	maxTrackedSenders = 50_000
	// maxStreamsPerAddress bounds the live streams one address holds open.
	maxStreamsPerAddress = 50
)

// cgnat is the shared address space of RFC 6598, used inside clouds too.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// clientKey names the client a request's connection comes from: its IPv4
// address, or its IPv6 /64 (one subscriber's usual allocation). It is ""
// for an address that is not limited (see above) or that cannot be read.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	addr = addr.Unmap().WithZone("")
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsUnspecified() || cgnat.Contains(addr) {
		return ""
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// ClientKey is clientKey for the admin UI's login limiter, which limits
// the same clients the same way.
func ClientKey(r *http.Request) string { return clientKey(r) }

// rateLimiter is a token bucket per client, for a bounded number of
// clients: the least recently seen is forgotten first, and starts again
// with a full bucket.
type rateLimiter struct {
	rate    rate.Limit
	burst   int
	mu      sync.Mutex
	buckets *simplelru.LRU[string, *rate.Limiter]
}

func newRateLimiter(perSecond float64, burst, clients int) *rateLimiter {
	l, _ := simplelru.NewLRU[string, *rate.Limiter](clients, nil)
	return &rateLimiter{rate: rate.Limit(perSecond), burst: burst, buckets: l}
}

// allow takes a token of key's bucket, if there is one. An empty key is
// never limited.
func (l *rateLimiter) allow(key string, now time.Time) bool {
	if key == "" {
		return true
	}
	l.mu.Lock()
	b, ok := l.buckets.Get(key)
	if !ok {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets.Add(key, b)
	}
	l.mu.Unlock()
	return b.AllowN(now, 1)
}

// streamLimits bounds the live streams open at once: in all, per
// integration and per client address.
type streamLimits struct {
	maxTotal, maxPerIntegration, maxPerAddress int

	mu      sync.Mutex
	total   int
	perInt  map[string]int
	perAddr map[string]int
}

func newStreamLimits(total, perIntegration, perAddress int) *streamLimits {
	return &streamLimits{maxTotal: total, maxPerIntegration: perIntegration, maxPerAddress: perAddress,
		perInt: map[string]int{}, perAddr: map[string]int{}}
}

// acquire takes a stream slot for an integration and a client (see
// clientKey); release gives it back. It reports false when a limit is reached.
func (l *streamLimits) acquire(integrationID, client string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.maxTotal || l.perInt[integrationID] >= l.maxPerIntegration ||
		client != "" && l.perAddr[client] >= l.maxPerAddress {
		return nil, false
	}
	l.total++
	l.perInt[integrationID]++
	if client != "" {
		l.perAddr[client]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.perInt[integrationID]--; l.perInt[integrationID] <= 0 {
				delete(l.perInt, integrationID)
			}
			if client != "" {
				if l.perAddr[client]--; l.perAddr[client] <= 0 {
					delete(l.perAddr, client)
				}
			}
		})
	}, true
}

// open counts the streams open now.
func (l *streamLimits) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

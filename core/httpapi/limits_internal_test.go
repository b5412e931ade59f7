package httpapi

import (
	"net/http"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"203.0.113.7:5555", "203.0.113.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[::ffff:198.51.100.9]:80", "198.51.100.9"},
		// A proxy's address: every visitor would share it, so it is not limited.
		{"127.0.0.1:1234", ""},
		{"[::1]:1234", ""},
		{"10.1.2.3:80", ""},
		{"192.168.0.4:80", ""},
		{"100.64.3.2:80", ""},
		{"[fd00::1]:80", ""},
		{"garbage", ""},
	} {
		if got := clientKey(&http.Request{RemoteAddr: tc.remote}); got != tc.want {
			t.Errorf("clientKey(%s) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(2, 3, 2)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if !l.allow("a", now) {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if l.allow("a", now) {
		t.Error("a request past the burst was allowed")
	}
	if !l.allow("b", now) {
		t.Error("another client was held back")
	}
	if !l.allow("a", now.Add(500*time.Millisecond)) {
		t.Error("the bucket did not refill")
	}
	if !l.allow("", now) {
		t.Error("an unlimited client was refused")
	}
	l.allow("c", now) // forgets the least recently seen
	if n := l.buckets.Len(); n > 2 {
		t.Errorf("%d clients remembered, want at most 2", n)
	}
}

func TestStreamLimits(t *testing.T) {
	l := newStreamLimits(3, 2, 1)
	r1, ok1 := l.acquire("i1", "")
	_, ok2 := l.acquire("i1", "")
	_, ok3 := l.acquire("i1", "")
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("per integration: %v %v %v, want two of one integration", ok1, ok2, ok3)
	}
	_, ok4 := l.acquire("i2", "203.0.113.7")
	_, ok5 := l.acquire("i3", "198.51.100.1")
	if !ok4 || ok5 {
		t.Fatalf("in all: %v %v, want three streams at most", ok4, ok5)
	}
	r1()
	r1() // twice gives back one slot only
	if _, ok := l.acquire("i3", "203.0.113.7"); ok {
		t.Error("a second stream of one address was allowed")
	}
	if _, ok := l.acquire("i3", ""); !ok {
		t.Error("a released slot was not given back")
	}
	if n := l.open(); n != 3 {
		t.Errorf("%d open, want 3", n)
	}
}

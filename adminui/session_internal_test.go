package adminui

import (
	"strings"
	"testing"
	"time"
)

// TestLoginLimiterKeysAreBounded: the limiter remembers thousands of keys;
// an email is whatever a form sends (up to 64 KiB), so a key must not be
// kept as sent, or ten thousand long ones would hold hundreds of MiB.
func TestLoginLimiterKeysAreBounded(t *testing.T) {
	l := newLoginLimiter(10, time.Minute, 100)
	for i := range 100 {
		email := strings.Repeat("x", 60<<10) + string(rune('a'+i%26)) + strings.Repeat("y", i)
		if !l.attempt(email) {
			t.Fatalf("attempt %d refused", i)
		}
	}
	held := 0
	for k := range l.keys {
		held += len(k)
	}
	if held > 100*64 {
		t.Errorf("100 long emails are held in %d bytes of keys", held)
	}
	if l.attempt(strings.Repeat("x", 60<<10)+"a") != true || len(l.keys) != 100 {
		t.Errorf("a key seen before is not found again: %d keys", len(l.keys))
	}
}

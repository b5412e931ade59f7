package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// stallingHub answers the custom webhook as a hub would ("ok"), but
// stalls every answer for a while once, as a hub in a long pause would.
func stallingHub(t *testing.T, stallAfter, stallFor time.Duration) *httptest.Server {
	start := time.Now()
	var once sync.Once
	var stallUntil time.Time
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/integrations":
			io.WriteString(w, `{"id":"in-1","apiKey":"sbk_test"}`)
		case strings.HasPrefix(r.URL.Path, "/api/webhooks/custom/"):
			io.Copy(io.Discard, r.Body)
			if time.Since(start) > stallAfter {
				once.Do(func() {
					mu.Lock()
					stallUntil = time.Now().Add(stallFor)
					mu.Unlock()
				})
			}
			mu.Lock()
			wait := time.Until(stallUntil)
			mu.Unlock()
			if wait > 0 {
				time.Sleep(wait)
			}
			io.WriteString(w, `"ok"`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestOpenLoopCountsTheStall: with a fixed rate, the sends that fell due
// while the hub stalled carry the stall in their latency; a closed loop
// would send nothing then and show only as many slow answers as it has
// connections (coordinated omission).
func TestOpenLoopCountsTheStall(t *testing.T) {
	const conns, rate = 4, 200.0
	stall := 400 * time.Millisecond
	measure := func(rate float64) (*benchResult, int) {
		srv := stallingHub(t, 300*time.Millisecond, stall)
		b := &bench{base: srv.URL, token: "sba_test", connections: conns, duration: 1500 * time.Millisecond, conversations: 4, rate: rate}
		res, err := b.run(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		return res, res.slow
	}
	open, openSlow := measure(rate)
	closed, closedSlow := measure(0)
	// At 200/s, a 400 ms stall holds up about 80 sends: far more than the
	// connections, each of which the stall holds up once in a closed loop.
	if openSlow <= 2*conns {
		t.Errorf("open loop: %d answers slower than 100 ms, want the ~%d sends due during the stall", openSlow, int(rate*stall.Seconds()))
	}
	if closedSlow > 2*conns {
		t.Errorf("closed loop: %d slow answers; the fake hub stalls each connection once", closedSlow)
	}
	if open.Acknowledged == 0 || open.Missed != 0 || open.Rate != rate {
		t.Errorf("open loop: %d acknowledged, %d missed, rate %v", open.Acknowledged, open.Missed, open.Rate)
	}
	// The open loop sent about rate × duration, whatever the stall.
	if want := int(rate * 1.5); open.Sent < want*8/10 || open.Sent > want*11/10 {
		t.Errorf("open loop sent %d, want about %d", open.Sent, want)
	}
	if closed.P99Ms >= open.P99Ms {
		t.Errorf("p99: closed %.1f ms, open %.1f ms; the open loop should show the stall", closed.P99Ms, open.P99Ms)
	}
}

// TestBenchEndToEnd runs the end-to-end mode against a real hub: every
// acknowledged message is stored once and arrives once at the bench's own
// receiver, each with its time from send to arrival.
func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugins and runs a hub")
	}
	pluginDir := t.TempDir()
	if err := apptest.BuildPlugins(pluginDir); err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db string) {
		out, err := run(t, "admin", "create-token", "--workspace", "bench-e2e", "--database-url", db)
		if err != nil {
			t.Fatal(err)
		}
		token := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
		hub := startServe(t, db, pluginDir)
		b := &bench{base: hub.url, token: token, connections: 4, duration: time.Second, conversations: 4, rate: 100,
			receiverAddr: "127.0.0.1:0", e2eWait: 20 * time.Second}
		res, err := b.run(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		e := res.EndToEnd
		if res.Acknowledged < 50 || res.Lost != 0 || res.Duplicated != 0 || e == nil {
			t.Fatalf("bench: %+v", res)
		}
		if e.Arrived != res.Acknowledged || e.Lost != 0 || e.Duplicated != 0 || e.P50Ms <= 0 || e.MaxMs < e.P99Ms {
			t.Errorf("end to end: %+v for %d acknowledged", e, res.Acknowledged)
		}
		// The drain: messages queued while the receiver holds every
		// delivery all arrive once it lets them through.
		d := &bench{base: hub.url, token: token, connections: 4, duration: time.Second, conversations: 8, drain: 300,
			receiverAddr: "127.0.0.1:0", e2eWait: 20 * time.Second}
		dres, err := d.run(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		if dres.Drain == nil || dres.Acknowledged != 300 || dres.Drain.Queued != 300 || dres.EndToEnd.Arrived != 300 ||
			dres.EndToEnd.Duplicated != 0 || dres.Drain.PerSecond <= 0 {
			t.Errorf("drain: %+v, %+v, %+v", dres, dres.Drain, dres.EndToEnd)
		}
		// The receivers' subscriptions are gone afterwards.
		status, body := hub.admin(t, token, "GET", "/api/webhooks/", nil)
		if status != http.StatusOK || strings.Contains(string(body), "/bench") {
			t.Errorf("subscriptions after the bench: %d %s", status, body)
		}
	})
}

package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
		b := &bench{urls: []string{srv.URL}, token: "sba_test", connections: conns, duration: 1500 * time.Millisecond, conversations: 4, rate: rate}
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
		b := &bench{urls: []string{hub.url}, token: token, connections: 4, duration: time.Second, conversations: 4, rate: 100,
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
		d := &bench{urls: []string{hub.url}, token: token, connections: 4, duration: time.Second, conversations: 8, drain: 300,
			receiverAddr: "127.0.0.1:0", e2eWait: 20 * time.Second}
		dres, err := d.run(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		if dres.Drain == nil || dres.Acknowledged != 300 || dres.Drain.Queued != 300 || dres.EndToEnd.Arrived != 300 ||
			dres.EndToEnd.Duplicated != 0 || dres.Drain.PerSecond <= 0 {
			t.Errorf("drain: %+v, %+v, %+v", dres, dres.Drain, dres.EndToEnd)
		}
		// Two hubs on one PostgreSQL: every message sent through either
		// arrives once and is stored once, verified through the first.
		if strings.HasPrefix(db, "postgres") {
			hub2 := startServe(t, db, pluginDir)
			two := &bench{urls: []string{hub.url, hub2.url}, token: token, connections: 4, duration: time.Second, conversations: 4, rate: 100,
				receiverAddr: "127.0.0.1:0", e2eWait: 20 * time.Second}
			tres, err := two.run(context.Background(), true)
			if err != nil {
				t.Fatal(err)
			}
			if tres.Hubs != 2 || tres.Acknowledged < 50 || tres.Stored != tres.Acknowledged || tres.Lost != 0 || tres.Duplicated != 0 ||
				tres.EndToEnd.Arrived != tres.Acknowledged || tres.EndToEnd.Duplicated != 0 {
				t.Errorf("two hubs: %+v, %+v", tres, tres.EndToEnd)
			}
		}
		// The receivers' subscriptions are gone afterwards.
		status, body := hub.admin(t, token, "GET", "/api/webhooks/", nil)
		if status != http.StatusOK || strings.Contains(string(body), "/bench") {
			t.Errorf("subscriptions after the bench: %d %s", status, body)
		}
	})
}

// startBareServer runs `switchboard bench-bare-server` in a process of its
// own, as the suite does, and returns its URL.
func startBareServer(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(binary, "bench-bare-server", "--addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://127.0.0.1:") {
		t.Fatalf("bench-bare-server printed %q: %v", line, err)
	}
	return strings.TrimSpace(line)
}

// TestBenchBare runs --bare against the bare server: every send is
// answered 200 and counted, nothing is verified (there is no hub), and with
// --e2e every body is relayed to the receiver once, drain included.
func TestBenchBare(t *testing.T) {
	bare := startBareServer(t)
	t.Run("closed loop", func(t *testing.T) {
		b := &bench{urls: []string{bare}, bare: true, connections: 4, duration: 500 * time.Millisecond, conversations: 4}
		res, err := b.run(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Bare || res.Verified || res.Acknowledged < 100 || res.Failed != 0 || res.Acknowledged != res.Sent || res.P99Ms <= 0 {
			t.Errorf("bare closed loop: %+v", res)
		}
	})
	t.Run("e2e", func(t *testing.T) {
		b := &bench{urls: []string{bare}, bare: true, connections: 4, duration: time.Second, conversations: 4, rate: 200,
			receiverAddr: "127.0.0.1:0", e2eWait: 10 * time.Second}
		res, err := b.run(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		e := res.EndToEnd
		if res.Acknowledged < 150 || e == nil || e.Arrived != res.Acknowledged || e.Lost != 0 || e.Duplicated != 0 || e.P50Ms <= 0 {
			t.Errorf("bare e2e: %+v %+v", res, e)
		}
	})
	t.Run("drain", func(t *testing.T) {
		b := &bench{urls: []string{bare}, bare: true, connections: 4, duration: time.Second, conversations: 4, drain: 500,
			receiverAddr: "127.0.0.1:0", e2eWait: 10 * time.Second}
		res, err := b.run(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Drain == nil || res.Acknowledged != 500 || res.EndToEnd.Arrived != 500 || res.EndToEnd.Duplicated != 0 || res.Drain.PerSecond <= 0 {
			t.Errorf("bare drain: %+v %+v %+v", res, res.Drain, res.EndToEnd)
		}
	})
	t.Run("relays only to loopback", func(t *testing.T) {
		for _, to := range []string{"http://example.com/x", "https://127.0.0.1/x", "http://10.0.0.1/x", "http://user@127.0.0.1/x", "::"} {
			req, _ := http.NewRequest("POST", bare, strings.NewReader(`{"messageId":"m"}`))
			req.Header.Set(benchForwardHeader, to)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("forward to %q: HTTP %d, want 400", to, resp.StatusCode)
			}
		}
	})
}

// fakeHub answers the custom webhook "ok" and counts what it gets.
type fakeHub struct {
	*httptest.Server
	inbound, admin atomic.Int64
}

func newFakeHub(t *testing.T) *fakeHub {
	h := &fakeHub{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/integrations":
			h.admin.Add(1)
			io.WriteString(w, `{"id":"in-1","apiKey":"sbk_test"}`)
		case strings.HasPrefix(r.URL.Path, "/api/webhooks/custom/in-1") && r.Header.Get("X-Api-Key") == "sbk_test":
			io.Copy(io.Discard, r.Body)
			h.inbound.Add(1)
			io.WriteString(w, `"ok"`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// TestBenchSeveralHubs: with several --url, the integration is created on
// the first hub and the connections are shared among them in turn, so each
// gets its share of the load.
func TestBenchSeveralHubs(t *testing.T) {
	if got := splitURLs(" http://a:1/, http://b:2 ,,"); !slices.Equal(got, []string{"http://a:1", "http://b:2"}) {
		t.Errorf("splitURLs = %q", got)
	}
	a, b := newFakeHub(t), newFakeHub(t)
	for _, tc := range []struct {
		name  string
		rate  float64
		conns int
	}{
		{name: "closed loop", conns: 4},
		{name: "open loop", rate: 400, conns: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.inbound.Store(0)
			b.inbound.Store(0)
			a.admin.Store(0)
			bn := &bench{urls: []string{a.URL, b.URL}, token: "sba_test", connections: tc.conns, duration: 500 * time.Millisecond, conversations: 4, rate: tc.rate}
			res, err := bn.run(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			na, nb := a.inbound.Load(), b.inbound.Load()
			if res.Hubs != 2 || res.Failed != 0 || int64(res.Acknowledged) != na+nb || na == 0 || nb == 0 {
				t.Fatalf("%+v; hub a got %d, hub b %d", res, na, nb)
			}
			// Half the connections each: the shares differ by little.
			if lo, hi := min(na, nb), max(na, nb); float64(lo) < 0.6*float64(hi) {
				t.Errorf("hub a got %d, hub b %d: not shared in turn", na, nb)
			}
			if a.admin.Load() != 1 || b.admin.Load() != 0 {
				t.Errorf("admin calls: %d to the first hub, %d to the second; want all on the first", a.admin.Load(), b.admin.Load())
			}
		})
	}
}

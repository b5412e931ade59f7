package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v3"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "load a hub's custom webhook with seed-shaped messages, then check each acknowledged one is stored exactly once",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "the hub's base URL, or several hubs' sharing one database, comma-separated (each connection goes to one of them in turn; admin calls go to the first); with --bare, the bare server's URL", Value: "http://127.0.0.1:8080", Sources: cli.EnvVars("SWITCHBOARD_URL")},
			&cli.StringFlag{Name: "token", Usage: "admin token (sba_…) of the workspace to load (not with --bare)", Sources: cli.EnvVars("SWITCHBOARD_TOKEN")},
			&cli.BoolFlag{Name: "bare", Usage: "the ceiling: post the same bodies to --url as given, a bare HTTP server (switchboard bench-bare-server), counting 200 answers; no admin calls, nothing stored to verify; with --e2e the server relays each body to the receiver"},
			&cli.IntFlag{Name: "connections", Aliases: []string{"c"}, Usage: "concurrent connections", Value: 64},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "how long to send", Value: 10 * time.Second},
			&cli.IntFlag{Name: "conversations", Usage: "distinct conversationIds per connection", Value: 16},
			&cli.FloatFlag{Name: "rate", Usage: "send at this many messages/s whatever the answers (open loop: latency counts from when each send was due, so a stalled hub shows in it); 0 sends as fast as the connections allow"},
			&cli.BoolFlag{Name: "no-verify", Usage: "skip the exactly-once check"},
			&cli.BoolFlag{Name: "e2e", Usage: "end to end: subscribe a receiver of this command's own to message events and time each message from its send to its arrival (the hub needs --allow-private-targets to reach it on loopback)"},
			&cli.StringFlag{Name: "receiver-addr", Usage: "where the --e2e receiver listens", Value: "127.0.0.1:0"},
			&cli.IntFlag{Name: "drain", Usage: "delivery drain: queue this many messages while the --e2e receiver holds every delivery, then let them through and report deliveries/s until all have arrived (implies --e2e)"},
			&cli.DurationFlag{Name: "e2e-wait", Usage: "how long --e2e waits for the last arrivals after sending", Value: 30 * time.Second},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			b := &bench{
				urls:          splitURLs(cmd.String("url")),
				token:         cmd.String("token"),
				bare:          cmd.Bool("bare"),
				connections:   cmd.Int("connections"),
				duration:      cmd.Duration("duration"),
				conversations: cmd.Int("conversations"),
				rate:          cmd.Float("rate"),
			}
			if b.drain = cmd.Int("drain"); b.drain < 0 {
				return errors.New("bench: --drain must be positive")
			}
			if cmd.Bool("e2e") || b.drain > 0 {
				b.receiverAddr, b.e2eWait = cmd.String("receiver-addr"), cmd.Duration("e2e-wait")
			}
			if b.connections < 1 || b.conversations < 1 || b.duration <= 0 || b.rate < 0 {
				return errors.New("bench: --connections, --conversations and --duration must be positive, --rate at least 0")
			}
			if len(b.urls) == 0 {
				return errors.New("bench: --url names no hub")
			}
			if !b.bare && b.token == "" {
				return errors.New("bench: --token is required (except with --bare)")
			}
			res, err := b.run(ctx, !cmd.Bool("no-verify"))
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			res.print(os.Stdout)
			if res.Lost > 0 || res.Duplicated > 0 {
				return fmt.Errorf("bench: %d acknowledged messages lost, %d duplicated", res.Lost, res.Duplicated)
			}
			if e := res.EndToEnd; e != nil && (e.Lost > 0 || e.Duplicated > 0) {
				return fmt.Errorf("bench: %d acknowledged messages never arrived, %d arrived more than once", e.Lost, e.Duplicated)
			}
			return nil
		},
	}
}

type bench struct {
	// urls are the hubs' base URLs (several processes on one database);
	// connection c sends to urls[c%len(urls)], admin calls go to urls[0].
	// With bare, they are bare servers' URLs, posted to as given.
	urls          []string
	token         string
	bare          bool
	connections   int
	duration      time.Duration
	conversations int
	// rate, when positive, is the open loop's sends per second.
	rate float64
	// receiverAddr, when set, runs the end-to-end mode with a receiver
	// listening there; e2eWait bounds the wait for the last arrivals.
	receiverAddr string
	e2eWait      time.Duration
	// drain, when positive, sends exactly this many messages while the
	// receiver holds the deliveries, then measures their drain.
	drain  int
	client *http.Client
}

// drainResult is the delivery drain: the queued messages' deliveries from
// the moment the receiver let them through to the last arrival.
type drainResult struct {
	Queued    int     `json:"queued"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"deliveriesPerSecond"`
}

// endToEnd is what the receiver saw: each acknowledged message's time from
// when its send was due to its arrival.
type endToEnd struct {
	Arrived    int     `json:"arrived"`
	Lost       int     `json:"lost"`
	Duplicated int     `json:"duplicated"`
	P50Ms      float64 `json:"p50Ms"`
	P95Ms      float64 `json:"p95Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MaxMs      float64 `json:"maxMs"`
}

type benchResult struct {
	// Bare is set for a run against a bare HTTP server: nothing verified.
	Bare        bool `json:"bare,omitempty"`
	Hubs        int  `json:"hubs"`
	Connections int  `json:"connections"`
	// Rate is the open loop's target, 0 for a closed loop.
	Rate float64 `json:"rate,omitempty"`
	// Missed counts the open loop's sends that fell more than a second
	// behind (every connection busy): never sent, and left out of the
	// latencies, so a figure with any is only a lower bound.
	Missed       int     `json:"missed,omitempty"`
	DurationSec  float64 `json:"durationSeconds"`
	Sent         int     `json:"sent"`
	Acknowledged int     `json:"acknowledged"`
	Failed       int     `json:"failed"`
	PerSecond    float64 `json:"messagesPerSecond"`
	P50Ms        float64 `json:"p50Ms"`
	P90Ms        float64 `json:"p90Ms"`
	P99Ms        float64 `json:"p99Ms"`
	MaxMs        float64 `json:"maxMs"`
	Verified     bool    `json:"verified"`
	Stored       int     `json:"stored"`
	Lost         int     `json:"lost"`
	Duplicated   int     `json:"duplicated"`
	FirstError   string  `json:"firstError,omitempty"`
	// EndToEnd is set in the end-to-end mode.
	EndToEnd *endToEnd `json:"endToEnd,omitempty"`
	// Drain is set in the delivery-drain mode.
	Drain *drainResult `json:"drain,omitempty"`
	// slow counts answers over 100 ms, for tests.
	slow int
}

func (r *benchResult) print(w io.Writer) {
	switch {
	case r.Bare:
		fmt.Fprintf(w, "target           %d bare HTTP server(s), nothing stored to verify\n", r.Hubs)
	case r.Hubs > 1:
		fmt.Fprintf(w, "target           %d hubs\n", r.Hubs)
	}
	fmt.Fprintf(w, "connections      %d\n", r.Connections)
	if r.Rate > 0 {
		fmt.Fprintf(w, "rate             %.0f messages/s, open loop (%d sends fell over a second behind and were dropped)\n", r.Rate, r.Missed)
	}
	fmt.Fprintf(w, "duration         %.1fs\n", r.DurationSec)
	fmt.Fprintf(w, "acknowledged     %d of %d sent (%d failed)\n", r.Acknowledged, r.Sent, r.Failed)
	fmt.Fprintf(w, "throughput       %.0f messages/s\n", r.PerSecond)
	fmt.Fprintf(w, "latency          p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs)
	if r.Verified {
		fmt.Fprintf(w, "stored           %d (lost %d, duplicated %d)\n", r.Stored, r.Lost, r.Duplicated)
	}
	if d := r.Drain; d != nil {
		fmt.Fprintf(w, "drain            %d deliveries in %.2fs: %.0f deliveries/s\n", d.Queued, d.Seconds, d.PerSecond)
	}
	if e := r.EndToEnd; e != nil {
		fmt.Fprintf(w, "end to end       p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", e.P50Ms, e.P95Ms, e.P99Ms, e.MaxMs)
		fmt.Fprintf(w, "arrived          %d (lost %d, duplicated %d)\n", e.Arrived, e.Lost, e.Duplicated)
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error      %s\n", r.FirstError)
	}
}

func (b *bench) run(ctx context.Context, verify bool) (*benchResult, error) {
	b.client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        b.connections * 2,
			MaxIdleConnsPerHost: b.connections * 2,
			MaxConnsPerHost:     b.connections,
		},
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var in struct {
		ID     string `json:"id"`
		APIKey string `json:"apiKey"`
	}
	endpoints := b.urls
	if !b.bare {
		if err := b.admin(ctx, "POST", "/api/integrations", map[string]any{"name": "bench " + run, "kind": "custom"}, &in); err != nil {
			return nil, fmt.Errorf("bench: create integration: %w", err)
		}
		endpoints = make([]string, len(b.urls))
		for i, u := range b.urls {
			endpoints[i] = u + "/api/webhooks/custom/" + in.ID
		}
	}
	var rcv *receiver
	forward := "" // where a bare server relays each body, in the e2e mode
	if b.receiverAddr != "" {
		var err error
		if rcv, err = b.startReceiver(ctx, "bench-"+run+"-"); err != nil {
			return nil, err
		}
		if b.bare {
			forward = rcv.url
		}
		if b.drain > 0 {
			rcv.holdAll()
		}
		defer rcv.close(ctx, b)
	}

	type worker struct {
		acked     []string
		due       []time.Time // of each acked, when its send was due
		latencies []time.Duration
		sent      int
		failed    int
		firstErr  string
	}
	workers := make([]worker, b.connections)
	start := time.Now()
	deadline := start.Add(b.duration)
	due, missed := b.schedule(ctx, start, deadline)
	var wg sync.WaitGroup
	for c := range b.connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &workers[c]
			endpoint := endpoints[c%len(endpoints)]
			var buf bytes.Buffer
			for seq := 0; ctx.Err() == nil; seq++ {
				t0, ok := due()
				if !ok {
					break
				}
				id := fmt.Sprintf("bench-%s-%d-%d", run, c, seq)
				buf.Reset()
				fmt.Fprintf(&buf, `{"messageId":%q,"conversationId":"bench-%s-%d-%d","from":{"externalId":"user-%d-%d","name":"Load Tester","email":"load%d.%d@example.com"},"subject":"Benchmark thread","content":"Message %d from connection %d: checking the order status."}`,
					id, run, c, seq%b.conversations, c, seq%b.conversations, c, seq%b.conversations, seq, c)
				req, _ := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(buf.Bytes()))
				req.Header.Set("Content-Type", "application/json")
				if b.bare {
					if forward != "" {
						req.Header.Set(benchForwardHeader, forward)
					}
				} else {
					req.Header.Set("X-Api-Key", in.APIKey)
				}
				resp, err := b.client.Do(req)
				w.sent++
				if err != nil {
					w.failed++
					if w.firstErr == "" {
						w.firstErr = err.Error()
					}
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				w.latencies = append(w.latencies, time.Since(t0))
				// A hub acknowledges with "ok" once the message is committed; a
				// bare server's 200 is all it has to say.
				if resp.StatusCode != 200 || (!b.bare && string(body) != `"ok"`) {
					w.failed++
					if w.firstErr == "" {
						w.firstErr = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, body)
					}
					continue
				}
				w.acked = append(w.acked, id)
				w.due = append(w.due, t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := &benchResult{Bare: b.bare, Hubs: len(b.urls), Connections: b.connections, DurationSec: elapsed.Seconds(), Rate: b.rate, Missed: int(missed.Load())}
	var lat []time.Duration
	acked := make(map[string]bool)
	for _, w := range workers {
		res.Sent += w.sent
		res.Failed += w.failed
		if res.FirstError == "" {
			res.FirstError = w.firstErr
		}
		lat = append(lat, w.latencies...)
		for _, id := range w.acked {
			acked[id] = true
		}
	}
	res.Acknowledged = len(acked)
	res.PerSecond = float64(res.Acknowledged) / elapsed.Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	for _, d := range lat {
		if d > 100*time.Millisecond {
			res.slow++
		}
	}
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs = pct(0.50), pct(0.90), pct(0.99), pct(1)

	var released time.Time
	if rcv != nil && b.drain > 0 {
		released = rcv.release()
	}
	if rcv != nil {
		due := make(map[string]time.Time, len(acked))
		for _, w := range workers {
			for i, id := range w.acked {
				due[id] = w.due[i]
			}
		}
		res.EndToEnd = rcv.wait(ctx, due, b.e2eWait)
		if b.drain > 0 {
			last := rcv.lastArrival()
			res.Drain = &drainResult{Queued: len(acked), Seconds: last.Sub(released).Seconds()}
			if res.Drain.Seconds > 0 {
				res.Drain.PerSecond = float64(res.EndToEnd.Arrived) / res.Drain.Seconds
			}
		}
	}
	if verify && !b.bare {
		stored, err := b.stored(ctx, in.ID)
		if err != nil {
			return nil, fmt.Errorf("bench: verify: %w", err)
		}
		res.Verified = true
		for _, n := range stored {
			res.Stored += n
			if n > 1 {
				res.Duplicated += n - 1
			}
		}
		for id := range acked {
			if stored[id] == 0 {
				res.Lost++
			}
		}
	}
	return res, nil
}

// receiver takes the hub's deliveries of message events in the end-to-end
// mode and notes when each of this run's messages arrived.
type receiver struct {
	srv            *http.Server
	url            string
	subscriptionID string
	prefix         string

	mu      sync.Mutex
	arrived map[string][]time.Time
	last    time.Time
	// held, while open, holds every delivery until release closes it.
	held chan struct{}
}

// holdAll makes the receiver hold every delivery, answering none, as a
// receiver that is down: the hub's workers wait on the few in flight and
// the rest stay queued.
func (r *receiver) holdAll() {
	r.mu.Lock()
	r.held = make(chan struct{})
	r.mu.Unlock()
}

// release lets every held delivery through and returns when.
func (r *receiver) release() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held != nil {
		close(r.held)
		r.held = nil
	}
	return time.Now()
}

func (r *receiver) lastArrival() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// startReceiver listens, and subscribes it to the workspace's message
// events in the legacy format, whose messageExternalId is the bench's
// messageId. A bare server has nothing to subscribe to: it is told where
// to relay each body instead.
func (b *bench) startReceiver(ctx context.Context, prefix string) (*receiver, error) {
	ln, err := net.Listen("tcp", b.receiverAddr)
	if err != nil {
		return nil, fmt.Errorf("bench: receiver: %w", err)
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/bench", prefix: prefix, arrived: map[string][]time.Time{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.take), ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	if b.bare {
		return r, nil
	}
	var sub struct {
		ID string `json:"id"`
	}
	err = b.admin(ctx, "POST", "/api/webhooks/", map[string]any{"url": r.url,
		"enabled": true, "subscribedEvents": []string{"messages"}, "format": "legacy"}, &sub)
	if err != nil {
		r.srv.Close()
		return nil, fmt.Errorf("bench: subscribe the receiver (does the hub run with --allow-private-targets?): %w", err)
	}
	r.subscriptionID = sub.ID
	return r, nil
}

func (r *receiver) take(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	held := r.held
	r.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-req.Context().Done():
			return
		}
	}
	at := time.Now()
	var ev struct {
		MessageExternalID string `json:"messageExternalId"`
	}
	json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&ev)
	if strings.HasPrefix(ev.MessageExternalID, r.prefix) {
		r.mu.Lock()
		r.arrived[ev.MessageExternalID] = append(r.arrived[ev.MessageExternalID], at)
		if at.After(r.last) {
			r.last = at
		}
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

// wait waits for every acknowledged message to arrive, or for limit
// without a new arrival, and sums up.
func (r *receiver) wait(ctx context.Context, due map[string]time.Time, limit time.Duration) *endToEnd {
	last, lastCount := time.Now(), -1
	for ctx.Err() == nil {
		r.mu.Lock()
		n := 0
		for id := range due {
			if len(r.arrived[id]) > 0 {
				n++
			}
		}
		r.mu.Unlock()
		if n == len(due) {
			break
		}
		if n != lastCount {
			last, lastCount = time.Now(), n
		} else if time.Since(last) > limit {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := &endToEnd{}
	var lat []time.Duration
	for id, at := range due {
		got := r.arrived[id]
		if len(got) == 0 {
			e.Lost++
			continue
		}
		e.Arrived++
		e.Duplicated += len(got) - 1
		lat = append(lat, got[0].Sub(at))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	e.P50Ms, e.P95Ms, e.P99Ms, e.MaxMs = pct(0.50), pct(0.95), pct(0.99), pct(1)
	return e
}

// close removes the subscription and stops listening.
func (r *receiver) close(ctx context.Context, b *bench) {
	if r.subscriptionID != "" {
		var out any
		b.admin(ctx, "POST", "/api/webhooks/"+r.subscriptionID+"/delete", nil, &out)
	}
	r.srv.Close()
}

// schedule returns when each send is due. In a closed loop a send is due
// when a connection is free, until the deadline. In an open loop sends are
// due at the rate from start, whatever the answers: a connection takes the
// next due time and latency counts from it, so time spent waiting for a
// free connection (a stalled hub) is in the figures instead of omitted. A
// send more than a second overdue when it falls due is dropped and counted.
func (b *bench) schedule(ctx context.Context, start, deadline time.Time) (due func() (time.Time, bool), missed *atomic.Int64) {
	missed = new(atomic.Int64)
	if b.drain > 0 {
		left := new(atomic.Int64)
		left.Store(int64(b.drain))
		return func() (time.Time, bool) { return time.Now(), left.Add(-1) >= 0 }, missed
	}
	if b.rate <= 0 {
		return func() (time.Time, bool) {
			now := time.Now()
			return now, now.Before(deadline)
		}, missed
	}
	queue := make(chan time.Time, max(1, int(b.rate)))
	go func() {
		defer close(queue)
		interval := time.Duration(float64(time.Second) / b.rate)
		for i := 0; ; i++ {
			at := start.Add(time.Duration(i) * interval)
			if !at.Before(deadline) {
				return
			}
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return
				}
			}
			select {
			case queue <- at:
			default:
				missed.Add(1) // a second's worth already waits for a connection
			}
		}
	}()
	return func() (time.Time, bool) {
		at, ok := <-queue
		return at, ok
	}, missed
}

// stored counts every message of the integration by its messageId, through the admin API.
func (b *bench) stored(ctx context.Context, integrationID string) (map[string]int, error) {
	counts := map[string]int{}
	var convIDs []string
	cursor := ""
	for {
		var page struct {
			Conversations []struct{ ID string }
			NextCursor    string
		}
		q := url.Values{"integrationId": {integrationID}, "limit": {"500"}, "cursor": {cursor}}
		if err := b.admin(ctx, "GET", "/api/conversations?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		for _, c := range page.Conversations {
			convIDs = append(convIDs, c.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for _, conv := range convIDs {
		cursor := ""
		for {
			var page struct {
				Messages   []struct{ ExternalID string }
				NextCursor string
			}
			q := url.Values{"limit": {"500"}, "cursor": {cursor}}
			if err := b.admin(ctx, "GET", "/api/conversations/"+conv+"/messages?"+q.Encode(), nil, &page); err != nil {
				return nil, err
			}
			for _, m := range page.Messages {
				counts[m.ExternalID]++
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	return counts, nil
}

func (b *bench) admin(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.urls[0]+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// splitURLs reads --url: one base URL or several, comma-separated.
func splitURLs(s string) []string {
	var urls []string
	for u := range strings.SplitSeq(s, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}

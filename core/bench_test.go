package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// BenchmarkDeliveries measures the delivery engine end to end: b.N events
// are queued (inbound messages fanned out to a webhook subscription, over
// 1,000 conversations), then the hub starts and sends them all to a receiver
// on loopback; the time is from start until the receiver has the last one.
func BenchmarkDeliveries(b *testing.B) {
	for _, db := range storetest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) { benchDeliveries(b, db.URL) })
	}
}

func benchDeliveries(b *testing.B, dbURL string) {
	db := newDeliveryBench(b, dbURL)
	ctx, st, ws := context.Background(), db.st, db.ws
	in, err := st.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "b", Kind: "custom", Status: domain.StatusActive}, store.IntegrationSecrets{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.CreateSubscription(ctx, domain.Subscription{WorkspaceID: ws.ID, URL: db.recv.URL, Enabled: true,
		SubscribedEvents: []string{domain.SubscribeMessages}}, auth.NewSigningSecret()); err != nil {
		b.Fatal(err)
	}
	const batch = 500
	for start := 0; start < b.N; start += batch {
		items := make([]store.IngestItem, 0, batch)
		for i := start; i < min(start+batch, b.N); i++ {
			items = append(items, store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "custom", Message: &domain.InboundMessage{
				ExternalID: fmt.Sprint("bm-", i), ThreadExternalID: fmt.Sprint("conv-", i%1000), Content: "benchmark message",
				ContentType: "text", SentAt: time.Now().UTC(), From: domain.Contact{ExternalID: fmt.Sprint("u", i%1000)}}})
		}
		if _, err := st.Ingest(ctx, items, db.app.Threads.Record); err != nil {
			b.Fatal(err)
		}
	}
	db.run(b)
}

// deliveryBench is a hub, not yet started, and a receiver on loopback that
// counts what it gets.
type deliveryBench struct {
	app  *core.App
	st   *store.Store
	ws   domain.Workspace
	recv *httptest.Server
	got  atomic.Int64
}

func newDeliveryBench(b *testing.B, dbURL string) *deliveryBench {
	db := &deliveryBench{}
	db.recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		db.got.Add(1)
	}))
	b.Cleanup(db.recv.Close)
	cfg := &config.Config{
		Addr: "127.0.0.1:0", DatabaseURL: dbURL, PluginDir: b.TempDir(), AllowPrivateTargets: true,
		RetrySchedule: []time.Duration{0, time.Second}, LogFormat: "text", ShutdownTimeout: 10 * time.Second,
		MaxBodyBytes: 1 << 20, DeliveryConcurrency: 64, DeliveryTimeout: 5 * time.Second,
		DeliveryTargetConcurrency: 64, TransformTimeout: 100 * time.Millisecond, TransformMemoryMB: 256, TransformRunners: 2,
	}
	ctx := context.Background()
	app, err := core.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	db.app, db.st = app, app.Store
	if db.ws, err = db.st.EnsureWorkspace(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	return db
}

// run starts the hub with the timer and reports deliveries/s once the
// receiver has b.N of them.
func (db *deliveryBench) run(b *testing.B) {
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	if err := db.app.Start(); err != nil {
		b.Fatal(err)
	}
	for db.got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
		if time.Since(start) > time.Minute {
			ds, _, _ := db.st.Deliveries(ctx, db.ws.ID, store.DeliveryFilter{Status: domain.DeliveryFailed}, domain.Page{Limit: 1})
			b.Fatalf("%d of %d delivered after a minute; failed: %+v", db.got.Load(), b.N, ds)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	db.app.Shutdown(sctx)
}

// BenchmarkTargetDeliveries measures deliveries to an integration's own
// target (agent replies over 1,000 conversations), rendered from templates,
// with and without a transform: the difference is the sandbox's cost at
// full delivery rate.
func BenchmarkTargetDeliveries(b *testing.B) {
	const script = `function transform(request, event) {
  request.headers["Idempotency-Key"] = event.messageId;
  request.body = { text: event["contact.name"] + ": " + event.content, conversation: event.conversationId };
  return request;
}`
	for _, db := range storetest.Databases(b) {
		b.Run(db.Name+"/templates", func(b *testing.B) { benchTargetDeliveries(b, db.URL, "") })
		b.Run(db.Name+"/transform", func(b *testing.B) { benchTargetDeliveries(b, db.URL, script) })
	}
}

func benchTargetDeliveries(b *testing.B, dbURL, script string) {
	db := newDeliveryBench(b, dbURL)
	ctx, st, ws := context.Background(), db.st, db.ws
	target, _ := json.Marshal(map[string]any{"method": "POST", "url": db.recv.URL + "/replies/<<conversationId>>",
		"body": []map[string]string{{"key": "text", "type": "variable", "value": "content"}}, "transform": script})
	in, err := st.CreateIntegration(ctx, domain.Integration{WorkspaceID: ws.ID, Name: "b", Kind: "custom", Status: domain.StatusActive,
		Delivery: target}, store.IntegrationSecrets{SigningSecret: auth.NewSigningSecret()})
	if err != nil {
		b.Fatal(err)
	}
	const convs = 1000
	items := make([]store.IngestItem, 0, convs)
	for i := range convs {
		items = append(items, store.IngestItem{WorkspaceID: ws.ID, IntegrationID: in.ID, Channel: "custom", Message: &domain.InboundMessage{
			ExternalID: fmt.Sprint("bm-", i), ThreadExternalID: fmt.Sprint("conv-", i), Content: "hello",
			ContentType: "text", SentAt: time.Now().UTC(), From: domain.Contact{ExternalID: fmt.Sprint("u", i), Name: "Jane"}}})
	}
	if _, err := st.Ingest(ctx, items, db.app.Threads.Record); err != nil {
		b.Fatal(err)
	}
	var list []domain.Conversation
	for cursor := ""; ; {
		page, next, err := st.Conversations(ctx, ws.ID, store.ConversationFilter{IntegrationID: in.ID}, domain.Page{Limit: 200, Cursor: cursor})
		if err != nil {
			b.Fatal(err)
		}
		list = append(list, page...)
		if cursor = next; next == "" {
			break
		}
	}
	// Queue b.N replies from 8 writers; the worker is not started yet.
	var next atomic.Int64
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				if _, _, err := db.app.Threads.Reply(ctx, list[i%int64(len(list))], domain.Route{Channel: "custom"}, fmt.Sprint("reply ", i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	db.run(b)
}

// BenchmarkEndToEnd sends b.N inbound custom-webhook messages at a steady
// 200 a second, over 50 conversations, to a hub whose workspace has a
// webhook subscription, and times each message from the moment it was due
// to be sent until the subscription's receiver has it: the inbound request,
// the commit, the claim, the signed delivery. Latency is counted from the
// due time, so a stalled sender cannot hide a slow hub. bare-http is the
// floor: the same generator posting straight to the receiver.
//
//	go test -run '^$' -bench EndToEnd -benchtime 4000x ./core/
func BenchmarkEndToEnd(b *testing.B) {
	b.Run("bare-http", func(b *testing.B) {
		recv := newArrivals(b.N)
		srv := httptest.NewServer(recv)
		defer srv.Close()
		paced(b, recv, func(c *http.Client, i int) error {
			return post(c, srv.URL, "", fmt.Sprintf(`{"content":"e2e-%d"}`, i))
		})
	})
	for _, db := range storetest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			recv := newArrivals(b.N)
			srv := httptest.NewServer(recv)
			defer srv.Close()
			h := apptest.Start(b, db.URL, func(c *config.Config) {
				c.DeliveryConcurrency, c.DeliveryTargetConcurrency, c.MaxBodyBytes = 64, 16, 1<<20
				c.RetrySchedule = []time.Duration{0, time.Second}
			})
			in := h.CreateIntegration(map[string]any{"name": "e2e", "kind": "custom"})
			if r := h.Admin("POST", "/api/webhooks/", map[string]any{"url": srv.URL, "subscribedEvents": []string{"messages"}}); r.Status != http.StatusCreated {
				b.Fatalf("subscription: %d %s", r.Status, r.Body)
			}
			url := h.URL + "/api/webhooks/custom/" + in.ID
			paced(b, recv, func(c *http.Client, i int) error {
				return post(c, url, in.APIKey, fmt.Sprintf(`{"messageId":"m-%d","conversationId":"c-%d","from":{"externalId":"u-%d","name":"Jane Smith"},"content":"e2e-%d"}`, i, i%50, i%50, i))
			})
		})
	}
}

// arrivals records when each numbered message reached the receiver.
type arrivals struct {
	at   []atomic.Int64 // unix nanoseconds; 0 until it arrives
	seen atomic.Int64
}

func newArrivals(n int) *arrivals { return &arrivals{at: make([]atomic.Int64, n)} }

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixNano()
	var body struct {
		Content string
		Data    struct{ MessageBody string }
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	text := body.Content + body.Data.MessageBody
	var i int
	if _, err := fmt.Sscanf(text, "e2e-%d", &i); err == nil && i >= 0 && i < len(a.at) && a.at[i].CompareAndSwap(0, now) {
		a.seen.Add(1)
	}
	io.WriteString(w, "ok")
}

func post(c *http.Client, url, key, body string) error {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answer %d", resp.StatusCode)
	}
	return nil
}

// paced sends b.N messages, message i due at start + i×5 ms, from enough
// senders that none is late waiting for another's answer, then waits for
// every arrival and reports the latency percentiles.
func paced(b *testing.B, recv *arrivals, send func(c *http.Client, i int) error) {
	const rate = 200
	interval := time.Second / rate
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	due := make([]time.Time, b.N)
	acked := make([]time.Duration, b.N)
	jobs := make(chan int, b.N)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := range jobs {
				time.Sleep(time.Until(due[i]))
				if err := send(c, i); err != nil {
					select {
					case errs <- fmt.Errorf("message %d: %w", i, err):
					default:
					}
				}
				acked[i] = time.Since(due[i])
			}
		})
	}
	b.ResetTimer()
	start := time.Now().Add(10 * time.Millisecond)
	for i := range b.N {
		due[i] = start.Add(time.Duration(i) * interval)
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	for deadline := time.Now().Add(30 * time.Second); recv.seen.Load() < int64(b.N); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d arrived", recv.seen.Load(), b.N)
		}
	}
	b.StopTimer()
	lat := make([]time.Duration, b.N)
	for i := range lat {
		lat[i] = time.Duration(recv.at[i].Load() - due[i].UnixNano())
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	slices.Sort(acked)
	b.ReportMetric(ms(acked[len(acked)*99/100]), "answer-p99-ms")
	b.ReportMetric(0, "ns/op")
}

package inbound

import (
	"context"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/plugins/host"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// maxPluginBatch bounds the requests sent to a plugin in one call.
const maxPluginBatch = 64

// batchHandler is a channel that takes several requests in one call; the
// hub's plugin clients are.
type batchHandler interface {
	HandleInboundBatch(ctx context.Context, reqs []*sdk.InboundRequest) []host.Outcome
}

// pluginBatcher coalesces concurrent calls to one kind's plugin: a request
// that arrives while a call is in flight joins the next one, so under load
// one round trip serves many requests, and alone a request goes at once.
type pluginBatcher struct {
	kind    string
	plugins Plugins
	timeout time.Duration
	in      chan *pluginCall

	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
}

type pluginCall struct {
	req  *sdk.InboundRequest
	done chan host.Outcome
}

func newPluginBatcher(kind string, p Plugins, timeout time.Duration) *pluginBatcher {
	b := &pluginBatcher{kind: kind, plugins: p, timeout: timeout, in: make(chan *pluginCall, maxPluginBatch*4)}
	// Two loops: one fills a batch while the other's call is in flight.
	for range 2 {
		b.wg.Add(1)
		go b.loop()
	}
	return b
}

// call sends one request and waits for its outcome.
func (b *pluginBatcher) call(req *sdk.InboundRequest) (*sdk.InboundResult, error) {
	c := &pluginCall{req: req, done: make(chan host.Outcome, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, host.ErrUnavailable
	}
	b.in <- c
	b.mu.RUnlock()
	out := <-c.done
	return out.Result, out.Err
}

func (b *pluginBatcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *pluginBatcher) loop() {
	defer b.wg.Done()
	batch := make([]*pluginCall, 0, maxPluginBatch)
	reqs := make([]*sdk.InboundRequest, 0, maxPluginBatch)
	for first := range b.in {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxPluginBatch {
			select {
			case c, ok := <-b.in:
				if !ok {
					break fill
				}
				batch = append(batch, c)
			default:
				break fill
			}
		}
		reqs = reqs[:0]
		for _, c := range batch {
			reqs = append(reqs, c.req)
		}
		for i, out := range b.send(reqs) {
			batch[i].done <- out
		}
	}
}

func (b *pluginBatcher) send(reqs []*sdk.InboundRequest) []host.Outcome {
	ch, err := b.plugins.Channel(b.kind)
	if err != nil {
		out := make([]host.Outcome, len(reqs))
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	if bh, ok := ch.(batchHandler); ok {
		return bh.HandleInboundBatch(ctx, reqs)
	}
	out := make([]host.Outcome, len(reqs))
	for i, r := range reqs {
		out[i].Result, out[i].Err = ch.HandleInbound(ctx, r)
	}
	return out
}

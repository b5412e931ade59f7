// Package threads is the home of the threading rules (see Service) and of
// the batching commit writer that records inbound traffic with them: a
// BatchWriter gathers concurrent requests into batches, each committed in
// one transaction, so a request is answered only once it is durable and
// commits are shared under load.
package threads

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/store"
)

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("threads: writer closed")

// BatchWriter commits ingest items in batches, each recorded by record
// (the threading rules) in one transaction.
type BatchWriter struct {
	store    *store.Store
	record   store.Recorder
	log      *slog.Logger
	maxBatch int
	live     *live.Hub
	in       chan *request
	wg       sync.WaitGroup
	mu       sync.RWMutex
	closed   bool

	batchSize prometheus.Histogram
}

type request struct {
	item store.IngestItem
	done chan result
}

type result struct {
	res store.IngestResult
	err error
}

// Options tune a BatchWriter.
type Options struct {
	// MaxBatch bounds the items committed together.
	MaxBatch int
	// Loops is the number of concurrent committers: 1 on SQLite, a few on PostgreSQL.
	Loops int
	// Live, if set, is told of the conversations each commit changed.
	Live *live.Hub
}

// NewBatchWriter starts a writer's commit loops; record decides what each
// batch becomes.
func NewBatchWriter(s *store.Store, record store.Recorder, log *slog.Logger, reg prometheus.Registerer, opts Options) *BatchWriter {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.Loops <= 0 {
		opts.Loops = 1
	}
	w := &BatchWriter{
		store:    s,
		record:   record,
		log:      log,
		maxBatch: opts.MaxBatch,
		live:     opts.Live,
		in:       make(chan *request, opts.MaxBatch*4),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_ingest_batch_size",
			Help:    "Inbound requests committed per transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
	}
	if reg != nil {
		reg.MustRegister(w.batchSize)
	}
	for range opts.Loops {
		w.wg.Add(1)
		go w.loop()
	}
	return w
}

// Write records one item and returns once it is committed.
func (w *BatchWriter) Write(ctx context.Context, item store.IngestItem) (store.IngestResult, error) {
	r := &request{item: item, done: make(chan result, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return store.IngestResult{}, ErrClosed
	}
	w.in <- r
	w.mu.RUnlock()
	// Once queued the item will be committed or fail; wait for it even if
	// the client leaves, so the answer never races the commit.
	out := <-r.done
	return out.res, out.err
}

// Close commits everything queued and stops the loops.
func (w *BatchWriter) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.mu.Unlock()
	w.wg.Wait()
}

func (w *BatchWriter) loop() {
	defer w.wg.Done()
	var ing *store.Ingester
	defer func() {
		if ing != nil {
			ing.Close()
		}
	}()
	batch := make([]*request, 0, w.maxBatch)
	items := make([]store.IngestItem, 0, w.maxBatch)
	for first := range w.in {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < w.maxBatch {
			select {
			case r, ok := <-w.in:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		items = items[:0]
		for _, r := range batch {
			items = append(items, r.item)
		}
		w.batchSize.Observe(float64(len(batch)))
		var err error
		if ing == nil {
			ing, err = w.store.NewIngester(context.Background())
		}
		if err != nil {
			w.log.Error("ingest batch failed", "items", len(items), "err", err)
			for _, r := range batch {
				r.done <- result{err: err}
			}
			continue
		}
		// One item the database refuses fails alone: the others of its
		// batch, of any workspace, are committed without it.
		res, errs := ing.IngestEach(context.Background(), items, w.record)
		w.publish(items, res, errs)
		failed := 0
		for i, r := range batch {
			if errs[i] != nil {
				failed++
				r.done <- result{err: errs[i]}
				continue
			}
			r.done <- result{res: res[i]}
		}
		if failed > 0 {
			w.log.Error("ingest items failed", "items", len(items), "failed", failed, "err", firstError(errs))
		}
		if failed == len(items) {
			// The connection may be broken: take a fresh one next time.
			ing.Close()
			ing = nil
		}
	}
}

// Commit records a batch of items of the caller's own (the replay of kept
// requests) in one transaction, as the loops do, and tells live of it.
func (w *BatchWriter) Commit(ctx context.Context, items []store.IngestItem) ([]store.IngestResult, error) {
	res, err := w.store.Ingest(ctx, items, w.record)
	if err == nil {
		w.publish(items, res, nil)
	}
	return res, err
}

// publish tells live of the conversations that committed items stored
// messages in.
func (w *BatchWriter) publish(items []store.IngestItem, res []store.IngestResult, errs []error) {
	if w.live == nil {
		return
	}
	var changes []live.Change
	for i := range res {
		if (errs != nil && errs[i] != nil) || res[i].MessageID == "" || res[i].ConversationID == "" {
			continue
		}
		changes = append(changes, live.Change{WorkspaceID: items[i].WorkspaceID, ConversationID: res[i].ConversationID})
	}
	w.live.Publish(changes...)
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Recorder is what decides what each batch becomes, for callers that
// commit a batch of their own (the replay of kept requests).
func (w *BatchWriter) Recorder() store.Recorder { return w.record }

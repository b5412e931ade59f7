// Package delivery sends events to customers' systems: durable, retried on
// a schedule, every attempt recorded, signed with Standard Webhooks headers.
package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
)

// maxExcerpt bounds the response body kept with an attempt.
const maxExcerpt = 1024

// Options configure a Worker.
type Options struct {
	// ID names this worker in claims; unique per process.
	ID           string
	Schedule     []time.Duration
	Concurrency  int
	Timeout      time.Duration
	AllowPrivate bool
	PollInterval time.Duration
	UserAgent    string
}

// Worker claims due deliveries and sends them.
type Worker struct {
	store  *store.Store
	log    *slog.Logger
	opts   Options
	client *http.Client
	wake   chan struct{}
	wg     sync.WaitGroup

	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
}

// NewWorker makes a worker; Run starts it.
func NewWorker(s *store.Store, log *slog.Logger, reg prometheus.Registerer, opts Options) *Worker {
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "Switchboard"
	}
	w := &Worker{
		store:  s,
		log:    log,
		opts:   opts,
		client: NewHTTPClient(opts.AllowPrivate, opts.Timeout),
		wake:   make(chan struct{}, 1),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_delivery_attempts_total",
			Help: "Delivery attempts by outcome.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_delivery_attempt_seconds",
			Help:    "Duration of delivery attempts.",
			Buckets: prometheus.DefBuckets,
		}),
	}
	if reg != nil {
		reg.MustRegister(w.attempts, w.latency)
	}
	return w
}

// Notify tells the worker new deliveries may be due.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run claims and sends deliveries until ctx ends, then waits for the
// attempts in flight.
func (w *Worker) Run(ctx context.Context) {
	sem := make(chan struct{}, w.opts.Concurrency)
	lease := w.opts.Timeout + 30*time.Second
	defer w.wg.Wait()
	for {
		free := cap(sem) - len(sem)
		var claimed []store.ClaimedDelivery
		if free > 0 {
			var err error
			claimed, err = w.store.ClaimDeliveries(ctx, w.opts.ID, free, lease)
			if err != nil && ctx.Err() == nil {
				w.log.Error("claim deliveries", "err", err)
			}
		}
		for _, d := range claimed {
			sem <- struct{}{}
			w.wg.Add(1)
			go func() {
				defer func() { <-sem; w.wg.Done() }()
				w.attempt(context.WithoutCancel(ctx), d)
				w.Notify()
			}()
		}
		if len(claimed) == free && free > 0 {
			continue // there may be more due right now
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-time.After(w.opts.PollInterval):
		}
	}
}

// attempt sends one delivery and records the outcome.
func (w *Worker) attempt(ctx context.Context, d store.ClaimedDelivery) {
	n := d.AttemptCount + 1
	start := time.Now()
	a := domain.Attempt{N: n, At: start.UTC()}
	retryAfter, err := w.send(ctx, d, &a)
	a.DurationMs = time.Since(start).Milliseconds()
	w.latency.Observe(time.Since(start).Seconds())

	o := store.AttemptOutcome{Attempt: a}
	switch {
	case err == nil:
		o.Status = domain.DeliverySucceeded
		w.attempts.WithLabelValues("succeeded").Inc()
	case n >= len(w.opts.Schedule):
		a.Error = err.Error()
		o.Attempt.Error = a.Error
		o.Status = domain.DeliveryDead
		w.attempts.WithLabelValues("dead").Inc()
	default:
		o.Attempt.Error = err.Error()
		o.Status = domain.DeliveryPending
		delay := w.opts.Schedule[n]
		if retryAfter > delay {
			delay = retryAfter
		}
		o.NextAttemptAt = time.Now().UTC().Add(delay)
		w.attempts.WithLabelValues("failed").Inc()
	}
	held, rerr := w.store.RecordAttempt(ctx, d, o)
	if rerr != nil {
		w.log.Error("record delivery attempt", "delivery", d.ID, "err", rerr)
		return
	}
	if !held {
		w.log.Warn("delivery claim expired before the attempt was recorded", "delivery", d.ID)
	}
	if o.Status != domain.DeliverySucceeded {
		w.log.Info("delivery attempt failed", "delivery", d.ID, "attempt", n, "status", o.Status, "err", o.Attempt.Error)
	}
}

// send makes the HTTP request. It returns the delay a Retry-After asked for.
func (w *Worker) send(ctx context.Context, d store.ClaimedDelivery, a *domain.Attempt) (time.Duration, error) {
	in, err := w.store.Integration(ctx, d.WorkspaceID, d.IntegrationID)
	if err != nil {
		return 0, fmt.Errorf("integration: %w", err)
	}
	if in.OutboundURL == "" {
		return 0, errors.New("integration has no outbound URL")
	}
	if err := ValidateTarget(in.OutboundURL, w.opts.AllowPrivate); err != nil {
		return 0, err
	}
	body, err := defaultBody(d.Payload)
	if err != nil {
		return 0, err
	}
	secrets, err := w.store.IntegrationSigningSecrets(ctx, d.WorkspaceID, d.IntegrationID)
	if err != nil {
		return 0, fmt.Errorf("signing secret: %w", err)
	}
	ts := time.Now()
	sig, err := Sign(d.ID, ts, body, secrets.Current, secrets.Previous)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.OutboundURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", w.opts.UserAgent)
	req.Header.Set(HeaderID, d.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("request failed: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	a.StatusCode = resp.StatusCode
	a.ResponseExcerpt = validUTF8(excerpt)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	return retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("target answered %d", resp.StatusCode)
}

// defaultBody is the custom webhook's reply body: {conversationId, content}.
func defaultBody(payload []byte) ([]byte, error) {
	var p struct {
		ConversationID string `json:"conversationId"`
		Content        string `json:"content"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("delivery payload: %w", err)
	}
	return json.Marshal(p)
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

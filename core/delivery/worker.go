// Package delivery sends events to customers' systems: durable, retried on
// a schedule, ordered per conversation, every attempt recorded, signed with
// Standard Webhooks headers.
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
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http/httpguts"

	"github.com/switchboardhq/switchboard/core/cache"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/scripts"
)

// maxExcerpt bounds the response body kept with an attempt.
const maxExcerpt = 1024

// maxLocation bounds the Location of a redirect kept in an attempt's error,
// maxError the whole error.
const (
	maxLocation = 512
	maxError    = 1024
)

// Options configure a Worker.
type Options struct {
	// ID names this worker in claims; unique per process.
	ID       string
	Schedule []time.Duration
	// Concurrency bounds attempts in flight in this process, TargetConcurrency
	// those to any one target.
	Concurrency       int
	TargetConcurrency int
	Timeout           time.Duration
	// Guard decides which addresses may be reached; nil refuses every
	// address outside the public internet.
	Guard *Guard
	// DisableAfter disables a target that has failed continuously this long (0: never).
	DisableAfter time.Duration
	PollInterval time.Duration
	UserAgent    string
	// TransformTimeout is a transform's own time limit; the worker waits
	// for a run at most transformWait(TransformTimeout).
	TransformTimeout time.Duration
	// WorkspaceTransforms bounds the transform runs one workspace may have
	// in flight in this process (default: half of Concurrency), so that one
	// workspace's transforms cannot occupy every sender.
	WorkspaceTransforms int
	// Channels are the plugins that send through providers; nil sends nothing.
	Channels Channels
}

// Channels is what sending through a provider needs of the plugin host.
type Channels interface {
	ByChannel(channel string) (sdk.Info, bool)
	Channel(kind string) (sdk.Channel, error)
}

// transformWait bounds how long a sender waits for one transform run,
// queueing for a runner included: ten times the transform's time limit,
// between one and ten seconds. A run not finished by then is retried along
// the retry schedule, like any temporary failure, and frees its sender.
func transformWait(timeout time.Duration) time.Duration {
	return min(max(10*timeout, time.Second), 10*time.Second)
}

// busyDelay is how soon a delivery put back because its workspace has as
// many transforms in flight as it may is due again.
const busyDelay = 500 * time.Millisecond

// Worker claims due deliveries and sends them.
type Worker struct {
	store   *store.Store
	planner *Planner
	engine  *scripts.Engine
	log     *slog.Logger
	opts    Options
	client  *http.Client
	wake    chan struct{}

	mu      sync.Mutex
	targets map[string]chan struct{}
	// transforms holds each workspace's transform slots while a sender
	// uses or waits for one; an entry goes when no sender does, so the map
	// holds at most Concurrency entries.
	transforms map[string]*transformSlots

	secrets     *cache.TTL[store.SigningSecrets]
	subs        *cache.TTL[subscriptionTarget]
	connections *cache.TTL[domain.Connection]
	// callbackBase is the hub's public base URL, for providers' status callbacks.
	callbackBase atomic.Pointer[string]

	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
}

type subscriptionTarget struct {
	sub    domain.Subscription
	secret string
}

// NewWorker makes a worker; Run starts it.
func NewWorker(s *store.Store, p *Planner, engine *scripts.Engine, log *slog.Logger, reg prometheus.Registerer, opts Options) *Worker {
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "Switchboard"
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 64
	}
	if opts.TargetConcurrency <= 0 {
		opts.TargetConcurrency = opts.Concurrency
	}
	if opts.Guard == nil {
		opts.Guard = NewGuard(false)
	}
	if opts.WorkspaceTransforms <= 0 {
		opts.WorkspaceTransforms = max(1, opts.Concurrency/2)
	}
	w := &Worker{
		store:   s,
		planner: p,
		engine:  engine,
		log:     log,
		opts:    opts,
		client:  NewHTTPClient(opts.Guard, opts.Timeout),
		wake:    make(chan struct{}, 1),
		targets: map[string]chan struct{}{},

		transforms:  map[string]*transformSlots{},
		secrets:     cache.NewTTL[store.SigningSecrets](time.Second, 10_000),
		subs:        cache.NewTTL[subscriptionTarget](time.Second, 10_000),
		connections: cache.NewTTL[domain.Connection](time.Second, 10_000),
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

// Run claims and sends deliveries until ctx ends, then releases the claims
// it has not started, finishes the attempts in flight and records them.
//
// A fixed pool of senders takes deliveries from a local queue. The queue is
// refilled by claiming in batches whenever it falls below half its size, so
// claims (one write transaction each) stay few and large under load.
func (w *Worker) Run(ctx context.Context) {
	outcomes := make(chan store.AttemptOutcome, w.opts.Concurrency)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		w.record(outcomes)
	}()

	// A claim outlives the attempt's time limit, its wait in the queue and its
	// recording; a process that dies leaves its claims to others once they run out.
	lease := max(3*w.opts.Timeout, 15*time.Second)
	queue := make(chan store.ClaimedDelivery, w.opts.Concurrency)
	var senders sync.WaitGroup
	for range w.opts.Concurrency {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for d := range queue {
				if o, ok := w.attempt(context.WithoutCancel(ctx), d); ok {
					outcomes <- o
				}
			}
		}()
	}
	sweep := time.NewTicker(10 * time.Second)
	defer sweep.Stop()
	w.releaseHeads(ctx)
	for ctx.Err() == nil {
		// Claim when the queue is at most half full: big batches, no idle senders.
		if room := cap(queue) - len(queue); room >= cap(queue)/2 {
			// A claim is not cancelled half-way: one whose answer was lost
			// would leave its rows unsent until the lease ran out.
			claimed, err := w.store.ClaimDeliveries(context.WithoutCancel(ctx), w.opts.ID, room, lease)
			if err != nil && ctx.Err() == nil {
				w.log.Error("claim deliveries", "err", err)
			}
			for _, d := range claimed {
				queue <- d
			}
			if len(claimed) == room {
				continue // there may be more due right now
			}
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-sweep.C:
			w.releaseHeads(ctx)
		case <-time.After(w.opts.PollInterval):
		}
	}
	// Claims not yet attempted go back at once, rather than wait out their
	// lease: another process, or this one's successor, sends them.
	var unsent []string
drain:
	for {
		select {
		case d := <-queue:
			unsent = append(unsent, d.ID)
		default:
			break drain
		}
	}
	close(queue)
	if len(unsent) > 0 {
		if err := w.store.ReleaseClaims(context.WithoutCancel(ctx), w.opts.ID, unsent); err != nil {
			w.log.Error("release unsent claims", "count", len(unsent), "err", err)
		} else {
			w.log.Info("released unsent claims", "count", len(unsent))
		}
	}
	senders.Wait()
	close(outcomes)
	<-recorded
}

// releaseHeads repairs holds left by concurrent writers (see store.ReleaseHeads).
func (w *Worker) releaseHeads(ctx context.Context) {
	n, err := w.store.ReleaseHeads(ctx)
	if err != nil && ctx.Err() == nil {
		w.log.Error("release delivery heads", "err", err)
	}
	if n > 0 {
		w.log.Info("released held deliveries", "count", n)
		w.Notify()
	}
}

// record commits attempt outcomes in batches: one transaction for every
// outcome that arrived while the previous batch was being written.
func (w *Worker) record(outcomes <-chan store.AttemptOutcome) {
	batch := make([]store.AttemptOutcome, 0, 256)
	for o := range outcomes {
		batch = append(batch[:0], o)
	fill:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-outcomes:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		held, disabled, err := w.store.RecordAttempts(context.Background(), batch, w.opts.DisableAfter)
		if err != nil {
			// The claims expire and the deliveries are attempted again: at least once.
			w.log.Error("record delivery attempts", "count", len(batch), "err", err)
			if held == nil {
				continue
			}
			// Some of the batch was recorded, one by one (see RecordAttempts).
		}
		var next time.Time
		for i, ok := range held {
			if !ok {
				if err != nil {
					continue // not recorded: told above
				}
				w.log.Warn("delivery claim expired before the attempt was recorded", "delivery", batch[i].Delivery.ID)
				continue
			}
			if at := batch[i].NextAttemptAt; !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
		if !next.IsZero() {
			// Wake for the earliest retry this batch scheduled, rather than at the next poll.
			time.AfterFunc(time.Until(next)+5*time.Millisecond, w.Notify)
		}
		for _, d := range disabled {
			w.log.Warn("delivery target disabled after failing continuously", "target", d.TargetType, "id", d.ID, "failing_since", d.FailingSince)
			w.planner.ForgetIntegration(d.IntegrationID)
			w.planner.ForgetWorkspace(d.WorkspaceID)
			w.subs.Drop(d.ID)
		}
		w.Notify() // finished deliveries may release later ones of their conversation
	}
}

// sendError is a failed attempt; permanent ones are not retried.
type sendError struct {
	err       error
	permanent bool
	// busy says the attempt was not made: its workspace has as many
	// transforms in flight as it may. It is put back, not recorded.
	busy         bool
	targetFailed bool
	retryAfter   time.Duration
}

func (e *sendError) Error() string { return e.err.Error() }

func permanent(format string, args ...any) *sendError {
	return &sendError{err: fmt.Errorf(format, args...), permanent: true}
}

// attempt sends one delivery and decides what follows. It reports false
// when no attempt was made and the delivery was put back instead.
func (w *Worker) attempt(ctx context.Context, d store.ClaimedDelivery) (store.AttemptOutcome, bool) {
	release, ok := w.acquireTarget(d)
	if !ok {
		// Its target has as many attempts in flight as it may: a slow
		// target must not hold this sender, which another tenant's
		// delivery may need.
		w.attempts.WithLabelValues("busy").Inc()
		w.putBack(ctx, d)
		return store.AttemptOutcome{}, false
	}
	defer release()
	n := d.AttemptCount + 1
	start := time.Now()
	a := domain.Attempt{N: n, At: start.UTC()}
	var prov providerSent
	var skipped bool
	var serr *sendError
	if d.TargetType == domain.TargetProvider {
		serr = w.sendProvider(ctx, d, &a, &prov)
	} else {
		skipped, serr = w.send(ctx, d, &a)
	}
	if serr != nil && serr.busy {
		w.attempts.WithLabelValues("busy").Inc()
		w.putBack(ctx, d)
		return store.AttemptOutcome{}, false
	}
	a.DurationMs = time.Since(start).Milliseconds()
	w.latency.Observe(time.Since(start).Seconds())

	o := store.AttemptOutcome{Delivery: d, Attempt: a, ProviderMessageID: prov.externalID, ConnectionID: prov.connectionID}
	switch {
	case skipped:
		o.Status = domain.DeliverySkipped
		w.attempts.WithLabelValues("skipped").Inc()
	case serr == nil:
		o.Status, o.TargetOK = domain.DeliverySucceeded, true
		w.attempts.WithLabelValues("succeeded").Inc()
	case serr.permanent:
		o.Status = domain.DeliveryFailed
		o.Attempt.Error = clip(serr.Error(), maxError)
		w.attempts.WithLabelValues("failed").Inc()
	default:
		o.Attempt.Error = clip(serr.Error(), maxError)
		o.TargetFailed = serr.targetFailed
		if n >= len(w.opts.Schedule) {
			o.Status = domain.DeliveryDead
			w.attempts.WithLabelValues("dead").Inc()
		} else {
			o.Status = domain.DeliveryPending
			delay := max(w.opts.Schedule[n], serr.retryAfter)
			o.NextAttemptAt = time.Now().UTC().Add(delay)
			w.attempts.WithLabelValues("retry").Inc()
		}
	}
	if o.Status != domain.DeliverySucceeded && o.Status != domain.DeliverySkipped {
		w.log.Info("delivery attempt failed", "delivery", d.ID, "attempt", n, "status", o.Status, "err", o.Attempt.Error)
	}
	return o, true
}

// transformSlots are one workspace's transform runs in flight.
type transformSlots struct {
	sem   chan struct{}
	users int // senders holding or waiting for a slot
}

// slotWait is how long a sender waits for a slot of its workspace before it
// puts the delivery back: long enough that fast scripts never give one
// back, short enough that a workspace whose scripts stall holds few senders.
const slotWait = 50 * time.Millisecond

// acquireTransform takes one of the workspace's transform slots, waiting
// slotWait at most.
func (w *Worker) acquireTransform(workspaceID string) (func(), bool) {
	w.mu.Lock()
	sl := w.transforms[workspaceID]
	if sl == nil {
		sl = &transformSlots{sem: make(chan struct{}, w.opts.WorkspaceTransforms)}
		w.transforms[workspaceID] = sl
	}
	sl.users++
	w.mu.Unlock()
	leave := func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if sl.users--; sl.users == 0 {
			delete(w.transforms, workspaceID)
		}
	}
	select {
	case sl.sem <- struct{}{}:
	default:
		t := time.NewTimer(slotWait)
		defer t.Stop()
		select {
		case sl.sem <- struct{}{}:
		case <-t.C:
			leave()
			return nil, false
		}
	}
	return func() {
		<-sl.sem
		leave()
	}, true
}

// putBack returns a claimed delivery unattempted, due again after busyDelay.
func (w *Worker) putBack(ctx context.Context, d store.ClaimedDelivery) {
	if err := w.store.DeferClaims(ctx, w.opts.ID, []string{d.ID}, time.Now().Add(busyDelay)); err != nil {
		// The claim runs out and the delivery is attempted then.
		w.log.Error("put back a delivery", "delivery", d.ID, "err", err)
	}
	time.AfterFunc(busyDelay+5*time.Millisecond, w.Notify)
}

// acquireTarget takes a slot of the delivery's target, waiting slotWait at
// most; it reports false when none came free.
func (w *Worker) acquireTarget(d store.ClaimedDelivery) (func(), bool) {
	key := d.TargetType + ":" + d.IntegrationID
	switch d.TargetType {
	case domain.TargetSubscription:
		key = d.TargetType + ":" + d.SubscriptionID
	case domain.TargetProvider:
		// Auto-replies belong to no integration: keep workspaces apart.
		key = d.TargetType + ":" + d.WorkspaceID + ":" + d.IntegrationID
	}
	w.mu.Lock()
	sem, ok := w.targets[key]
	if !ok {
		sem = make(chan struct{}, w.opts.TargetConcurrency)
		w.targets[key] = sem
	}
	w.mu.Unlock()
	select {
	case sem <- struct{}{}:
	default:
		t := time.NewTimer(slotWait)
		defer t.Stop()
		select {
		case sem <- struct{}{}:
		case <-t.C:
			return nil, false
		}
	}
	return func() { <-sem }, true
}

// outgoing is a request ready to sign and send.
// minHiddenLen is the shortest extraHeaders value masked in an echoed
// answer: shorter ones ("1", "true") are flags, and masking them would
// garble the excerpt.
const minHiddenLen = 6

type outgoing struct {
	method  string
	url     string
	headers map[string]string
	body    []byte
	secrets []string
	// hidden are credentials the request carries, masked wherever the
	// target's answer echoes them back.
	hidden []string
}

// send prepares and makes the HTTP request. It reports a skip by the transform.
func (w *Worker) send(ctx context.Context, d store.ClaimedDelivery, a *domain.Attempt) (bool, *sendError) {
	var out *outgoing
	var serr *sendError
	switch d.TargetType {
	case domain.TargetSubscription:
		out, serr = w.prepareSubscription(ctx, d)
	default:
		var skipped bool
		out, skipped, serr = w.prepareIntegration(ctx, d, a)
		if skipped {
			return true, nil
		}
	}
	if serr != nil {
		return false, serr
	}
	if serr = w.do(ctx, d, out, a); serr != nil && len(out.hidden) > 0 {
		// What the target or the network said (a redirect's Location, a
		// malformed header) may quote the credentials back.
		serr.err = errors.New(RedactSecrets(serr.err.Error(), out.hidden))
	}
	return false, serr
}

func (w *Worker) prepareIntegration(ctx context.Context, d store.ClaimedDelivery, a *domain.Attempt) (*outgoing, bool, *sendError) {
	it, err := w.planner.integration(ctx, d.WorkspaceID, d.IntegrationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, permanent("integration was deleted")
	}
	if err != nil {
		return nil, false, &sendError{err: fmt.Errorf("load integration: %w", err)}
	}
	if it.target == nil {
		return nil, false, permanent("integration has no delivery target")
	}
	if it.disabled {
		return nil, false, permanent("target is disabled; update the integration's delivery to enable it")
	}
	var vars map[string]string
	if err := json.Unmarshal(d.Payload, &vars); err != nil {
		return nil, false, permanent("delivery payload: %v", err)
	}
	if vars["direction"] == "" {
		// Queued before payloads said it: an agent's reply is the only
		// outbound event delivered to an integration's target.
		vars["direction"] = domain.Inbound
		if d.EventType == EventMessageSent {
			vars["direction"] = domain.Outbound
		}
	}
	req := it.target.Render(vars)
	if src := it.target.Transform; src != "" {
		release, ok := w.acquireTransform(d.WorkspaceID)
		if !ok {
			return nil, false, &sendError{err: errors.New("transform: too many of the workspace's transforms in flight"), busy: true}
		}
		runCtx, cancel := context.WithTimeout(ctx, transformWait(w.opts.TransformTimeout))
		res := w.engine.Run(scripts.WithOwner(runCtx, d.WorkspaceID), src, req, stringMapAny(vars))
		cancel()
		release()
		// The transform saw the real credentials; what it printed or threw
		// is kept with the attempt and shown by the API, so without them.
		secrets := it.target.SecretValues()
		a.Logs = res.Logs
		if len(secrets) > 0 {
			for i, l := range a.Logs {
				a.Logs[i] = RedactSecrets(l, secrets)
			}
		}
		if res.Err != nil {
			serr := transformFailed(res.Err)
			if len(secrets) > 0 {
				serr.err = errors.New(RedactSecrets(serr.err.Error(), secrets))
			}
			return nil, false, serr
		}
		if res.Skipped {
			a.Logs = append(a.Logs, "skipped: the transform returned null")
			return nil, true, nil
		}
		req = res.Request
	}
	target, err := req.EncodeURL()
	if err != nil {
		return nil, false, permanent("url: %v", err)
	}
	out := &outgoing{method: req.Method, url: target, headers: req.Headers, hidden: it.target.SecretValues()}
	if req.Method == http.MethodPost || req.Method == http.MethodPut {
		if out.body, err = json.Marshal(req.Body); err != nil {
			return nil, false, permanent("body: %v", err)
		}
	}
	sec, ok := w.secrets.Get(d.IntegrationID)
	if !ok {
		if sec, err = w.store.IntegrationSigningSecrets(ctx, d.WorkspaceID, d.IntegrationID); err != nil {
			return nil, false, &sendError{err: fmt.Errorf("signing secret: %w", err)}
		}
		w.secrets.Put(d.IntegrationID, sec)
	}
	out.secrets = []string{sec.Current, sec.Previous}
	return out, false, nil
}

func (w *Worker) prepareSubscription(ctx context.Context, d store.ClaimedDelivery) (*outgoing, *sendError) {
	st, ok := w.subs.Get(d.SubscriptionID)
	if !ok {
		sub, err := w.store.Subscription(ctx, d.WorkspaceID, d.SubscriptionID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, permanent("subscription was deleted")
		}
		if err != nil {
			return nil, &sendError{err: fmt.Errorf("load subscription: %w", err)}
		}
		secret, err := w.store.SubscriptionSecret(ctx, d.SubscriptionID)
		if err != nil {
			return nil, &sendError{err: fmt.Errorf("load subscription: %w", err)}
		}
		st = subscriptionTarget{sub: sub, secret: secret}
		w.subs.Put(d.SubscriptionID, st)
	}
	if !st.sub.Enabled {
		return nil, permanent("subscription is disabled")
	}
	headers := make(map[string]string, len(st.sub.ExtraHeaders))
	var hidden []string
	for _, h := range st.sub.ExtraHeaders {
		headers[h.Name] = h.Value
		if len(h.Value) >= minHiddenLen {
			hidden = append(hidden, h.Value)
		}
	}
	return &outgoing{method: http.MethodPost, url: st.sub.URL, headers: headers, body: d.Payload, secrets: []string{st.secret}, hidden: hidden}, nil
}

// transformFailed is the attempt's error for a failed transform. The script's
// own failures are permanent, since running it again gives the same result;
// the sandbox's are retried.
func transformFailed(err error) *sendError {
	var se *scripts.Error
	if !errors.As(err, &se) {
		return permanent("transform: %v", err)
	}
	switch {
	case se.Temporary():
		return &sendError{err: fmt.Errorf("transform: %w", err)}
	case se.Limit():
		return permanent("%v", err) // "transform exceeded its memory limit …"
	default:
		return permanent("transform: %v", err)
	}
}

// ForgetSubscription drops a cached subscription after a change.
func (w *Worker) ForgetSubscription(id string) { w.subs.Drop(id) }

// ForgetIntegration drops cached integration state after a change.
func (w *Worker) ForgetIntegration(id string) {
	w.secrets.Drop(id)
	w.planner.ForgetIntegration(id)
}

// do signs and sends the request and reads the answer.
func (w *Worker) do(ctx context.Context, d store.ClaimedDelivery, out *outgoing, a *domain.Attempt) *sendError {
	u, err := url.Parse(out.url)
	if err != nil {
		return permanent("url: %v", err)
	}
	if err := w.opts.Guard.CheckURL(u); err != nil {
		return permanent("%v", err)
	}
	ts := time.Now()
	sig, err := Sign(d.ID, ts, out.body, out.secrets...)
	if err != nil {
		return permanent("%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	var body io.Reader
	if out.body != nil {
		body = bytes.NewReader(out.body)
	}
	req, err := http.NewRequestWithContext(ctx, out.method, u.String(), body)
	if err != nil {
		return permanent("request: %v", err)
	}
	for k, v := range out.headers {
		if !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
			// A variable rendered into a header carried CR, LF or a control
			// byte: sending again would fail the same way.
			return permanent("header %s: not a valid HTTP header name or value (CR, LF or a control byte)", printable(clip(k, 64)))
		}
		req.Header.Set(k, v)
	}
	if out.body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", w.opts.UserAgent)
	req.Header.Set(HeaderID, d.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := w.client.Do(req)
	if err != nil {
		cause := unwrapURLError(err)
		if errors.Is(err, ErrPrivateTarget) {
			return &sendError{err: cause, permanent: true}
		}
		return &sendError{err: fmt.Errorf("request failed: %w", cause), targetFailed: true}
	}
	defer resp.Body.Close()
	// Read as much past the excerpt as the longest credential, so one that
	// starts inside the excerpt is masked whole before the excerpt is cut.
	extra := 0
	if len(out.hidden) > 0 {
		extra = len(out.hidden[0])
		for _, h := range out.hidden {
			extra = max(extra, len(h))
		}
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, int64(maxExcerpt+extra)))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	a.StatusCode = resp.StatusCode
	a.ResponseExcerpt = RedactSecrets(validUTF8(excerpt), out.hidden)
	if n := maxExcerpt; len(a.ResponseExcerpt) > n {
		for n > 0 && !utf8.RuneStart(a.ResponseExcerpt[n]) {
			n--
		}
		a.ResponseExcerpt = a.ResponseExcerpt[:n]
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// The client follows no redirect: the target must be updated instead.
		msg := fmt.Sprintf("target answered %d, a redirect, which is not followed", resp.StatusCode)
		if loc := resp.Header.Get("Location"); loc != "" {
			msg = fmt.Sprintf("target answered %d, a redirect to %s, which is not followed", resp.StatusCode, printable(clip(loc, maxLocation)))
		}
		return &sendError{err: errors.New(msg), targetFailed: true, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	}
	return &sendError{err: fmt.Errorf("target answered %d", resp.StatusCode), targetFailed: true,
		retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
}

func stringMapAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. Absurd
// values are capped at a day.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 0), 24*time.Hour)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return withoutResolver(err)
}

// clip bounds text from a target (a header value, a transport error that
// quotes the answer) for an error message: at most n bytes, cut on a
// character boundary, valid UTF-8.
func clip(v string, n int) string {
	if len(v) <= n {
		return strings.ToValidUTF8(v, "\uFFFD")
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return strings.ToValidUTF8(v[:n], "\uFFFD") + "…"
}

// printable replaces control characters, so a header value cannot break
// the lines of a log or a page that shows it.
func printable(v string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, v)
}

func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

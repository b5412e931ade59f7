package fakeprovider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// TwilioAPIVersion is the API version in the fake Twilio's paths and in
// the ApiVersion parameter of its webhooks.
const TwilioAPIVersion = "2010-04-01"

// TwilioSignatureHeader carries a webhook's signature.
const TwilioSignatureHeader = "X-Twilio-Signature"

// Limits of the fake Twilio.
const (
	twilioMaxForm      = 1 << 20
	twilioMaxBodyChars = 1600
	twilioMaxReply     = 1 << 20
)

// TwilioOptions configures a fake Twilio.
type TwilioOptions struct {
	// AccountSID and AuthToken are the credentials the fake accepts on its
	// API and signs its webhooks with. Empty ones are generated; read them
	// back with Twilio.AccountSID and Twilio.AuthToken.
	AccountSID string
	AuthToken  string
	// Callbacks makes the fake report on every sent message that names a
	// StatusCallback: a signed post with status "sent", then one with
	// FinalStatus.
	Callbacks bool
	// FinalStatus is the last status reported: "delivered" by default;
	// "undelivered" or "failed" come with ErrorCode.
	FinalStatus string
	// ErrorCode goes with a final "undelivered" or "failed"; 30003
	// (unreachable destination handset) by default.
	ErrorCode int
	// CallbackDelay is the pause before each status callback; 10ms by default.
	CallbackDelay time.Duration
	// Client posts webhooks (callbacks and inbound messages). By default
	// one that gives up after 10 seconds and never follows redirects.
	Client *http.Client
}

// TwilioMessage is a message sent through the fake's Messages API.
type TwilioMessage struct {
	SID                 string   `json:"sid"`
	AccountSID          string   `json:"accountSid"`
	To                  string   `json:"to"`
	From                string   `json:"from,omitempty"`
	MessagingServiceSID string   `json:"messagingServiceSid,omitempty"`
	Body                string   `json:"body"`
	MediaURLs           []string `json:"mediaUrls,omitempty"`
	StatusCallback      string   `json:"statusCallback,omitempty"`
	// Status is the message's latest status: "queued", then each status
	// reported by a callback.
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// TwilioCallback is a status callback the fake posted.
type TwilioCallback struct {
	MessageSID string `json:"messageSid"`
	Status     string `json:"status"`
	URL        string `json:"url"`
	// StatusCode is the receiver's answer; 0 when the post failed, and
	// Error says why.
	StatusCode int       `json:"statusCode"`
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
}

// TwilioFailure is an error answer the fake gives a send instead of
// accepting it.
type TwilioFailure struct {
	// Status is the HTTP status, e.g. 400, 429 or 500.
	Status int
	// Code and Message are the error answer's; when empty they are chosen
	// from Status.
	Code    int
	Message string
	// RetryAfter, when set, is sent as the Retry-After header, e.g. "1".
	RetryAfter string
}

// Twilio is a fake Twilio: the Messages API, signed webhooks, and a small
// control API under /fake/ for demos. Its methods are safe for concurrent use.
type Twilio struct {
	opts   TwilioOptions
	mux    *http.ServeMux
	ctx    context.Context
	cancel context.CancelFunc
	// reporting counts the status callbacks still to post.
	reporting sync.WaitGroup

	mu        sync.Mutex
	messages  []TwilioMessage
	callbacks []TwilioCallback
	failures  []TwilioFailure
	// changed is closed, and replaced, whenever a message or callback is recorded.
	changed  chan struct{}
	listener net.Listener
	server   *http.Server
	closed   bool
}

// NewTwilio returns a fake Twilio. Serve it with Listen, or mount Handler
// on a server of your own.
func NewTwilio(opts TwilioOptions) *Twilio {
	if opts.AccountSID == "" {
		opts.AccountSID = "AC" + twilioRandomHex()
	}
	if opts.AuthToken == "" {
		opts.AuthToken = twilioRandomHex()
	}
	if opts.FinalStatus == "" {
		opts.FinalStatus = "delivered"
	}
	if opts.ErrorCode == 0 {
		opts.ErrorCode = 30003
	}
	if opts.CallbackDelay <= 0 {
		opts.CallbackDelay = 10 * time.Millisecond
	}
	if opts.Client == nil {
		opts.Client = &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	tw := &Twilio{opts: opts, ctx: ctx, cancel: cancel, changed: make(chan struct{})}
	tw.mux = http.NewServeMux()
	tw.mux.HandleFunc("POST /"+TwilioAPIVersion+"/Accounts/{sid}/Messages.json", tw.createMessage)
	tw.mux.HandleFunc("POST /fake/inbound", tw.controlInbound)
	tw.mux.HandleFunc("GET /fake/messages", tw.controlMessages)
	tw.mux.HandleFunc("GET /fake/callbacks", tw.controlCallbacks)
	return tw
}

// AccountSID is the account the fake accepts.
func (tw *Twilio) AccountSID() string { return tw.opts.AccountSID }

// AuthToken is the auth token the fake accepts and signs with.
func (tw *Twilio) AuthToken() string { return tw.opts.AuthToken }

// Handler serves the fake's API and control API.
func (tw *Twilio) Handler() http.Handler { return tw.mux }

// Listen serves the fake on addr, such as "127.0.0.1:0", until Close.
func (tw *Twilio) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fakeprovider: twilio: listen: %w", err)
	}
	tw.mu.Lock()
	if tw.closed || tw.server != nil {
		tw.mu.Unlock()
		ln.Close()
		return errors.New("fakeprovider: twilio: already listening or closed")
	}
	tw.listener = ln
	tw.server = &http.Server{Handler: tw.mux, ReadHeaderTimeout: 5 * time.Second}
	srv := tw.server
	tw.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// URL is the fake's base URL, such as http://127.0.0.1:41234: a
// connection's baseUrl. It is empty before Listen.
func (tw *Twilio) URL() string {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.listener == nil {
		return ""
	}
	return "http://" + tw.listener.Addr().String()
}

// Close stops the server and any status callbacks not yet posted, and
// waits for those under way.
func (tw *Twilio) Close() error {
	tw.mu.Lock()
	if tw.closed {
		tw.mu.Unlock()
		return nil
	}
	tw.closed = true
	srv := tw.server
	tw.mu.Unlock()
	tw.cancel()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	tw.reporting.Wait()
	return err
}

// FailNext makes the next n sends fail with status, with an error answer
// chosen from it, and Retry-After: 1 on 429 and 503.
func (tw *Twilio) FailNext(status, n int) {
	f := TwilioFailure{Status: status}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		f.RetryAfter = "1"
	}
	tw.FailNextWith(f, n)
}

// FailNextWith makes the next n sends fail with f.
func (tw *Twilio) FailNextWith(f TwilioFailure, n int) {
	if f.Code == 0 || f.Message == "" {
		code, message := twilioErrorFor(f.Status)
		if f.Code == 0 {
			f.Code = code
		}
		if f.Message == "" {
			f.Message = message
		}
	}
	tw.mu.Lock()
	defer tw.mu.Unlock()
	for range n {
		tw.failures = append(tw.failures, f)
	}
}

// Messages returns the messages sent so far, oldest first.
func (tw *Twilio) Messages() []TwilioMessage {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return tw.messagesLocked()
}

func (tw *Twilio) messagesLocked() []TwilioMessage {
	out := make([]TwilioMessage, len(tw.messages))
	for i, m := range tw.messages {
		m.MediaURLs = slices.Clone(m.MediaURLs)
		out[i] = m
	}
	return out
}

// WaitMessages waits until at least n messages were sent and returns them
// all, or returns those sent so far with the context's error.
func (tw *Twilio) WaitMessages(ctx context.Context, n int) ([]TwilioMessage, error) {
	var out []TwilioMessage
	err := tw.wait(ctx, func() bool {
		out = tw.messagesLocked()
		return len(out) >= n
	})
	return out, err
}

// Callbacks returns the status callbacks posted so far, oldest first.
func (tw *Twilio) Callbacks() []TwilioCallback {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return slices.Clone(tw.callbacks)
}

// WaitCallbacks waits until at least n status callbacks were posted and
// returns them all, or returns those posted so far with the context's error.
func (tw *Twilio) WaitCallbacks(ctx context.Context, n int) ([]TwilioCallback, error) {
	var out []TwilioCallback
	err := tw.wait(ctx, func() bool {
		out = slices.Clone(tw.callbacks)
		return len(out) >= n
	})
	return out, err
}

// wait calls ready, holding the lock, each time something is recorded,
// until it returns true or ctx ends.
func (tw *Twilio) wait(ctx context.Context, ready func() bool) error {
	for {
		tw.mu.Lock()
		done := ready()
		changed := tw.changed
		tw.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// notifyLocked wakes the waiters; the caller holds the lock.
func (tw *Twilio) notifyLocked() {
	close(tw.changed)
	tw.changed = make(chan struct{})
}

// TwilioSignature is the X-Twilio-Signature of a form posted to rawURL:
// the base64 HMAC-SHA1, keyed with the auth token, of the URL followed by
// each parameter's name and value, sorted by name (a repeated name's
// values sorted too).
func TwilioSignature(authToken, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, rawURL)
	for _, name := range slices.Sorted(maps.Keys(params)) {
		values := slices.Clone(params[name])
		slices.Sort(values)
		for _, v := range values {
			io.WriteString(mac, name+v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// createMessage is POST /2010-04-01/Accounts/{sid}/Messages.json.
func (tw *Twilio) createMessage(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || !tw.credentialsMatch(user, pass) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		twilioWriteError(w, http.StatusUnauthorized, 20003, "Authenticate", "")
		return
	}
	if r.PathValue("sid") != tw.opts.AccountSID {
		twilioWriteError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found", "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, twilioMaxForm)
	if err := r.ParseForm(); err != nil {
		twilioWriteError(w, http.StatusBadRequest, 0, "The request body is not a valid form", "")
		return
	}
	if f, ok := tw.takeFailure(); ok {
		twilioWriteError(w, f.Status, f.Code, f.Message, f.RetryAfter)
		return
	}
	form := r.PostForm
	msg := TwilioMessage{
		AccountSID:          tw.opts.AccountSID,
		To:                  form.Get("To"),
		From:                form.Get("From"),
		MessagingServiceSID: form.Get("MessagingServiceSid"),
		Body:                form.Get("Body"),
		MediaURLs:           form["MediaUrl"],
		StatusCallback:      form.Get("StatusCallback"),
		Status:              "queued",
		ReceivedAt:          time.Now().UTC(),
	}
	if code, message := twilioCheckMessage(&msg); code != 0 {
		twilioWriteError(w, http.StatusBadRequest, code, message, "")
		return
	}
	msg.SID = "SM" + twilioRandomHex()

	tw.mu.Lock()
	tw.messages = append(tw.messages, msg)
	tw.notifyLocked()
	report := tw.opts.Callbacks && msg.StatusCallback != "" && !tw.closed
	if report {
		tw.reporting.Add(1)
	}
	tw.mu.Unlock()
	if report {
		go tw.report(msg)
	}

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(twilioMessageAnswer(msg))
}

// credentialsMatch compares Basic credentials in constant time.
func (tw *Twilio) credentialsMatch(user, pass string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(tw.opts.AccountSID))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(tw.opts.AuthToken))
	return u&p == 1
}

// takeFailure pops the next programmed failure.
func (tw *Twilio) takeFailure() (TwilioFailure, bool) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if len(tw.failures) == 0 {
		return TwilioFailure{}, false
	}
	f := tw.failures[0]
	tw.failures = tw.failures[1:]
	return f, true
}

// twilioCheckMessage refuses a message the way Twilio does, returning its
// error code and message, or 0.
func twilioCheckMessage(m *TwilioMessage) (int, string) {
	switch {
	case m.To == "":
		return 21604, "A 'To' phone number is required."
	case m.From == "" && m.MessagingServiceSID == "":
		return 21603, "A 'From' phone number is required."
	case m.Body == "" && len(m.MediaURLs) == 0:
		return 21602, "Message body is required."
	case utf8.RuneCountInString(m.Body) > twilioMaxBodyChars:
		return 21617, "The concatenated message body exceeds the 1600 character limit."
	case m.StatusCallback != "" && !twilioIsHTTPURL(m.StatusCallback):
		return 21609, "Invalid StatusCallback URL."
	}
	for _, u := range m.MediaURLs {
		if !twilioIsHTTPURL(u) {
			return 21620, "Invalid media URL(s)."
		}
	}
	return 0, ""
}

func twilioIsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// twilioErrorFor is the error code and message the fake answers with for
// an HTTP status.
func twilioErrorFor(status int) (int, string) {
	switch status {
	case http.StatusBadRequest:
		return 21211, "The 'To' number is not a valid phone number."
	case http.StatusUnauthorized:
		return 20003, "Authenticate"
	case http.StatusForbidden:
		return 20403, "Forbidden"
	case http.StatusNotFound:
		return 20404, "The requested resource was not found"
	case http.StatusTooManyRequests:
		return 20429, "Too Many Requests"
	case http.StatusServiceUnavailable:
		return 20503, "Service Unavailable"
	}
	if status >= 500 {
		return 20500, "Internal Server Error"
	}
	return 0, http.StatusText(status)
}

// twilioWriteError writes Twilio's error answer.
func twilioWriteError(w http.ResponseWriter, status, code int, message, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	answer := map[string]any{"code": code, "message": message, "status": status, "more_info": nil}
	if code != 0 {
		answer["more_info"] = "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)
	}
	json.NewEncoder(w).Encode(answer)
}

// twilioMessageAnswer is the Message resource Twilio answers a send with.
func twilioMessageAnswer(m TwilioMessage) map[string]any {
	created := m.ReceivedAt.Format(time.RFC1123Z)
	uri := "/" + TwilioAPIVersion + "/Accounts/" + m.AccountSID + "/Messages/" + m.SID
	answer := map[string]any{
		"sid":                   m.SID,
		"account_sid":           m.AccountSID,
		"to":                    m.To,
		"from":                  nil,
		"messaging_service_sid": nil,
		"body":                  m.Body,
		"status":                m.Status,
		"num_segments":          strconv.Itoa(twilioSegments(m.Body)),
		"num_media":             strconv.Itoa(len(m.MediaURLs)),
		"direction":             "outbound-api",
		"api_version":           TwilioAPIVersion,
		"price":                 nil,
		"price_unit":            "USD",
		"error_code":            nil,
		"error_message":         nil,
		"date_created":          created,
		"date_updated":          created,
		"date_sent":             nil,
		"uri":                   uri + ".json",
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
	}
	if m.From != "" {
		answer["from"] = m.From
	}
	if m.MessagingServiceSID != "" {
		answer["messaging_service_sid"] = m.MessagingServiceSID
	}
	return answer
}

// twilioSegments is how many SMS a body takes: 160 characters alone, 153
// each when split.
func twilioSegments(body string) int {
	n := utf8.RuneCountInString(body)
	if n <= 160 {
		return 1
	}
	return (n + 152) / 153
}

// report posts a message's status callbacks, one after the other.
func (tw *Twilio) report(m TwilioMessage) {
	defer tw.reporting.Done()
	for _, status := range []string{"sent", tw.opts.FinalStatus} {
		select {
		case <-tw.ctx.Done():
			return
		case <-time.After(tw.opts.CallbackDelay):
		}
		tw.postCallback(m, status)
	}
}

// postCallback posts one signed status callback and records it.
func (tw *Twilio) postCallback(m TwilioMessage, status string) {
	form := url.Values{
		"AccountSid":    {m.AccountSID},
		"ApiVersion":    {TwilioAPIVersion},
		"MessageSid":    {m.SID},
		"SmsSid":        {m.SID},
		"MessageStatus": {status},
		"SmsStatus":     {status},
		"To":            {m.To},
	}
	if m.From != "" {
		form.Set("From", m.From)
	}
	if m.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", m.MessagingServiceSID)
	}
	if status == "undelivered" || status == "failed" {
		form.Set("ErrorCode", strconv.Itoa(tw.opts.ErrorCode))
	}
	cb := TwilioCallback{MessageSID: m.SID, Status: status, URL: m.StatusCallback}
	reply, err := tw.post(tw.ctx, m.StatusCallback, form)
	if err != nil {
		cb.Error = err.Error()
	} else {
		cb.StatusCode = reply.StatusCode
	}
	cb.At = time.Now().UTC()

	tw.mu.Lock()
	defer tw.mu.Unlock()
	for i := range tw.messages {
		if tw.messages[i].SID == m.SID {
			tw.messages[i].Status = status
		}
	}
	tw.callbacks = append(tw.callbacks, cb)
	tw.notifyLocked()
}

// post sends a form to target as Twilio's webhooks do, signed over target
// exactly as given.
func (tw *Twilio) post(ctx context.Context, target string, form url.Values) (*TwilioReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: twilio: post: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(TwilioSignatureHeader, TwilioSignature(tw.opts.AuthToken, target, form))
	req.Header.Set("User-Agent", "fakeprovider-twilio")
	resp, err := tw.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: twilio: post: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, twilioMaxReply))
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: twilio: read answer: %w", err)
	}
	return &TwilioReply{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}

// twilioRandomHex is 32 random hexadecimal digits, the tail of a SID.
func twilioRandomHex() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

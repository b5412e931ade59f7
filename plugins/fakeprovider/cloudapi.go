package fakeprovider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Defaults of CloudAPIOptions.
const (
	CloudAPIDefaultPhoneNumberID      = "100000000000001"
	CloudAPIDefaultDisplayPhoneNumber = "15550000001"
	CloudAPIDefaultAccessToken        = "fake-cloud-api-access-token"
	CloudAPIDefaultAppSecret          = "fake-cloud-api-app-secret"
	CloudAPIDefaultAPIVersion         = "v21.0"
	CloudAPIDefaultWABAID             = "200000000000001"
	CloudAPIDefaultStatusDelay        = 100 * time.Millisecond
)

// CloudAPIOptions configures a fake Cloud API. Empty fields take the
// CloudAPIDefault… values.
type CloudAPIOptions struct {
	// PhoneNumberID is the business number's ID: sends must use it in
	// their path, and webhooks carry it in metadata.phone_number_id.
	PhoneNumberID string
	// DisplayPhoneNumber is the business number, as webhooks show it.
	DisplayPhoneNumber string
	// AccessToken is the bearer token every Graph call must present.
	AccessToken string
	// AppSecret signs webhook posts (X-Hub-Signature-256).
	AppSecret string
	// APIVersion is the version written in media URLs; calls may use any
	// version of the form v21.0.
	APIVersion string
	// WABAID is the WhatsApp Business Account ID, entry[].id in webhooks.
	WABAID string
	// FinalStatus is the last status reported for each accepted message:
	// "delivered" (the default), "read", "sent" or "failed". Status
	// reports go to the webhook URL, "sent" first.
	FinalStatus string
	// StatusDelay is the pause before each status report, so that the
	// sender has recorded the message ID before its first status arrives.
	StatusDelay time.Duration
	// Client posts webhooks; by default one with a 10-second timeout that
	// follows no redirects.
	Client *http.Client
}

// CloudAPIMessage is a message the fake accepted on its messages endpoint.
type CloudAPIMessage struct {
	// ID is the wamid the fake answered with.
	ID         string `json:"id"`
	To         string `json:"to"`
	Type       string `json:"type"`
	Text       string `json:"text,omitempty"`
	PreviewURL bool   `json:"previewUrl,omitempty"`
	// MediaLink, Caption and Filename are set for a media message.
	MediaLink string `json:"mediaLink,omitempty"`
	Caption   string `json:"caption,omitempty"`
	Filename  string `json:"filename,omitempty"`
	// Authorization is the header the call came with.
	Authorization string `json:"-"`
	// Body is the request body as received.
	Body json.RawMessage `json:"body"`
	At   time.Time       `json:"at"`
}

// CloudAPIWebhook is one webhook post the fake made.
type CloudAPIWebhook struct {
	// Kind is "message" for a contact's message, "status" for a status
	// report, "custom" for PostWebhook.
	Kind string `json:"kind"`
	// MessageID is the wamid the post is about.
	MessageID string `json:"messageId,omitempty"`
	// Status is the reported status of a "status" post.
	Status string          `json:"status,omitempty"`
	Body   json.RawMessage `json:"body"`
	// StatusCode is the receiver's answer, 0 when there was none.
	StatusCode int       `json:"statusCode"`
	Err        string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
}

// ErrCloudAPINoWebhook is returned when the fake should post a webhook but
// no webhook URL is set.
var ErrCloudAPINoWebhook = errors.New("fakeprovider: no webhook URL is set; call SetWebhook")

// CloudAPI is a fake of the WhatsApp Business Cloud API, speaking its wire
// format on a local listener: the messages and media endpoints of the
// Graph API, signed webhooks with contacts' messages and status reports,
// and the subscription handshake. Tests and demos point a connection's
// baseUrl at it. It is for loopback use only: its control endpoints
// (/fake/…) take no credentials and post to any URL they are given.
type CloudAPI struct {
	opts    CloudAPIOptions
	client  *http.Client
	handler http.Handler

	mu             sync.Mutex
	messages       []CloudAPIMessage
	webhooks       []CloudAPIWebhook
	changed        chan struct{} // closed and replaced whenever either list grows
	media          map[string]cloudAPIMedia
	webhookURL     string
	finalStatus    string
	failStatus     int
	failLeft       int
	failRetryAfter time.Duration
	closed         bool

	srv    *http.Server
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // status reports in flight
}

type cloudAPIMedia struct {
	mimeType string
	data     []byte
}

// NewCloudAPI returns a fake Cloud API. Serve it with Listen, or mount
// Handler on a server of your own.
func NewCloudAPI(opts CloudAPIOptions) *CloudAPI {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&opts.PhoneNumberID, CloudAPIDefaultPhoneNumberID)
	def(&opts.DisplayPhoneNumber, CloudAPIDefaultDisplayPhoneNumber)
	def(&opts.AccessToken, CloudAPIDefaultAccessToken)
	def(&opts.AppSecret, CloudAPIDefaultAppSecret)
	def(&opts.APIVersion, CloudAPIDefaultAPIVersion)
	def(&opts.WABAID, CloudAPIDefaultWABAID)
	def(&opts.FinalStatus, "delivered")
	if opts.StatusDelay == 0 {
		opts.StatusDelay = CloudAPIDefaultStatusDelay
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &CloudAPI{
		opts:        opts,
		client:      client,
		changed:     make(chan struct{}),
		media:       make(map[string]cloudAPIMedia),
		finalStatus: opts.FinalStatus,
		ctx:         ctx,
		cancel:      cancel,
	}
	c.handler = c.routes()
	return c
}

// Options returns the options in effect, defaults filled in.
func (c *CloudAPI) Options() CloudAPIOptions { return c.opts }

// Listen serves the fake on addr ("127.0.0.1:0" when empty) until Close.
func (c *CloudAPI) Listen(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fakeprovider: listen: %w", err)
	}
	srv := &http.Server{Handler: c.handler, ReadHeaderTimeout: 5 * time.Second}
	c.mu.Lock()
	if c.closed || c.srv != nil {
		c.mu.Unlock()
		ln.Close()
		return errors.New("fakeprovider: the fake is closed or already listening")
	}
	c.srv, c.ln = srv, ln
	c.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// URL is the fake's base URL, such as http://127.0.0.1:40123, once Listen
// has succeeded; "" before.
func (c *CloudAPI) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln == nil {
		return ""
	}
	return "http://" + c.ln.Addr().String()
}

// Handler serves the Graph API endpoints and the control endpoints.
func (c *CloudAPI) Handler() http.Handler { return c.handler }

// Close stops the server and waits for status reports in flight, which it
// cancels.
func (c *CloudAPI) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	srv := c.srv
	c.mu.Unlock()
	c.cancel()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	c.wg.Wait()
	return err
}

// AddMedia registers media a contact can send: the media endpoint then
// answers for id, and its URL serves data.
func (c *CloudAPI) AddMedia(id, mimeType string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.media[id] = cloudAPIMedia{mimeType: mimeType, data: slices.Clone(data)}
}

// FailNext makes the next n Graph calls (sends and media lookups) fail
// with status and a Cloud API error body.
func (c *CloudAPI) FailNext(status, n int) {
	c.FailNextRetryAfter(status, n, 0)
}

// FailNextRetryAfter is FailNext with a Retry-After header, in whole
// seconds, when retryAfter is positive.
func (c *CloudAPI) FailNextRetryAfter(status, n int, retryAfter time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failStatus, c.failLeft, c.failRetryAfter = status, max(n, 0), retryAfter
}

// SetWebhook sets the app's webhook URL, where contacts' messages and
// status reports are posted. Unlike Meta, it does not verify it first:
// Subscribe does.
func (c *CloudAPI) SetWebhook(url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.webhookURL = url
}

// SetFinalStatus changes the last status reported for messages accepted
// from now on: "delivered", "read", "sent" or "failed".
func (c *CloudAPI) SetFinalStatus(status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finalStatus = status
}

// Messages returns a copy of the messages accepted so far.
func (c *CloudAPI) Messages() []CloudAPIMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.messages)
}

// Webhooks returns a copy of the webhook posts made so far.
func (c *CloudAPI) Webhooks() []CloudAPIWebhook {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.webhooks)
}

// WaitMessages waits until at least n messages were accepted, and returns
// them all.
func (c *CloudAPI) WaitMessages(ctx context.Context, n int) ([]CloudAPIMessage, error) {
	return cloudAPIWait(ctx, c, n, func() []CloudAPIMessage { return c.messages })
}

// WaitWebhooks waits until at least n webhook posts were made, and
// returns them all.
func (c *CloudAPI) WaitWebhooks(ctx context.Context, n int) ([]CloudAPIWebhook, error) {
	return cloudAPIWait(ctx, c, n, func() []CloudAPIWebhook { return c.webhooks })
}

func cloudAPIWait[T any](ctx context.Context, c *CloudAPI, n int, list func() []T) ([]T, error) {
	for {
		c.mu.Lock()
		items, changed := slices.Clone(list()), c.changed
		c.mu.Unlock()
		if len(items) >= n {
			return items, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return items, fmt.Errorf("fakeprovider: have %d of %d: %w", len(items), n, ctx.Err())
		}
	}
}

// notifyLocked wakes the waiters; c.mu is held.
func (c *CloudAPI) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// CloudAPISignature is the X-Hub-Signature-256 value for body: "sha256="
// and the hex HMAC-SHA256 of the exact bytes, keyed with the app secret.
func CloudAPISignature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// cloudAPIMessageID is a new wamid: like Meta's, "wamid." and base64.
func cloudAPIMessageID() string {
	return "wamid." + base64.StdEncoding.EncodeToString(cloudAPIRandom(24))
}

func cloudAPIRandom(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func cloudAPITraceID() string {
	return base64.RawURLEncoding.EncodeToString(cloudAPIRandom(9))
}

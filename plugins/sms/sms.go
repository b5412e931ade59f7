package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Version of the plugin, reported to the hub.
const Version = "0.1.0"

// defaultBaseURL is the provider's API when a connection names no baseUrl.
const defaultBaseURL = "https://api.twilio.com"

// configSchema describes a connection's provider settings.
const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "SMS (Twilio) provider settings",
  "type": "object",
  "properties": {
    "accountSid": {
      "type": "string",
      "pattern": "^AC[0-9a-fA-F]{32}$",
      "description": "The account SID: AC followed by 32 hexadecimal digits."
    },
    "authToken": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "writeOnly": true,
      "description": "The account's auth token. It signs the provider's requests and authenticates sends."
    },
    "baseUrl": {
      "type": "string",
      "format": "uri",
      "pattern": "^https?://",
      "description": "The provider's API, https://api.twilio.com by default."
    }
  },
  "required": ["accountSid", "authToken"],
  "additionalProperties": false
}`

// Limits on the provider's fields. The hub bounds the whole body separately.
const (
	maxFormBytes    = 256 << 10
	maxSIDLen       = 64
	maxAddressLen   = 64
	maxBodyChars    = 1600 * 10
	maxMedia        = 10
	maxURLLen       = 2048
	maxErrorCodeLen = 16
	maxErrorMsgLen  = 512
	maxAnswerBytes  = 64 << 10
	maxAuthTokenLen = 256
)

// The provider's wire format.
const (
	signatureHeader  = "X-Twilio-Signature"
	formContentType  = "application/x-www-form-urlencoded"
	apiVersionPrefix = "/2010-04-01/Accounts/"
)

// emptyTwiML is the answer to an inbound message: nothing to say back.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

var (
	accountSIDPattern       = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	messagingServicePattern = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	messageSIDPattern       = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)
)

// SMS is the channel plugin for a Twilio-shaped SMS provider. Each
// connection's settings (accountSid, authToken, baseUrl) arrive with every
// call; the plugin keeps no per-connection state.
type SMS struct {
	mu sync.Mutex
	// clients are the provider clients, one refusing private addresses and
	// one allowing them, made on first use and kept for their connections.
	public, private *http.Client
}

var _ sdk.Channel = (*SMS)(nil)

// Info declares the plugin.
func (*SMS) Info() sdk.Info {
	return sdk.Info{
		Kind:         "sms",
		Version:      Version,
		DisplayName:  "SMS (Twilio)",
		Channel:      "SMS",
		Auth:         sdk.AuthSignature,
		Sends:        true,
		ReplyWindow:  0,
		ConfigSchema: configSchema,
	}
}

// config is a connection's provider settings. AuthToken is a secret: it
// never appears in a log line or an error.
type config struct {
	AccountSID string `json:"accountSid"`
	AuthToken  string `json:"authToken"`
	BaseURL    string `json:"baseUrl"`
}

// parseConfig decodes and checks a connection's settings. Its errors name
// the setting at fault but never quote a value.
func parseConfig(raw json.RawMessage) (*config, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, errors.New("sms: connection settings are missing")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("sms: connection settings: %s", decodeProblem(err))
	}
	if dec.More() {
		return nil, errors.New("sms: connection settings: more than one JSON value")
	}
	if !accountSIDPattern.MatchString(c.AccountSID) {
		return nil, errors.New("sms: connection settings: accountSid must be AC followed by 32 hexadecimal digits")
	}
	if c.AuthToken == "" {
		return nil, errors.New("sms: connection settings: authToken is required")
	}
	if len(c.AuthToken) > maxAuthTokenLen {
		return nil, fmt.Errorf("sms: connection settings: authToken is longer than %d characters", maxAuthTokenLen)
	}
	if c.BaseURL == "" {
		c.BaseURL = defaultBaseURL
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("sms: connection settings: baseUrl must be an http or https URL without credentials, query or fragment, such as " + defaultBaseURL)
	}
	return &c, nil
}

// decodeProblem describes a JSON decoding error without echoing the input,
// which holds the auth token.
func decodeProblem(err error) string {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return typeErr.Field + " must be a string"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ") + "; expected accountSid, authToken and baseUrl"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "not valid JSON (cut short)"
	}
	return "not a JSON object"
}

// messagesURL is where messages are created for the account.
func (c *config) messagesURL() string {
	return strings.TrimRight(c.BaseURL, "/") + apiVersionPrefix + url.PathEscape(c.AccountSID) + "/Messages.json"
}

// redact removes the auth token, alone or inside a Basic credential, from
// text that came back from the provider: a baseUrl pointing somewhere
// hostile could echo the request's credentials into its answer.
func (c *config) redact(s string) string {
	basic := base64.StdEncoding.EncodeToString([]byte(c.AccountSID + ":" + c.AuthToken))
	s = strings.ReplaceAll(s, basic, "[redacted]")
	return strings.ReplaceAll(s, c.AuthToken, "[redacted]")
}

// HandleInbound checks the provider's signature and turns its form post
// into one contact message, or into a report on a message the plugin sent.
func (*SMS) HandleInbound(_ context.Context, req *sdk.InboundRequest) (*sdk.InboundResult, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, sdk.BadConfig("%v", err)
	}
	form, err := verify(req, cfg.AuthToken)
	if err != nil {
		return nil, err
	}
	// Inbound messages carry SmsStatus=received; reports on sent messages
	// carry MessageStatus (and SmsStatus) with the message's progress.
	status := form.Get("MessageStatus")
	if status == "" {
		status = form.Get("SmsStatus")
	}
	switch status {
	case "", "received", "receiving":
		return inboundMessage(form, req.ReceivedAt)
	}
	return statusCallback(form, status, req.ReceivedAt)
}

// verify reads the form and checks its X-Twilio-Signature: the base64
// HMAC-SHA1, keyed with the auth token, of the URL the provider called
// followed by every posted parameter.
func verify(req *sdk.InboundRequest, authToken string) (url.Values, error) {
	if req.Method != http.MethodPost {
		return nil, sdk.Reject(sdk.ReasonUnsupported, "the provider posts forms; method %s is not accepted", sdk.Quote(req.Method))
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != formContentType {
		return nil, sdk.Reject(sdk.ReasonUnsupported, "Content-Type must be %s", formContentType)
	}
	got := req.Header.Get(signatureHeader)
	if got == "" {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "%s is missing", signatureHeader)
	}
	if len(req.Body) > maxFormBytes {
		return nil, sdk.InvalidField("body", "body is larger than %d KiB", maxFormBytes>>10)
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return nil, sdk.InvalidField("body", "body is not a valid form")
	}
	if !hmac.Equal([]byte(got), []byte(signature(authToken, req.URL, form))) {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "%s does not match the request", signatureHeader)
	}
	return form, nil
}

// signature is the provider's request signature: the URL, then each
// parameter's name and value, parameters sorted by name and a repeated
// name's values sorted too, hashed with HMAC-SHA1 keyed with the auth
// token, in standard base64.
func signature(authToken, rawURL string, form url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, rawURL)
	for _, name := range slices.Sorted(maps.Keys(form)) {
		values := slices.Clone(form[name])
		slices.Sort(values)
		for _, v := range values {
			io.WriteString(mac, name)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// inboundMessage normalises a contact's message. The contact's number is
// both the contact and the thread: one chat per number.
func inboundMessage(form url.Values, receivedAt time.Time) (*sdk.InboundResult, error) {
	sid, err := field(form, "MessageSid", maxSIDLen, true)
	if err != nil {
		return nil, err
	}
	from, err := field(form, "From", maxAddressLen, true)
	if err != nil {
		return nil, err
	}
	to, err := field(form, "To", maxAddressLen, true)
	if err != nil {
		return nil, err
	}
	body, err := field(form, "Body", maxBodyChars, false)
	if err != nil {
		return nil, err
	}
	media, err := mediaCount(form.Get("NumMedia"))
	if err != nil {
		return nil, err
	}
	msg := sdk.InboundMessage{
		ExternalID:       sid,
		ThreadExternalID: from,
		From:             sdk.Contact{ExternalID: from, Phone: from},
		Content:          body,
		ContentType:      "text",
		Sender:           to,
		Event:            sdk.EventMessage,
		SentAt:           receivedAt,
	}
	if media > 0 {
		// The hub carries one attachment per message: the first.
		if msg.MediaURL, err = mediaURL(form, "MediaUrl0"); err != nil {
			return nil, err
		}
		msg.MediaCaption = body
	}
	if body == "" && msg.MediaURL == "" {
		return nil, sdk.InvalidField("Body", "Body is required when the message has no media")
	}
	return &sdk.InboundResult{
		Messages: []sdk.InboundMessage{msg},
		Reply:    &sdk.HTTPReply{Status: http.StatusOK, ContentType: "text/xml", Body: []byte(emptyTwiML)},
	}, nil
}

// mediaCount reads NumMedia, absent for a text message.
func mediaCount(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxMedia {
		return 0, sdk.InvalidField("NumMedia", "NumMedia must be a whole number from 0 to %d, not %s", maxMedia, sdk.Quote(v))
	}
	return n, nil
}

// mediaURL reads one attachment's address, which must be http or https.
func mediaURL(form url.Values, name string) (string, error) {
	v, err := field(form, name, maxURLLen, true)
	if err != nil {
		return "", err
	}
	u, perr := url.Parse(v)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", sdk.InvalidField(name, "%s must be an http or https URL", name)
	}
	return v, nil
}

// statuses maps the provider's message statuses to the hub's. Statuses not
// listed (partially_delivered, ones added later) are ignored.
var statuses = map[string]string{
	"accepted":    sdk.StatusQueued,
	"scheduled":   sdk.StatusQueued,
	"queued":      sdk.StatusQueued,
	"sending":     sdk.StatusQueued,
	"sent":        sdk.StatusSent,
	"delivered":   sdk.StatusDelivered,
	"read":        sdk.StatusDelivered,
	"undelivered": sdk.StatusFailed,
	"failed":      sdk.StatusFailed,
	"canceled":    sdk.StatusFailed,
}

// statusCallback turns the provider's report on a sent message into a
// status update. It answers 204: the provider reads nothing back.
func statusCallback(form url.Values, status string, at time.Time) (*sdk.InboundResult, error) {
	sid, err := field(form, "MessageSid", maxSIDLen, true)
	if err != nil {
		return nil, err
	}
	res := &sdk.InboundResult{Reply: &sdk.HTTPReply{Status: http.StatusNoContent}}
	mapped, known := statuses[status]
	if !known {
		return res, nil
	}
	update := sdk.StatusUpdate{ExternalID: sid, Status: mapped, At: at}
	if mapped == sdk.StatusFailed {
		if update.Error, err = failureReason(form, status); err != nil {
			return nil, err
		}
	}
	res.Statuses = []sdk.StatusUpdate{update}
	return res, nil
}

// errorDescriptions name the delivery errors the provider reports most
// often; its callbacks carry the code alone.
var errorDescriptions = map[string]string{
	"30001": "Queue overflow",
	"30002": "Account suspended",
	"30003": "Unreachable destination handset",
	"30004": "Message blocked",
	"30005": "Unknown destination handset",
	"30006": "Landline or unreachable carrier",
	"30007": "Message filtered",
	"30008": "Unknown error",
	"30009": "Missing segment",
	"30010": "Message price exceeds max price",
}

// failureReason says why a message failed: "30003: Unreachable destination
// handset", from ErrorCode and ErrorMessage.
func failureReason(form url.Values, status string) (string, error) {
	code, err := field(form, "ErrorCode", maxErrorCodeLen, false)
	if err != nil {
		return "", err
	}
	if strings.Trim(code, "0123456789") != "" {
		return "", sdk.InvalidField("ErrorCode", "ErrorCode must be a number, not %s", sdk.Quote(code))
	}
	message, err := field(form, "ErrorMessage", maxErrorMsgLen, false)
	if err != nil {
		return "", err
	}
	if message == "" {
		message = errorDescriptions[code]
	}
	switch {
	case code != "" && message != "":
		return code + ": " + message, nil
	case code != "":
		return code, nil
	case message != "":
		return message, nil
	}
	return "the provider reported the message " + status, nil
}

// field reads one parameter: valid text, within its length in characters,
// and present when required.
func field(form url.Values, name string, max int, required bool) (string, error) {
	v := form.Get(name)
	if err := sdk.CheckText(name, v); err != nil {
		return "", err
	}
	if required && strings.TrimSpace(v) == "" {
		return "", sdk.InvalidField(name, "%s is required", name)
	}
	if utf8.RuneCountInString(v) > max {
		return "", sdk.InvalidField(name, "%s is longer than %d characters", name, max)
	}
	return v, nil
}

// Send creates the message at the provider. A sender that is a messaging
// service SID (MG…) is sent as MessagingServiceSid, any other as From.
func (s *SMS) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResult, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, sdk.BadConfig("%v", err)
	}
	switch {
	case strings.TrimSpace(req.To) == "":
		return nil, &sdk.ProviderError{Message: "sms: the message has no recipient number"}
	case strings.TrimSpace(req.From) == "":
		return nil, &sdk.ProviderError{Message: "sms: the connection has no sender number"}
	case req.Content == "" && req.MediaURL == "":
		return nil, &sdk.ProviderError{Message: "sms: the message has neither text nor media"}
	}
	form := url.Values{"To": {req.To}}
	if messagingServicePattern.MatchString(req.From) {
		form.Set("MessagingServiceSid", req.From)
	} else {
		form.Set("From", req.From)
	}
	if req.Content != "" {
		form.Set("Body", req.Content)
	}
	if req.MediaURL != "" {
		form.Set("MediaUrl", req.MediaURL)
	}
	if req.CallbackURL != "" {
		form.Set("StatusCallback", req.CallbackURL)
	}

	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.messagesURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("sms: build request: %w", err)
	}
	hreq.SetBasicAuth(cfg.AccountSID, cfg.AuthToken)
	hreq.Header.Set("Content-Type", formContentType)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "switchboard-sms/"+Version)

	resp, err := s.client(req.AllowPrivate).Do(hreq)
	if err != nil {
		perr := sdk.ProviderNetworkError(err)
		perr.Message = cfg.redact(perr.Message)
		return nil, perr
	}
	defer resp.Body.Close()
	body := sdk.ReadProviderBody(resp.Body, maxAnswerBytes)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, sdk.ProviderResponseError(resp, cfg.redact(providerReason(body)))
	}
	var created struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(body, &created); err != nil || !messageSIDPattern.MatchString(created.SID) {
		// Sending again could send the message twice: fail it instead.
		return nil, &sdk.ProviderError{StatusCode: resp.StatusCode,
			Message: "the provider's answer holds no message sid; the message may have been sent"}
	}
	return &sdk.SendResult{ExternalID: created.SID}, nil
}

// client returns the provider client for the request's address policy.
func (s *SMS) client(allowPrivate bool) *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if allowPrivate {
		if s.private == nil {
			s.private = sdk.ProviderClient(true)
		}
		return s.private
	}
	if s.public == nil {
		s.public = sdk.ProviderClient(false)
	}
	return s.public
}

// providerReason reads the provider's error answer,
// {"code": 21211, "message": "…", "more_info": "…", "status": 400},
// as "21211: …". It is empty when the answer is not one.
func providerReason(body []byte) string {
	var answer struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return ""
	}
	message := printable(answer.Message)
	var code string
	switch c := answer.Code.(type) {
	case float64:
		code = strconv.FormatFloat(c, 'f', -1, 64)
	case string:
		code = printable(c)
	}
	switch {
	case code != "" && message != "":
		return code + ": " + message
	case code != "":
		return code
	}
	return message
}

// printable is provider text fit for an error message: valid UTF-8, no
// control characters, trimmed.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

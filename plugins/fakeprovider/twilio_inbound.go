package fakeprovider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// twilioMaxControlBody bounds a request to the control API.
const twilioMaxControlBody = 64 << 10

// TwilioInbound is a message a contact sends to one of the account's
// numbers, which the fake posts to the number's webhook.
type TwilioInbound struct {
	// MessageSID is generated ("SM…" or, with media, "MM…") when empty.
	MessageSID string
	From       string
	To         string
	Body       string
	// MediaURL is the message's attachment, if any.
	MediaURL string
	// MediaContentType is the attachment's type, image/jpeg by default.
	MediaContentType string
}

// TwilioReply is a webhook receiver's answer to the fake.
type TwilioReply struct {
	// MessageSID is the posted message's SID (SendInbound only).
	MessageSID  string
	StatusCode  int
	ContentType string
	// Body is the answer's first megabyte.
	Body []byte
}

// InboundForm is the form Twilio posts for msg: the parameters SendInbound
// signs and sends. Tests can alter it and sign it with TwilioSignature to
// craft requests of their own.
func (tw *Twilio) InboundForm(msg TwilioInbound) url.Values {
	sid := msg.MessageSID
	if sid == "" {
		prefix := "SM"
		if msg.MediaURL != "" {
			prefix = "MM"
		}
		sid = prefix + twilioRandomHex()
	}
	form := url.Values{
		"AccountSid":    {tw.opts.AccountSID},
		"ApiVersion":    {TwilioAPIVersion},
		"MessageSid":    {sid},
		"SmsMessageSid": {sid},
		"SmsSid":        {sid},
		"SmsStatus":     {"received"},
		"From":          {msg.From},
		"To":            {msg.To},
		"Body":          {msg.Body},
		"NumMedia":      {"0"},
		"NumSegments":   {"1"},
	}
	if msg.MediaURL != "" {
		contentType := msg.MediaContentType
		if contentType == "" {
			contentType = "image/jpeg"
		}
		form.Set("NumMedia", "1")
		form.Set("MediaUrl0", msg.MediaURL)
		form.Set("MediaContentType0", contentType)
	}
	return form
}

// SendInbound posts msg to hubURL, the connection's inbound URL, as Twilio
// would: a form signed with the auth token over hubURL exactly as given,
// query string included.
func (tw *Twilio) SendInbound(ctx context.Context, hubURL string, msg TwilioInbound) (*TwilioReply, error) {
	form := tw.InboundForm(msg)
	reply, err := tw.post(ctx, hubURL, form)
	if err != nil {
		return nil, err
	}
	reply.MessageSID = form.Get("MessageSid")
	return reply, nil
}

// twilioControlInbound is the body of POST /fake/inbound.
type twilioControlInbound struct {
	URL              string `json:"url"`
	From             string `json:"from"`
	To               string `json:"to"`
	Body             string `json:"body"`
	MediaURL         string `json:"mediaUrl"`
	MediaContentType string `json:"mediaContentType"`
	MessageSID       string `json:"messageSid"`
}

// controlInbound is POST /fake/inbound: {url, from, to, body, mediaUrl?}
// posts a signed inbound message to url and answers with the receiver's
// status code and {messageSid, status, contentType, body}.
func (tw *Twilio) controlInbound(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, twilioMaxControlBody))
	dec.DisallowUnknownFields()
	var in twilioControlInbound
	if err := dec.Decode(&in); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			twilioWriteControl(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "the body is larger than 64 KiB"})
			return
		}
		twilioWriteControl(w, http.StatusBadRequest, map[string]any{"error": "the body must be a JSON object {url, from, to, body, mediaUrl?}: " + err.Error()})
		return
	}
	switch {
	case !twilioIsHTTPURL(in.URL):
		twilioWriteControl(w, http.StatusBadRequest, map[string]any{"error": "url must be an http or https URL"})
		return
	case strings.TrimSpace(in.From) == "" || strings.TrimSpace(in.To) == "":
		twilioWriteControl(w, http.StatusBadRequest, map[string]any{"error": "from and to are required"})
		return
	}
	reply, err := tw.SendInbound(r.Context(), in.URL, TwilioInbound{
		MessageSID: in.MessageSID, From: in.From, To: in.To, Body: in.Body,
		MediaURL: in.MediaURL, MediaContentType: in.MediaContentType,
	})
	if err != nil {
		twilioWriteControl(w, http.StatusBadGateway, map[string]any{"error": err.Error()})
		return
	}
	twilioWriteControl(w, reply.StatusCode, map[string]any{
		"messageSid":  reply.MessageSID,
		"status":      reply.StatusCode,
		"contentType": reply.ContentType,
		"body":        string(reply.Body),
	})
}

// controlMessages is GET /fake/messages: the messages sent so far.
func (tw *Twilio) controlMessages(w http.ResponseWriter, _ *http.Request) {
	twilioWriteControl(w, http.StatusOK, tw.Messages())
}

// controlCallbacks is GET /fake/callbacks: the status callbacks posted so far.
func (tw *Twilio) controlCallbacks(w http.ResponseWriter, _ *http.Request) {
	callbacks := tw.Callbacks()
	if callbacks == nil {
		callbacks = []TwilioCallback{}
	}
	twilioWriteControl(w, http.StatusOK, callbacks)
}

func twilioWriteControl(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

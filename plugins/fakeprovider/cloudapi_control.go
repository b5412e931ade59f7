package fakeprovider

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Limits on control requests.
const (
	cloudAPIMaxControlBody = 64 << 10
	cloudAPIMaxMediaBody   = 8 << 20
)

// The control endpoints drive the fake without Go, for demos:
//
//	POST /fake/webhook  {"url", "verifyToken"}   handshake, then set the webhook URL if it verified
//	POST /fake/inbound  {"from", "name", "text"} or {"from", "name", "mediaId", "mimeType", "caption"}
//	POST /fake/media    {"id", "mimeType", "data" (base64)}
//	POST /fake/fail     {"status", "count", "retryAfterSeconds"}
//	GET  /fake/messages the messages sent so far

// cloudAPIInbound is the body of POST /fake/inbound.
type cloudAPIInbound struct {
	From     string `json:"from"`
	Name     string `json:"name"`
	Text     string `json:"text"`
	MediaID  string `json:"mediaId"`
	MimeType string `json:"mimeType"`
	Caption  string `json:"caption"`
}

func (c *CloudAPI) handleFakeInbound(w http.ResponseWriter, r *http.Request) {
	var in cloudAPIInbound
	if !cloudAPIDecodeControl(w, r, cloudAPIMaxControlBody, &in) {
		return
	}
	var status int
	var err error
	switch {
	case !cloudAPIRecipientPattern.MatchString(in.From):
		cloudAPIControlError(w, http.StatusBadRequest, "from must be the contact's phone number, digits only")
		return
	case in.MediaID != "":
		status, err = c.SendInboundMedia(r.Context(), strings.TrimPrefix(in.From, "+"), in.Name, in.MediaID, in.MimeType, in.Caption)
	case in.Text != "":
		status, err = c.SendInboundText(r.Context(), strings.TrimPrefix(in.From, "+"), in.Name, in.Text)
	default:
		cloudAPIControlError(w, http.StatusBadRequest, "text or mediaId is required")
		return
	}
	switch {
	case errors.Is(err, ErrCloudAPINoWebhook):
		cloudAPIControlError(w, http.StatusConflict, "no webhook URL is set: POST /fake/webhook first")
	case err != nil:
		cloudAPIControlError(w, http.StatusBadGateway, err.Error())
	default:
		cloudAPIWriteJSON(w, http.StatusOK, map[string]int{"status": status})
	}
}

// cloudAPIWebhookSetting is the body of POST /fake/webhook.
type cloudAPIWebhookSetting struct {
	URL         string `json:"url"`
	VerifyToken string `json:"verifyToken"`
}

// handleFakeWebhook verifies a webhook URL and, as Meta does, keeps it only
// if the handshake succeeded.
func (c *CloudAPI) handleFakeWebhook(w http.ResponseWriter, r *http.Request) {
	var in cloudAPIWebhookSetting
	if !cloudAPIDecodeControl(w, r, cloudAPIMaxControlBody, &in) {
		return
	}
	if in.URL == "" || in.VerifyToken == "" {
		cloudAPIControlError(w, http.StatusBadRequest, "url and verifyToken are required")
		return
	}
	ok, err := c.Subscribe(r.Context(), in.URL, in.VerifyToken)
	out := map[string]any{"verified": ok}
	if err != nil {
		out["error"] = err.Error()
	}
	if ok {
		c.SetWebhook(in.URL)
	}
	cloudAPIWriteJSON(w, http.StatusOK, out)
}

// cloudAPIMediaUpload is the body of POST /fake/media.
type cloudAPIMediaUpload struct {
	ID       string `json:"id"`
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

func (c *CloudAPI) handleFakeMedia(w http.ResponseWriter, r *http.Request) {
	var in cloudAPIMediaUpload
	if !cloudAPIDecodeControl(w, r, cloudAPIMaxMediaBody, &in) {
		return
	}
	data, err := base64.StdEncoding.DecodeString(in.Data)
	switch {
	case in.ID == "" || in.MimeType == "":
		cloudAPIControlError(w, http.StatusBadRequest, "id and mimeType are required")
		return
	case err != nil:
		cloudAPIControlError(w, http.StatusBadRequest, "data must be base64")
		return
	}
	c.AddMedia(in.ID, in.MimeType, data)
	cloudAPIWriteJSON(w, http.StatusOK, map[string]any{"id": in.ID, "size": len(data)})
}

// cloudAPIFailSetting is the body of POST /fake/fail.
type cloudAPIFailSetting struct {
	Status            int `json:"status"`
	Count             int `json:"count"`
	RetryAfterSeconds int `json:"retryAfterSeconds"`
}

func (c *CloudAPI) handleFakeFail(w http.ResponseWriter, r *http.Request) {
	var in cloudAPIFailSetting
	if !cloudAPIDecodeControl(w, r, cloudAPIMaxControlBody, &in) {
		return
	}
	if in.Status < 400 || in.Status > 599 || in.Count < 0 || in.RetryAfterSeconds < 0 {
		cloudAPIControlError(w, http.StatusBadRequest, "status must be 400 to 599; count and retryAfterSeconds must not be negative")
		return
	}
	c.FailNextRetryAfter(in.Status, in.Count, time.Duration(in.RetryAfterSeconds)*time.Second)
	cloudAPIWriteJSON(w, http.StatusOK, in)
}

func (c *CloudAPI) handleFakeMessages(w http.ResponseWriter, r *http.Request) {
	msgs := c.Messages()
	if msgs == nil {
		msgs = []CloudAPIMessage{}
	}
	cloudAPIWriteJSON(w, http.StatusOK, msgs)
}

// cloudAPIDecodeControl reads a bounded, strict JSON body into v, or
// answers 400 and returns false.
func cloudAPIDecodeControl(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		cloudAPIControlError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", limit))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		cloudAPIControlError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

func cloudAPIControlError(w http.ResponseWriter, status int, message string) {
	cloudAPIWriteJSON(w, status, map[string]string{"error": message})
}

package fakeprovider

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// cloudAPIMaxAnswer bounds how much of a webhook receiver's answer is read.
const cloudAPIMaxAnswer = 64 << 10

// The webhook body, written the way Meta writes it.
type cloudAPINotification struct {
	Object string          `json:"object"`
	Entry  []cloudAPIEntry `json:"entry"`
}

type cloudAPIEntry struct {
	ID      string           `json:"id"`
	Changes []cloudAPIChange `json:"changes"`
}

type cloudAPIChange struct {
	Value cloudAPIValue `json:"value"`
	Field string        `json:"field"`
}

type cloudAPIValue struct {
	MessagingProduct string            `json:"messaging_product"`
	Metadata         cloudAPIMetadata  `json:"metadata"`
	Contacts         []cloudAPIContact `json:"contacts,omitempty"`
	Messages         []map[string]any  `json:"messages,omitempty"`
	Statuses         []map[string]any  `json:"statuses,omitempty"`
}

type cloudAPIMetadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type cloudAPIContact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}

// notification wraps one change's value in the envelope of a webhook post.
func (c *CloudAPI) notification(v cloudAPIValue) []byte {
	v.MessagingProduct = "whatsapp"
	v.Metadata = cloudAPIMetadata{DisplayPhoneNumber: c.opts.DisplayPhoneNumber, PhoneNumberID: c.opts.PhoneNumberID}
	body, _ := json.Marshal(cloudAPINotification{
		Object: "whatsapp_business_account",
		Entry:  []cloudAPIEntry{{ID: c.opts.WABAID, Changes: []cloudAPIChange{{Value: v, Field: "messages"}}}},
	})
	return body
}

// SendInboundText posts a signed webhook with one text message from a
// contact to the webhook URL, and returns the receiver's status code.
func (c *CloudAPI) SendInboundText(ctx context.Context, from, name, text string) (int, error) {
	return c.sendInbound(ctx, from, name, map[string]any{
		"type": "text",
		"text": map[string]string{"body": text},
	})
}

// SendInboundMedia posts a signed webhook with one media message from a
// contact: an image, video, audio, sticker (image/webp) or document by
// mimeType, or by the registered media's type when mimeType is empty. The
// receiver looks the media up by its ID; register it with AddMedia first.
func (c *CloudAPI) SendInboundMedia(ctx context.Context, from, name, mediaID, mimeType, caption string) (int, error) {
	if mimeType == "" {
		c.mu.Lock()
		mimeType = c.media[mediaID].mimeType
		c.mu.Unlock()
		if mimeType == "" {
			mimeType = "application/octet-stream"
		}
	}
	sum := cloudAPIRandom(32)
	obj := map[string]string{"id": mediaID, "mime_type": mimeType, "sha256": hex.EncodeToString(sum)}
	typ := cloudAPIMediaType(mimeType)
	if caption != "" && typ != "audio" && typ != "sticker" {
		obj["caption"] = caption
	}
	return c.sendInbound(ctx, from, name, map[string]any{"type": typ, typ: obj})
}

// cloudAPIMediaType is the message type WhatsApp uses for a MIME type.
func cloudAPIMediaType(mimeType string) string {
	switch major, _, _ := strings.Cut(mimeType, "/"); {
	case mimeType == "image/webp":
		return "sticker"
	case major == "image", major == "video", major == "audio":
		return major
	}
	return "document"
}

func (c *CloudAPI) sendInbound(ctx context.Context, from, name string, msg map[string]any) (int, error) {
	id := cloudAPIMessageID()
	msg["from"] = from
	msg["id"] = id
	msg["timestamp"] = strconv.FormatInt(time.Now().Unix(), 10)
	contact := cloudAPIContact{WaID: from}
	contact.Profile.Name = name
	body := c.notification(cloudAPIValue{Contacts: []cloudAPIContact{contact}, Messages: []map[string]any{msg}})
	return c.post(ctx, CloudAPIWebhook{Kind: "message", MessageID: id, Body: body})
}

// PostWebhook signs body with the app secret and posts it to the webhook
// URL as is, for payloads the other methods do not make.
func (c *CloudAPI) PostWebhook(ctx context.Context, body []byte) (int, error) {
	return c.post(ctx, CloudAPIWebhook{Kind: "custom", Body: body})
}

// post sends one signed webhook and records it.
func (c *CloudAPI) post(ctx context.Context, rec CloudAPIWebhook) (int, error) {
	c.mu.Lock()
	target := c.webhookURL
	c.mu.Unlock()
	if target == "" {
		return 0, ErrCloudAPINoWebhook
	}
	status, err := c.deliver(ctx, target, rec.Body)
	rec.StatusCode, rec.At = status, time.Now().UTC()
	if err != nil {
		rec.Err = err.Error()
	}
	c.mu.Lock()
	c.webhooks = append(c.webhooks, rec)
	c.notifyLocked()
	c.mu.Unlock()
	return status, err
}

func (c *CloudAPI) deliver(ctx context.Context, target string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("fakeprovider: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", CloudAPISignature(c.opts.AppSecret, body))
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("fakeprovider: webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, cloudAPIMaxAnswer))
	return resp.StatusCode, nil
}

// cloudAPIStatusSequence is the statuses reported for a message whose last
// status is final.
func cloudAPIStatusSequence(final string) []string {
	switch final {
	case "sent":
		return []string{"sent"}
	case "delivered":
		return []string{"sent", "delivered"}
	case "read":
		return []string{"sent", "delivered", "read"}
	}
	return []string{"sent", final}
}

// reportStatuses posts the status reports of one accepted message, one by
// one, each after StatusDelay. Close cancels them.
func (c *CloudAPI) reportStatuses(id, to, final string) {
	defer c.wg.Done()
	conversation := hex.EncodeToString(cloudAPIRandom(16))
	for _, status := range cloudAPIStatusSequence(final) {
		select {
		case <-time.After(c.opts.StatusDelay):
		case <-c.ctx.Done():
			return
		}
		st := map[string]any{
			"id":           id,
			"status":       status,
			"timestamp":    strconv.FormatInt(time.Now().Unix(), 10),
			"recipient_id": strings.TrimPrefix(to, "+"),
		}
		if status == "failed" {
			st["errors"] = []map[string]any{{
				"code":       131026,
				"title":      "Message undeliverable",
				"message":    "Message undeliverable",
				"error_data": map[string]string{"details": "The recipient could not be reached."},
			}}
		} else {
			st["conversation"] = map[string]any{"id": conversation, "origin": map[string]string{"type": "service"}}
			st["pricing"] = map[string]any{"billable": true, "pricing_model": "CBP", "category": "service"}
		}
		body := c.notification(cloudAPIValue{Statuses: []map[string]any{st}})
		c.post(c.ctx, CloudAPIWebhook{Kind: "status", MessageID: id, Status: status, Body: body})
	}
}

// Subscribe performs the handshake Meta makes when an app's webhook URL is
// saved: a GET with hub.mode=subscribe, hub.verify_token and a random
// hub.challenge. It reports whether the answer was 200 with exactly the
// challenge; the error is for a request that got no answer.
func (c *CloudAPI) Subscribe(ctx context.Context, webhookURL, verifyToken string) (bool, error) {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false, fmt.Errorf("fakeprovider: subscribe: %q is not an http or https URL", webhookURL)
	}
	challenge := cloudAPIChallenge()
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", verifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("fakeprovider: subscribe: %w", err)
	}
	req.Header.Set("User-Agent", "facebookplatform/1.0 (+http://developers.facebook.com)")
	resp, err := c.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("fakeprovider: subscribe: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, cloudAPIMaxAnswer))
	return resp.StatusCode == http.StatusOK && string(body) == challenge, nil
}

// cloudAPIChallenge is a random ten-digit number, as Meta sends.
func cloudAPIChallenge() string {
	b := cloudAPIRandom(10)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

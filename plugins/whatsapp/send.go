package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// WhatsApp's limits on what a business sends, in characters.
const (
	maxBodyChars    = 4096
	maxCaptionChars = 1024
	maxOutMediaURL  = 2048
)

// recipientPattern is a number in international format, digits only,
// optionally written with a leading +.
var recipientPattern = regexp.MustCompile(`^\+?[0-9]{1,32}$`)

// outMessage is the body of POST /{version}/{phoneNumberId}/messages.
type outMessage struct {
	MessagingProduct string    `json:"messaging_product"`
	RecipientType    string    `json:"recipient_type"`
	To               string    `json:"to"`
	Type             string    `json:"type"`
	Text             *outText  `json:"text,omitempty"`
	Image            *outMedia `json:"image,omitempty"`
	Video            *outMedia `json:"video,omitempty"`
	Document         *outMedia `json:"document,omitempty"`
}

type outText struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

type outMedia struct {
	Link     string `json:"link"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// sendAnswer is the messages endpoint's answer to an accepted message.
type sendAnswer struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

// Send posts one message to the Graph API. A message with MediaURL goes out
// as an image, a video or a document, chosen by the URL's file extension,
// with Content as its caption; any other as text.
//
// A message WhatsApp cannot take (no recipient number, too long, nothing
// to send) fails at once. The provider's 429 and 5xx answers and network
// failures are retryable; its other refusals are not. A 2xx answer without
// a message ID still counts as sent: sending again could deliver twice.
func (w *WhatsApp) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResult, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, sdk.BadConfig("%v", err)
	}
	msg, err := outgoing(req)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: encode message: %w", err)
	}
	endpoint := cfg.BaseURL + "/" + cfg.APIVersion + "/" + cfg.PhoneNumberID + "/messages"
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("whatsapp: send: %w", err)
	}
	httpReq.Header.Set("Authorization", "Bearer "+cfg.AccessToken)
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("Accept", "application/json")
	resp, err := w.clients.get(req.AllowPrivate).Do(httpReq)
	if err != nil {
		perr := sdk.ProviderNetworkError(err)
		perr.Message = scrub(perr.Message, cfg)
		return nil, perr
	}
	defer resp.Body.Close()
	answer := sdk.ReadProviderBody(resp.Body, maxGraphAnswer)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, sdk.ProviderResponseError(resp, graphErrorReason(answer, cfg))
	}
	var a sendAnswer
	if json.Unmarshal(answer, &a) == nil && len(a.Messages) > 0 {
		if id := a.Messages[0].ID; id != "" && len(id) <= maxIDLen && printableASCII(id) {
			return &sdk.SendResult{ExternalID: id}, nil
		}
	}
	return &sdk.SendResult{}, nil
}

// outgoing builds the message, or fails it for good.
func outgoing(req *sdk.SendRequest) (*outMessage, error) {
	to := strings.TrimSpace(req.To)
	if !recipientPattern.MatchString(to) {
		return nil, permanent("recipient %s is not a phone number in international format", sdk.Quote(to))
	}
	if err := sdk.CheckText("content", req.Content); err != nil {
		return nil, permanent("%v", err)
	}
	msg := &outMessage{
		MessagingProduct: "whatsapp",
		RecipientType:    "individual",
		To:               strings.TrimPrefix(to, "+"),
	}
	if req.MediaURL == "" {
		if strings.TrimSpace(req.Content) == "" {
			return nil, permanent("the message has neither text nor media")
		}
		if n := utf8.RuneCountInString(req.Content); n > maxBodyChars {
			return nil, permanent("text is %d characters; WhatsApp takes at most %d", n, maxBodyChars)
		}
		msg.Type = "text"
		msg.Text = &outText{Body: req.Content}
		return msg, nil
	}
	u, err := url.Parse(req.MediaURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(req.MediaURL) > maxOutMediaURL {
		return nil, permanent("media URL must be an absolute http or https URL of at most %d bytes", maxOutMediaURL)
	}
	if n := utf8.RuneCountInString(req.Content); n > maxCaptionChars {
		return nil, permanent("caption is %d characters; WhatsApp takes at most %d", n, maxCaptionChars)
	}
	media := &outMedia{Link: req.MediaURL, Caption: req.Content}
	msg.Type = mediaType(u.Path)
	switch msg.Type {
	case "image":
		msg.Image = media
	case "video":
		msg.Video = media
	default:
		if name := path.Base(u.Path); name != "/" && name != "." && len(name) <= 240 &&
			utf8.ValidString(name) && !strings.ContainsFunc(name, unicode.IsControl) {
			media.Filename = name
		}
		msg.Document = media
	}
	return msg, nil
}

// mediaType picks the message type for a media file by its extension.
// Anything but a JPEG or PNG image or an MP4 or 3GP video goes as a
// document, which WhatsApp takes in any format and with a caption.
func mediaType(p string) string {
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg", ".png":
		return "image"
	case ".mp4", ".3gp":
		return "video"
	}
	return "document"
}

// permanent is a failure no retry can mend.
func permanent(format string, args ...any) *sdk.ProviderError {
	return &sdk.ProviderError{Message: "whatsapp: " + fmt.Sprintf(format, args...)}
}

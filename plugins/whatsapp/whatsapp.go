package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Version of the plugin, reported to the hub.
const Version = "0.1.0"

// ReplyWindow is how long after a contact's last message WhatsApp accepts a
// free-form reply; after it only approved templates may be sent.
const ReplyWindow = 24 * time.Hour

// SignatureHeader carries the webhook signature: "sha256=" and the hex
// HMAC-SHA256 of the raw body, keyed with the app secret.
const SignatureHeader = "X-Hub-Signature-256"

// WhatsApp is the channel plugin for the WhatsApp Business Cloud API. It
// answers the webhook subscription handshake, checks and normalises webhook
// posts (contacts' messages and the statuses of sent ones), and sends
// replies through the Graph API.
//
// Every call carries the connection's settings; the plugin keeps only its
// HTTP clients. The zero value is ready to use.
type WhatsApp struct {
	clients clients
}

var _ sdk.Channel = (*WhatsApp)(nil)

// Info declares the plugin.
func (*WhatsApp) Info() sdk.Info {
	return sdk.Info{
		Kind:         "whatsapp",
		Version:      Version,
		DisplayName:  "WhatsApp (Cloud API)",
		Channel:      "WHATSAPP",
		Auth:         sdk.AuthSignature,
		Sends:        true,
		ReplyWindow:  ReplyWindow,
		ConfigSchema: configSchema,
	}
}

// HandleInbound answers the subscription handshake (GET) or handles a
// signed webhook post (POST).
func (w *WhatsApp) HandleInbound(ctx context.Context, req *sdk.InboundRequest) (*sdk.InboundResult, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, sdk.BadConfig("%v", err)
	}
	switch req.Method {
	case http.MethodGet:
		return verifySubscription(cfg, req.URL)
	case http.MethodPost:
		if err := checkSignature(cfg.AppSecret, req.Header, req.Body); err != nil {
			return nil, err
		}
		media := &mediaResolver{cfg: cfg, client: w.clients.get(req.AllowPrivate)}
		return handleNotification(ctx, cfg, req, media)
	}
	return nil, sdk.Reject(sdk.ReasonUnsupported, "method %s is not used by WhatsApp webhooks; expected GET or POST", sdk.Quote(req.Method))
}

// maxChallengeLen bounds the hub.challenge echoed back. Meta sends a short
// number.
const maxChallengeLen = 256

// verifySubscription answers the handshake Meta performs when an admin
// saves the webhook URL: with hub.mode=subscribe and the connection's
// verify token, the answer is exactly hub.challenge.
func verifySubscription(cfg *config, rawURL string) (*sdk.InboundResult, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "verification request has an unreadable URL")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "verification request has an unreadable query string")
	}
	token, ok := single(q, "hub.verify_token")
	if !ok || !equalSecret(token, cfg.VerifyToken) {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "verification token does not match")
	}
	if mode, _ := single(q, "hub.mode"); mode != "subscribe" {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "hub.mode must be subscribe")
	}
	challenge, ok := single(q, "hub.challenge")
	if !ok || challenge == "" || len(challenge) > maxChallengeLen || !printableASCII(challenge) {
		return nil, sdk.InvalidField("hub.challenge", "hub.challenge must be 1 to %d printable ASCII characters", maxChallengeLen)
	}
	return &sdk.InboundResult{Reply: &sdk.HTTPReply{
		Status:      http.StatusOK,
		ContentType: "text/plain; charset=utf-8",
		Body:        []byte(challenge),
	}}, nil
}

// single is the one value of a query parameter; a repeated one is refused,
// since two readers could pick different copies.
func single(q url.Values, name string) (string, bool) {
	v := q[name]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// equalSecret compares two secrets in time that depends on neither their
// contents nor their lengths.
func equalSecret(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkSignature verifies X-Hub-Signature-256 over the exact raw body. The
// refusal never says what the expected value was.
func checkSignature(appSecret string, h http.Header, body []byte) error {
	values := h.Values(SignatureHeader)
	if len(values) == 0 {
		return sdk.Reject(sdk.ReasonBadSignature, "%s header is missing", SignatureHeader)
	}
	if len(values) > 1 {
		return sdk.Reject(sdk.ReasonBadSignature, "%s header is repeated", SignatureHeader)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(values[0]), "sha256=")
	if !ok {
		return sdk.Reject(sdk.ReasonBadSignature, "%s must start with sha256=", SignatureHeader)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return sdk.Reject(sdk.ReasonBadSignature, "%s must hold a hex SHA-256 digest", SignatureHeader)
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return sdk.Reject(sdk.ReasonBadSignature, "%s does not match the body and the connection's app secret", SignatureHeader)
	}
	return nil
}

package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// maxGraphAnswer bounds how much of a Graph API answer is read.
const maxGraphAnswer = 64 << 10

// clients holds the two guarded HTTP clients, made on first use and kept so
// that connections to the Graph API are reused across calls.
type clients struct {
	once sync.Once
	// guarded refuses private addresses; open allows them.
	guarded, open *http.Client
}

func (c *clients) get(allowPrivate bool) *http.Client {
	c.once.Do(func() {
		c.guarded = sdk.ProviderClient(false)
		c.open = sdk.ProviderClient(true)
	})
	if allowPrivate {
		return c.open
	}
	return c.guarded
}

// graphError is the error object of a Graph API answer.
type graphError struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// graphErrorReason is "<code>: <message>" from a Graph API error body, with
// the details when they add something, or "" when the body is not one. The
// connection's secrets are cut out in case an endpoint echoes them, and the
// text is made safe to carry: valid UTF-8, no control characters.
func graphErrorReason(body []byte, cfg *config) string {
	var g graphError
	if json.Unmarshal(body, &g) != nil || g.Error == nil {
		return ""
	}
	e := g.Error
	reason := strings.TrimSpace(e.Message)
	if d := strings.TrimSpace(e.ErrorData.Details); d != "" && !strings.Contains(reason, d) {
		if reason == "" {
			reason = d
		} else {
			reason += " (" + d + ")"
		}
	}
	if reason == "" {
		reason = "no message"
	}
	if e.Code != 0 {
		reason = strconv.Itoa(e.Code) + ": " + reason
	}
	return scrub(reason, cfg)
}

// scrub removes the connection's secrets from text a provider wrote and
// makes it safe to carry in an error.
func scrub(s string, cfg *config) string {
	for _, secret := range []string{cfg.AccessToken, cfg.AppSecret, cfg.VerifyToken} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

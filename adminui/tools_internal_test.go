package adminui

import (
	"strings"
	"testing"
)

// TestInboundDocOfAPluginsKind: a kind of a third party's plugin gets its
// inbound URL and the way its traffic is authenticated.
func TestInboundDocOfAPluginsKind(t *testing.T) {
	in := integration{ID: "01a1fe7b-0000-7000-8000-000000000002", Kind: "telegram",
		InboundURL: "https://hub.example/api/webhooks/telegram/01a1fe7b-0000-7000-8000-000000000002"}
	tests := []struct {
		name, auth string
		keyed      bool
		says       string
	}{
		{"api key", "api_key", true, "X-Api-Key"},
		{"signature", "signature", false, "signature"},
		{"public", "public", false, "anyone"},
		{"not reported", "", true, "Not reported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := inboundDoc(in, kindInfo{Kind: "telegram", DisplayName: "Telegram", Auth: tt.auth, State: "running"})
			if a.URL != in.InboundURL || a.Path != "/api/webhooks/telegram/"+in.ID || a.Title != "Inbound API: Telegram" {
				t.Errorf("doc: %+v", a)
			}
			if (a.Key != "") != tt.keyed || !strings.Contains(a.Auth, tt.says) {
				t.Errorf("auth %q: key %q, says %q", tt.auth, a.Key, a.Auth)
			}
			cmd, err := a.curl(in)
			if err != nil || !strings.HasPrefix(cmd, "curl -sS -X POST '"+in.InboundURL+"'") || strings.Contains(cmd, "$SWITCHBOARD_API_KEY") != tt.keyed {
				t.Errorf("curl: %v\n%s", err, cmd)
			}
		})
	}
	a := inboundDoc(in, kindInfo{Kind: "telegram", Auth: "api_key", State: "restarting"})
	if len(a.Notes) == 0 || !strings.Contains(a.Notes[0], "restarting") {
		t.Errorf("a plugin that is not running is not mentioned: %v", a.Notes)
	}
}

// TestResponseSampleUsesTheConnection: the response API's sample answers on
// the integration's own connection.
func TestResponseSampleUsesTheConnection(t *testing.T) {
	in := integration{ID: "i1", Kind: "custom", InboundURL: "https://hub.example/base/api/webhooks/custom/i1"}
	a := responseDoc(in, []connection{{Code: "wa-main", Channel: "WHATSAPP", Sender: "15550000001"}})
	if !strings.Contains(a.Try.Body, `"sender": "15550000001"`) || !strings.Contains(a.Try.Body, `"type": "WHATSAPP"`) || len(a.Notes) != 0 {
		t.Errorf("sample: %s, notes %v", a.Try.Body, a.Notes)
	}
	if a.URL != "https://hub.example/base/integrations/live-chat/i1/chats/{chatIdentifier}/events" {
		t.Errorf("url: %s", a.URL)
	}
	a = responseDoc(in, []connection{{Code: "sms-1", Channel: "SMS", Sender: "+15550000002"}})
	if !strings.Contains(a.Try.Body, `"connection": "sms-1"`) {
		t.Errorf("sample: %s", a.Try.Body)
	}
}

// TestMarkLine: the line an error names, with up to three lines each side.
func TestMarkLine(t *testing.T) {
	v := &transformView{Script: "a\nb\nc\nd\ne\nf\ng\nh\n"}
	v.markLine("SyntaxError: Unexpected token (transform.js line 5, column 2)")
	if v.ErrorLine != 5 || len(v.Listing) != 7 || v.Listing[0].N != 2 || !v.Listing[3].Error || v.Listing[3].Text != "e" {
		t.Errorf("line 5: %d %+v", v.ErrorLine, v.Listing)
	}
	for _, msg := range []string{"no line here", "Error (transform.js line 99, column 1)", "Error (transform.js line 0, column 1)"} {
		v := &transformView{Script: "a\nb"}
		if v.markLine(msg); v.ErrorLine != 0 || v.Listing != nil {
			t.Errorf("%q marked line %d", msg, v.ErrorLine)
		}
	}
}

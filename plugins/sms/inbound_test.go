package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

// TestInboundThroughFake drives the plugin the way production does: the
// fake provider posts signed forms over loopback to a stand-in hub route,
// which hands them to the plugin over gRPC and answers with its reply.
func TestInboundThroughFake(t *testing.T) {
	tw := startFake(t, fakeprovider.TwilioOptions{})
	client := plugintest.Connect(t, &SMS{})
	h := newHub(t, client, providerConfig(t, tw.AccountSID(), tw.AuthToken(), tw.URL()))

	tests := []struct {
		name  string
		path  string
		msg   fakeprovider.TwilioInbound
		check func(t *testing.T, m sdk.InboundMessage)
	}{
		{
			name: "text",
			path: "/api/webhooks/sms/conn1",
			msg:  fakeprovider.TwilioInbound{From: "+15550001111", To: "+15550002222", Body: "Hello, I need help with order #42 & more"},
			check: func(t *testing.T, m sdk.InboundMessage) {
				if m.Content != "Hello, I need help with order #42 & more" || m.MediaURL != "" || m.MediaCaption != "" {
					t.Errorf("content %q media %q caption %q", m.Content, m.MediaURL, m.MediaCaption)
				}
			},
		},
		{
			name: "media with caption",
			path: "/api/webhooks/sms/conn1",
			msg:  fakeprovider.TwilioInbound{From: "+15550001111", To: "+15550002222", Body: "see photo", MediaURL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"},
			check: func(t *testing.T, m sdk.InboundMessage) {
				if m.MediaURL != "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1" || m.MediaCaption != "see photo" || m.Content != "see photo" {
					t.Errorf("media %q caption %q content %q", m.MediaURL, m.MediaCaption, m.Content)
				}
			},
		},
		{
			name: "media alone",
			path: "/api/webhooks/sms/conn1",
			msg:  fakeprovider.TwilioInbound{From: "+15550001111", To: "+15550002222", MediaURL: "https://media.example/x.jpg"},
			check: func(t *testing.T, m sdk.InboundMessage) {
				if m.MediaURL != "https://media.example/x.jpg" || m.Content != "" || m.MediaCaption != "" {
					t.Errorf("media %q caption %q content %q", m.MediaURL, m.MediaCaption, m.Content)
				}
			},
		},
		{
			name: "URL with a query string",
			path: "/api/webhooks/sms/conn1?region=eu&tag=a%2Fb",
			msg:  fakeprovider.TwilioInbound{From: "+15550001111", To: "+15550002222", Body: "hi"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.seen())
			reply, err := tw.SendInbound(t.Context(), h.URL+tt.path, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if reply.StatusCode != http.StatusOK || reply.ContentType != "text/xml" ||
				string(reply.Body) != `<?xml version="1.0" encoding="UTF-8"?><Response></Response>` {
				t.Fatalf("reply %d %q %q, want an empty TwiML answer", reply.StatusCode, reply.ContentType, reply.Body)
			}
			out := h.seen()[before]
			if out.err != nil || len(out.result.Messages) != 1 || len(out.result.Statuses) != 0 {
				t.Fatalf("outcome %+v, %v", out.result, out.err)
			}
			m := out.result.Messages[0]
			if m.ExternalID != reply.MessageSID || m.ThreadExternalID != tt.msg.From || m.Sender != tt.msg.To ||
				m.From != (sdk.Contact{ExternalID: tt.msg.From, Phone: tt.msg.From}) ||
				m.ContentType != "text" || m.Event != sdk.EventMessage || !m.SentAt.Equal(received) {
				t.Errorf("message %+v", m)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

// TestInboundThroughFakeWrongToken: a provider signing with another
// account's token is refused, and nothing comes through.
func TestInboundThroughFakeWrongToken(t *testing.T) {
	tw := startFake(t, fakeprovider.TwilioOptions{})
	client := plugintest.Connect(t, &SMS{})
	h := newHub(t, client, providerConfig(t, tw.AccountSID(), "a-different-token", ""))
	reply, err := tw.SendInbound(t.Context(), h.URL+"/api/webhooks/sms/conn1", fakeprovider.TwilioInbound{From: "+1", To: "+2", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if reply.StatusCode != http.StatusForbidden {
		t.Errorf("status %d, want the stand-in hub's 403 for a rejection", reply.StatusCode)
	}
	var rej *sdk.RejectError
	if out := h.seen()[0]; !errors.As(out.err, &rej) || rej.Reason != sdk.ReasonBadSignature || out.result != nil {
		t.Errorf("outcome %+v, %v; want a bad signature", out.result, out.err)
	}
}

// TestStatusCallbacksThroughFake sends a message with the connection's
// inbound URL as its status callback, and follows the fake's signed
// reports back through the plugin.
func TestStatusCallbacksThroughFake(t *testing.T) {
	tests := []struct {
		name      string
		final     string
		code      int
		wantFinal sdk.StatusUpdate
	}{
		{name: "delivered", final: "delivered", wantFinal: sdk.StatusUpdate{Status: sdk.StatusDelivered}},
		{name: "undelivered", final: "undelivered", wantFinal: sdk.StatusUpdate{Status: sdk.StatusFailed, Error: "30003: Unreachable destination handset"}},
		{name: "failed, carrier filter", final: "failed", code: 30007, wantFinal: sdk.StatusUpdate{Status: sdk.StatusFailed, Error: "30007: Message filtered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := startFake(t, fakeprovider.TwilioOptions{Callbacks: true, FinalStatus: tt.final, ErrorCode: tt.code, CallbackDelay: time.Millisecond})
			client := plugintest.Connect(t, &SMS{})
			config := providerConfig(t, tw.AccountSID(), tw.AuthToken(), tw.URL())
			h := newHub(t, client, config)

			res, err := client.Send(t.Context(), &sdk.SendRequest{
				Config: config, To: "+15550001111", From: "+15550002222", Content: "Your order shipped",
				MessageID: "msg_1", CallbackURL: h.URL + "/api/webhooks/sms/conn1", AllowPrivate: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			cbs, err := tw.WaitCallbacks(ctx, 2)
			if err != nil {
				t.Fatalf("callbacks: %v", err)
			}
			for _, cb := range cbs {
				if cb.StatusCode != http.StatusNoContent {
					t.Errorf("callback %s answered %d (%s), want 204", cb.Status, cb.StatusCode, cb.Error)
				}
			}
			got := h.statuses()
			if len(got) != 2 {
				t.Fatalf("statuses %+v, want sent then final", got)
			}
			tt.wantFinal.ExternalID, tt.wantFinal.At = res.ExternalID, received
			if want := (sdk.StatusUpdate{ExternalID: res.ExternalID, Status: sdk.StatusSent, At: received}); got[0] != want {
				t.Errorf("first status %+v, want %+v", got[0], want)
			}
			if got[1] != tt.wantFinal {
				t.Errorf("final status %+v, want %+v", got[1], tt.wantFinal)
			}
		})
	}
}

// inboundForm is a contact's message as the provider posts it.
func inboundForm(msg fakeprovider.TwilioInbound) url.Values {
	tw := fakeprovider.NewTwilio(fakeprovider.TwilioOptions{AccountSID: testAccountSID, AuthToken: testAuthToken})
	defer tw.Close()
	if msg.MessageSID == "" {
		msg.MessageSID = "SM" + strings.Repeat("ab", 16)
	}
	return tw.InboundForm(msg)
}

// callbackForm is a status report as the provider posts it.
func callbackForm(status string, extra ...string) url.Values {
	form := url.Values{
		"AccountSid": {testAccountSID}, "ApiVersion": {"2010-04-01"},
		"MessageSid": {"SM" + strings.Repeat("cd", 16)}, "SmsSid": {"SM" + strings.Repeat("cd", 16)},
		"MessageStatus": {status}, "SmsStatus": {status},
		"From": {"+15550002222"}, "To": {"+15550001111"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return form
}

func with(form url.Values, change func(url.Values)) url.Values {
	out := url.Values{}
	for k, vs := range form {
		out[k] = append([]string(nil), vs...)
	}
	change(out)
	return out
}

func TestHandleInbound(t *testing.T) {
	client := plugintest.Connect(t, &SMS{})
	text := inboundForm(fakeprovider.TwilioInbound{From: "+15550001111", To: "+15550002222", Body: "hello"})
	media := inboundForm(fakeprovider.TwilioInbound{From: "+15550001111", To: "+15550002222", MediaURL: "https://media.example/a.png"})

	tests := []struct {
		name string
		form url.Values
		// signURL and signToken default to testHookURL and testAuthToken.
		signURL, signToken string
		// url is where the request arrives; testHookURL by default.
		url string
		// tamper changes the form after it was signed.
		tamper func(url.Values)
		// request changes the request after it was built.
		request func(*sdk.InboundRequest)

		wantReason sdk.Reason
		wantField  string
		check      func(t *testing.T, res *sdk.InboundResult)
	}{
		{name: "text message", form: text, check: func(t *testing.T, res *sdk.InboundResult) {
			if len(res.Messages) != 1 || res.Messages[0].Content != "hello" || res.Messages[0].ExternalID != text.Get("MessageSid") {
				t.Errorf("messages %+v", res.Messages)
			}
			if r := res.Reply; r == nil || r.Status != 200 || r.ContentType != "text/xml" || !strings.Contains(string(r.Body), "<Response></Response>") {
				t.Errorf("reply %+v", r)
			}
		}},
		{name: "signed over a URL with a query string", form: text,
			signURL: testHookURL + "?a=1&b=%20two", url: testHookURL + "?a=1&b=%20two", check: oneMessage},
		{name: "a message without a status parameter", form: with(text, func(v url.Values) { v.Del("SmsStatus") }), check: oneMessage},
		{name: "status receiving is a message", form: with(text, func(v url.Values) { v.Set("SmsStatus", "receiving") }), check: oneMessage},
		{name: "a repeated parameter, values signed sorted", form: with(text, func(v url.Values) { v["AddOns"] = []string{"z", "a"} }), check: oneMessage},
		{name: "Body at its limit", form: with(text, func(v url.Values) { v.Set("Body", strings.Repeat("é", maxBodyChars)) }), check: oneMessage},
		{name: "media message", form: media, check: func(t *testing.T, res *sdk.InboundResult) {
			if len(res.Messages) != 1 || res.Messages[0].MediaURL != "https://media.example/a.png" {
				t.Errorf("messages %+v", res.Messages)
			}
		}},
		{name: "Content-Type with a charset", form: text, request: func(r *sdk.InboundRequest) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}, check: oneMessage},

		// Status callbacks.
		{name: "delivered", form: callbackForm("delivered"), check: status(sdk.StatusDelivered, "")},
		{name: "read is delivered", form: callbackForm("read"), check: status(sdk.StatusDelivered, "")},
		{name: "sent", form: callbackForm("sent"), check: status(sdk.StatusSent, "")},
		{name: "accepted is queued", form: callbackForm("accepted"), check: status(sdk.StatusQueued, "")},
		{name: "sending is queued", form: callbackForm("sending"), check: status(sdk.StatusQueued, "")},
		{name: "undelivered with a code", form: callbackForm("undelivered", "ErrorCode", "30003"),
			check: status(sdk.StatusFailed, "30003: Unreachable destination handset")},
		{name: "failed with code and message", form: callbackForm("failed", "ErrorCode", "21610", "ErrorMessage", "Attempt to send to unsubscribed recipient"),
			check: status(sdk.StatusFailed, "21610: Attempt to send to unsubscribed recipient")},
		{name: "failed with an unknown code", form: callbackForm("failed", "ErrorCode", "39999"), check: status(sdk.StatusFailed, "39999")},
		{name: "failed without a code", form: callbackForm("failed"), check: status(sdk.StatusFailed, "the provider reported the message failed")},
		{name: "canceled", form: callbackForm("canceled"), check: status(sdk.StatusFailed, "the provider reported the message canceled")},
		{name: "SmsStatus alone", form: with(callbackForm("delivered"), func(v url.Values) { v.Del("MessageStatus") }), check: status(sdk.StatusDelivered, "")},
		{name: "unknown status ignored", form: callbackForm("partially_delivered"), check: func(t *testing.T, res *sdk.InboundResult) {
			if len(res.Messages) != 0 || len(res.Statuses) != 0 || res.Reply == nil || res.Reply.Status != http.StatusNoContent {
				t.Errorf("result %+v", res)
			}
		}},

		// Signatures.
		{name: "signature missing", form: text, request: func(r *sdk.InboundRequest) { r.Header.Del("X-Twilio-Signature") }, wantReason: sdk.ReasonBadSignature},
		{name: "signature empty", form: text, request: func(r *sdk.InboundRequest) { r.Header.Set("X-Twilio-Signature", "") }, wantReason: sdk.ReasonBadSignature},
		{name: "signature garbage", form: text, request: func(r *sdk.InboundRequest) { r.Header.Set("X-Twilio-Signature", "not-a-signature") }, wantReason: sdk.ReasonBadSignature},
		{name: "signed for another connection", form: text, signURL: "https://hub.example.com/api/webhooks/sms/conn2", wantReason: sdk.ReasonBadSignature},
		{name: "signed for another host", form: text, signURL: "https://evil.example.com/api/webhooks/sms/conn1", wantReason: sdk.ReasonBadSignature},
		{name: "signed over http, called over https", form: text, signURL: "http://hub.example.com/api/webhooks/sms/conn1", wantReason: sdk.ReasonBadSignature},
		{name: "signed without the query string", form: text, url: testHookURL + "?a=1", wantReason: sdk.ReasonBadSignature},
		{name: "signed with a query string, called without", form: text, signURL: testHookURL + "?a=1", wantReason: sdk.ReasonBadSignature},
		{name: "Body tampered", form: text, tamper: func(v url.Values) { v.Set("Body", "send me the money") }, wantReason: sdk.ReasonBadSignature},
		{name: "From tampered", form: text, tamper: func(v url.Values) { v.Set("From", "+15559999999") }, wantReason: sdk.ReasonBadSignature},
		{name: "parameter added", form: text, tamper: func(v url.Values) { v.Set("NumMedia", "1"); v.Set("MediaUrl0", "https://evil.example/x") }, wantReason: sdk.ReasonBadSignature},
		{name: "parameter repeated", form: text, tamper: func(v url.Values) { v.Add("Body", "again") }, wantReason: sdk.ReasonBadSignature},
		{name: "parameter removed", form: text, tamper: func(v url.Values) { v.Del("To") }, wantReason: sdk.ReasonBadSignature},
		{name: "status tampered", form: callbackForm("undelivered", "ErrorCode", "30003"), tamper: func(v url.Values) {
			v.Set("MessageStatus", "delivered")
			v.Del("ErrorCode")
		}, wantReason: sdk.ReasonBadSignature},
		{name: "wrong token", form: text, signToken: "another-accounts-token", wantReason: sdk.ReasonBadSignature},
		{name: "body not a form", form: text, request: func(r *sdk.InboundRequest) { r.Body = []byte("%zz") }, wantField: "body"},

		// Methods and formats.
		{name: "GET", form: text, request: func(r *sdk.InboundRequest) { r.Method = http.MethodGet }, wantReason: sdk.ReasonUnsupported},
		{name: "JSON", form: text, request: func(r *sdk.InboundRequest) { r.Header.Set("Content-Type", "application/json") }, wantReason: sdk.ReasonUnsupported},
		{name: "no Content-Type", form: text, request: func(r *sdk.InboundRequest) { r.Header.Del("Content-Type") }, wantReason: sdk.ReasonUnsupported},

		// Payloads, signed correctly.
		{name: "NUL in Body", form: with(text, func(v url.Values) { v.Set("Body", "a\x00b") }), wantField: "Body"},
		{name: "invalid UTF-8 in Body", form: with(text, func(v url.Values) { v.Set("Body", "a\xffb") }), wantField: "Body"},
		{name: "NUL in From", form: with(text, func(v url.Values) { v.Set("From", "+1\x00") }), wantField: "From"},
		{name: "invalid UTF-8 in To", form: with(text, func(v url.Values) { v.Set("To", "\xc3") }), wantField: "To"},
		{name: "NUL in MediaUrl0", form: with(media, func(v url.Values) { v.Set("MediaUrl0", "https://m.example/\x00") }), wantField: "MediaUrl0"},
		{name: "missing From", form: with(text, func(v url.Values) { v.Del("From") }), wantField: "From"},
		{name: "blank From", form: with(text, func(v url.Values) { v.Set("From", "  ") }), wantField: "From"},
		{name: "missing To", form: with(text, func(v url.Values) { v.Del("To") }), wantField: "To"},
		{name: "missing MessageSid", form: with(text, func(v url.Values) { v.Del("MessageSid") }), wantField: "MessageSid"},
		{name: "MessageSid too long", form: with(text, func(v url.Values) { v.Set("MessageSid", "SM"+strings.Repeat("a", 100)) }), wantField: "MessageSid"},
		{name: "From too long", form: with(text, func(v url.Values) { v.Set("From", strings.Repeat("1", 65)) }), wantField: "From"},
		{name: "Body too long", form: with(text, func(v url.Values) { v.Set("Body", strings.Repeat("a", maxBodyChars+1)) }), wantField: "Body"},
		{name: "no Body and no media", form: with(text, func(v url.Values) { v.Set("Body", "") }), wantField: "Body"},
		{name: "NumMedia not a number", form: with(media, func(v url.Values) { v.Set("NumMedia", "one") }), wantField: "NumMedia"},
		{name: "NumMedia negative", form: with(media, func(v url.Values) { v.Set("NumMedia", "-1") }), wantField: "NumMedia"},
		{name: "NumMedia absurd", form: with(media, func(v url.Values) { v.Set("NumMedia", "1000000") }), wantField: "NumMedia"},
		{name: "NumMedia overflowing", form: with(media, func(v url.Values) { v.Set("NumMedia", "99999999999999999999999") }), wantField: "NumMedia"},
		{name: "NumMedia without MediaUrl0", form: with(media, func(v url.Values) { v.Del("MediaUrl0") }), wantField: "MediaUrl0"},
		{name: "MediaUrl0 not http", form: with(media, func(v url.Values) { v.Set("MediaUrl0", "javascript:alert(1)") }), wantField: "MediaUrl0"},
		{name: "callback without MessageSid", form: with(callbackForm("delivered"), func(v url.Values) { v.Del("MessageSid") }), wantField: "MessageSid"},
		{name: "NUL in ErrorMessage", form: callbackForm("failed", "ErrorCode", "30003", "ErrorMessage", "x\x00"), wantField: "ErrorMessage"},
		{name: "ErrorCode not a number", form: callbackForm("failed", "ErrorCode", "30003; drop"), wantField: "ErrorCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signURL, signToken, target := testHookURL, testAuthToken, testHookURL
			if tt.signURL != "" {
				signURL = tt.signURL
			}
			if tt.signToken != "" {
				signToken = tt.signToken
			}
			if tt.url != "" {
				target = tt.url
			}
			req := signedRequest(t, signURL, tt.form, signToken)
			req.URL = target
			req.Config = providerConfig(t, testAccountSID, testAuthToken, "")
			if tt.tamper != nil {
				req.Body = []byte(with(tt.form, tt.tamper).Encode())
			}
			if tt.request != nil {
				tt.request(req)
			}
			res, err := client.HandleInbound(t.Context(), req)
			if tt.check != nil {
				if err != nil {
					t.Fatalf("HandleInbound: %v", err)
				}
				tt.check(t, res)
				return
			}
			var rej *sdk.RejectError
			if !errors.As(err, &rej) {
				t.Fatalf("err = %v (result %+v), want a rejection", err, res)
			}
			wantReason := tt.wantReason
			if tt.wantField != "" {
				wantReason = sdk.ReasonInvalidPayload
			}
			if rej.Reason != wantReason || rej.Field != tt.wantField {
				t.Errorf("rejection %v field %q (%s), want %v field %q", rej.Reason, rej.Field, rej.Message, wantReason, tt.wantField)
			}
			if tt.wantField != "" && !strings.Contains(rej.Message, tt.wantField) {
				t.Errorf("message %q does not name %s", rej.Message, tt.wantField)
			}
			expected := fakeprovider.TwilioSignature(testAuthToken, target, tt.form)
			if leaksSecret(rej.Message, testAccountSID, testAuthToken) || strings.Contains(rej.Message, expected) {
				t.Errorf("rejection %q shows the token or the expected signature", rej.Message)
			}
		})
	}
}

func oneMessage(t *testing.T, res *sdk.InboundResult) {
	t.Helper()
	if len(res.Messages) != 1 || len(res.Statuses) != 0 {
		t.Errorf("result %+v, want one message", res)
	}
}

// status checks a result holding one status update and no message.
func status(want, wantErr string) func(t *testing.T, res *sdk.InboundResult) {
	return func(t *testing.T, res *sdk.InboundResult) {
		t.Helper()
		if len(res.Messages) != 0 || len(res.Statuses) != 1 {
			t.Fatalf("result %+v, want one status update", res)
		}
		got := res.Statuses[0]
		if got.ExternalID != "SM"+strings.Repeat("cd", 16) || got.Status != want || got.Error != wantErr || !got.At.Equal(received) {
			t.Errorf("status %+v, want %s %q", got, want, wantErr)
		}
		if res.Reply == nil || res.Reply.Status != http.StatusNoContent {
			t.Errorf("reply %+v, want 204", res.Reply)
		}
	}
}

// TestHandleInboundConfig: settings the plugin cannot use are its own
// failure, not the provider's fault, and never shown whole.
func TestHandleInboundConfig(t *testing.T) {
	client := plugintest.Connect(t, &SMS{})
	form := inboundForm(fakeprovider.TwilioInbound{From: "+1", To: "+2", Body: "hi"})
	tests := []struct {
		name   string
		config string
		want   string
	}{
		{"missing", ``, "connection settings are missing"},
		{"null", `null`, "connection settings are missing"},
		{"not JSON", `{"accountSid":"` + testAccountSID + `","authToken":"` + testAuthToken + `"`, "not valid JSON"},
		{"not an object", `["` + testAuthToken + `"]`, "not a JSON object"},
		{"unknown setting", `{"accountSid":"` + testAccountSID + `","authToken":"` + testAuthToken + `","secret":"x"}`, `unknown field "secret"`},
		{"token a number", `{"accountSid":"` + testAccountSID + `","authToken":12345}`, "authToken must be a string"},
		{"bad accountSid", `{"accountSid":"AC1","authToken":"` + testAuthToken + `"}`, "accountSid must be AC followed by 32 hexadecimal digits"},
		{"no authToken", `{"accountSid":"` + testAccountSID + `"}`, "authToken is required"},
		{"bad baseUrl", `{"accountSid":"` + testAccountSID + `","authToken":"` + testAuthToken + `","baseUrl":"ftp://x"}`, "baseUrl must be an http or https URL"},
		{"baseUrl with credentials", `{"accountSid":"` + testAccountSID + `","authToken":"` + testAuthToken + `","baseUrl":"https://u:p@api.example"}`, "baseUrl must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signedRequest(t, testHookURL, form, testAuthToken)
			req.Config = []byte(tt.config)
			_, err := client.HandleInbound(t.Context(), req)
			// Settings the plugin cannot use are refused as such: trying the
			// request again later would fail the same way.
			var rej *sdk.RejectError
			if !errors.As(err, &rej) || rej.Reason != sdk.ReasonBadConfig {
				t.Fatalf("err = %v, want a refusal for bad settings", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
			if leaksSecret(err.Error(), testAccountSID, testAuthToken) {
				t.Errorf("err %q shows the token", err)
			}
		})
	}
}

// TestSignatureKnownVector checks the plugin's signer against the example
// of the provider's request validation documentation.
func TestSignatureKnownVector(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	if got, want := signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="; got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
}

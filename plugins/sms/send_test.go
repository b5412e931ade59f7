package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

func TestSend(t *testing.T) {
	tw := startFake(t, fakeprovider.TwilioOptions{})
	client := plugintest.Connect(t, &SMS{})
	config := providerConfig(t, tw.AccountSID(), tw.AuthToken(), tw.URL())
	service := "MG" + strings.Repeat("0a", 16)

	tests := []struct {
		name string
		req  sdk.SendRequest
		want fakeprovider.TwilioMessage
	}{
		{
			name: "text with a status callback",
			req: sdk.SendRequest{To: "+15550001111", From: "+15550002222", Content: "Your order shipped",
				MessageID: "msg_1", CallbackURL: "https://hub.example.com/api/webhooks/sms/conn1"},
			want: fakeprovider.TwilioMessage{To: "+15550001111", From: "+15550002222", Body: "Your order shipped",
				StatusCallback: "https://hub.example.com/api/webhooks/sms/conn1"},
		},
		{
			name: "from a messaging service",
			req:  sdk.SendRequest{To: "+15550001111", From: service, Content: "hi"},
			want: fakeprovider.TwilioMessage{To: "+15550001111", MessagingServiceSID: service, Body: "hi"},
		},
		{
			name: "an alphanumeric sender that starts with MG",
			req:  sdk.SendRequest{To: "+15550001111", From: "MGMStore", Content: "hi"},
			want: fakeprovider.TwilioMessage{To: "+15550001111", From: "MGMStore", Body: "hi"},
		},
		{
			name: "media with a caption",
			req:  sdk.SendRequest{To: "+15550001111", From: "+15550002222", Content: "receipt", MediaURL: "https://files.example/r.pdf"},
			want: fakeprovider.TwilioMessage{To: "+15550001111", From: "+15550002222", Body: "receipt", MediaURLs: []string{"https://files.example/r.pdf"}},
		},
		{
			name: "media alone",
			req:  sdk.SendRequest{To: "+15550001111", From: "+15550002222", MediaURL: "https://files.example/r.png"},
			want: fakeprovider.TwilioMessage{To: "+15550001111", From: "+15550002222", MediaURLs: []string{"https://files.example/r.png"}},
		},
		{
			name: "text that needs encoding",
			req:  sdk.SendRequest{To: "+15550001111", From: "+15550002222", Content: "a&b=c+d%20 ünïcödé\nline"},
			want: fakeprovider.TwilioMessage{To: "+15550001111", From: "+15550002222", Body: "a&b=c+d%20 ünïcödé\nline"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Config, req.AllowPrivate = config, true
			res, err := client.Send(t.Context(), &req)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := tw.Messages()
			if len(msgs) != i+1 {
				t.Fatalf("the fake recorded %d messages, want %d", len(msgs), i+1)
			}
			got := msgs[i]
			if res.ExternalID != got.SID {
				t.Errorf("ExternalID %q, the fake's sid %q", res.ExternalID, got.SID)
			}
			if got.To != tt.want.To || got.From != tt.want.From || got.MessagingServiceSID != tt.want.MessagingServiceSID ||
				got.Body != tt.want.Body || got.StatusCallback != tt.want.StatusCallback ||
				strings.Join(got.MediaURLs, ",") != strings.Join(tt.want.MediaURLs, ",") ||
				got.AccountSID != tw.AccountSID() {
				t.Errorf("recorded %+v\nwant      %+v", got, tt.want)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	tw := startFake(t, fakeprovider.TwilioOptions{})
	client := plugintest.Connect(t, &SMS{})
	config := providerConfig(t, tw.AccountSID(), tw.AuthToken(), tw.URL())
	message := sdk.SendRequest{Config: config, To: "+15550001111", From: "+15550002222", Content: "hi", AllowPrivate: true}

	// A provider that is not the provider, for what the fake never does.
	odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// baseUrl's first path segment names the case.
		name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch name {
		case "redirect":
			// Followed, this would reach the fake with the credentials.
			http.Redirect(w, r, tw.URL()+"/"+rest, http.StatusTemporaryRedirect)
		case "echo":
			// A hostile baseUrl echoing the credentials it was sent.
			_, pass, _ := r.BasicAuth()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code":1,"message":"token `+pass+` header `+r.Header.Get("Authorization")+`"}`)
		case "html":
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway</html>")
		case "control":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "{\"code\":\"X1\",\"message\":\"bad\\u0000 news\\nhere\"}")
		case "no-sid":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"status":"queued"}`)
		case "not-json":
			io.WriteString(w, "OK")
		}
	}))
	t.Cleanup(odd.Close)
	oddConfig := func(name string) []byte {
		return providerConfig(t, tw.AccountSID(), tw.AuthToken(), odd.URL+"/"+name)
	}

	tests := []struct {
		name      string
		prepare   func()
		req       func(r *sdk.SendRequest)
		retryable bool
		status    int
		// message is a part of the error's message.
		message    string
		retryAfter time.Duration
		recorded   bool
	}{
		{name: "500", prepare: func() { tw.FailNext(500, 1) }, retryable: true, status: 500, message: "20500: Internal Server Error"},
		{name: "503 with Retry-After", prepare: func() { tw.FailNext(503, 1) }, retryable: true, status: 503, retryAfter: time.Second},
		{name: "429 with Retry-After", prepare: func() { tw.FailNext(429, 1) }, retryable: true, status: 429, message: "20429", retryAfter: time.Second},
		{name: "429 asking for a minute", prepare: func() {
			tw.FailNextWith(fakeprovider.TwilioFailure{Status: 429, RetryAfter: "60"}, 1)
		}, retryable: true, status: 429, retryAfter: time.Minute},
		{name: "400", prepare: func() { tw.FailNext(400, 1) }, status: 400, message: "21211: The 'To' number is not a valid phone number."},
		{name: "400 unsubscribed", prepare: func() {
			tw.FailNextWith(fakeprovider.TwilioFailure{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}, 1)
		}, status: 400, message: "21610: Attempt to send to unsubscribed recipient"},
		{name: "Body over the provider's limit", req: func(r *sdk.SendRequest) { r.To = "+1"; r.Content = strings.Repeat("x", 1601) },
			status: 400, message: "21617"},
		{name: "wrong token", req: func(r *sdk.SendRequest) {
			r.Config = providerConfig(t, tw.AccountSID(), "not-the-token", tw.URL())
		}, status: 401, message: "20003: Authenticate"},
		{name: "wrong account", req: func(r *sdk.SendRequest) {
			r.Config = providerConfig(t, "AC"+strings.Repeat("f", 32), tw.AuthToken(), tw.URL())
		}, status: 401, message: "20003"},
		{name: "nothing listening", req: func(r *sdk.SendRequest) {
			r.Config = providerConfig(t, tw.AccountSID(), tw.AuthToken(), "http://127.0.0.1:1")
		}, retryable: true, message: "request failed"},
		{name: "loopback refused without AllowPrivate", req: func(r *sdk.SendRequest) { r.AllowPrivate = false },
			message: sdk.ErrPrivateAddress.Error()},
		{name: "redirect not followed", req: func(r *sdk.SendRequest) { r.Config = oddConfig("redirect") }, status: 307},
		{name: "credentials echoed back", req: func(r *sdk.SendRequest) { r.Config = oddConfig("echo") }, status: 400, message: "[redacted]"},
		{name: "an HTML error", req: func(r *sdk.SendRequest) { r.Config = oddConfig("html") }, retryable: true, status: 502, message: "Bad Gateway"},
		{name: "control characters in the reason", req: func(r *sdk.SendRequest) { r.Config = oddConfig("control") }, status: 400, message: "X1: bad  news here"},
		{name: "accepted without a sid", req: func(r *sdk.SendRequest) { r.Config = oddConfig("no-sid") }, status: 201, message: "may have been sent"},
		{name: "accepted, not JSON", req: func(r *sdk.SendRequest) { r.Config = oddConfig("not-json") }, status: 200, message: "no message sid"},
		{name: "no recipient", req: func(r *sdk.SendRequest) { r.To = "" }, message: "no recipient"},
		{name: "no sender", req: func(r *sdk.SendRequest) { r.From = " " }, message: "no sender"},
		{name: "nothing to send", req: func(r *sdk.SendRequest) { r.Content = "" }, message: "neither text nor media"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tw.Messages())
			if tt.prepare != nil {
				tt.prepare()
			}
			req := message
			if tt.req != nil {
				tt.req(&req)
			}
			res, err := client.Send(t.Context(), &req)
			var perr *sdk.ProviderError
			if !errors.As(err, &perr) {
				t.Fatalf("Send = %+v, %v; want a provider error", res, err)
			}
			if perr.Retryable != tt.retryable || perr.StatusCode != tt.status || perr.RetryAfter != tt.retryAfter {
				t.Errorf("error %+v, want retryable %v status %d retry after %v", perr, tt.retryable, tt.status, tt.retryAfter)
			}
			if !strings.Contains(perr.Message, tt.message) {
				t.Errorf("message %q, want it to hold %q", perr.Message, tt.message)
			}
			if leaksSecret(err.Error(), tw.AccountSID(), tw.AuthToken()) {
				t.Errorf("error %q shows the auth token", err)
			}
			if n := len(tw.Messages()) - before; n != 0 {
				t.Errorf("the fake recorded %d messages", n)
			}
		})
	}
}

// TestSendConfig: settings the plugin cannot use fail the send without a
// call to the provider, and without showing the token.
func TestSendConfig(t *testing.T) {
	tw := startFake(t, fakeprovider.TwilioOptions{})
	client := plugintest.Connect(t, &SMS{})
	for _, config := range []string{
		``,
		`{"accountSid":"` + tw.AccountSID() + `","authToken":"` + tw.AuthToken() + `"`,
		`{"accountSid":"` + tw.AccountSID() + `","authToken":"` + tw.AuthToken() + `","baseUrl":"` + tw.URL() + `?x=1"}`,
		`{"accountSid":"AC","authToken":"` + tw.AuthToken() + `","baseUrl":"` + tw.URL() + `"}`,
	} {
		_, err := client.Send(t.Context(), &sdk.SendRequest{Config: []byte(config), To: "+1", From: "+2", Content: "hi", AllowPrivate: true})
		var pe *sdk.ProviderError
		if !errors.As(err, &pe) || pe.Retryable || !strings.Contains(err.Error(), "connection settings") {
			t.Errorf("config %s: err = %v, want a permanent settings error", config, err)
		} else if leaksSecret(err.Error(), tw.AccountSID(), tw.AuthToken()) {
			t.Errorf("error %q shows the auth token", err)
		}
	}
	if n := len(tw.Messages()); n != 0 {
		t.Errorf("the fake recorded %d messages", n)
	}
}

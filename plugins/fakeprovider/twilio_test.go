package fakeprovider_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
)

// startTwilio starts a fake Twilio on loopback for one test.
func startTwilio(t *testing.T, opts fakeprovider.TwilioOptions) *fakeprovider.Twilio {
	t.Helper()
	tw := fakeprovider.NewTwilio(opts)
	if err := tw.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tw.Close() })
	return tw
}

// twilioWebhook is one post a twilioReceiver got, and whether its signature held.
type twilioWebhook struct {
	url    string
	form   url.Values
	signed bool
}

// twilioReceiver is a twilioWebhook endpoint that checks the fake's signatures with
// the token it is given, the way a hub would.
type twilioReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	posts []twilioWebhook
}

func newTwilioReceiver(t *testing.T, authToken string, status int) *twilioReceiver {
	t.Helper()
	rc := &twilioReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("twilioReceiver: %v", err)
		}
		full := "http://" + r.Host + r.RequestURI
		got := r.Header.Get(fakeprovider.TwilioSignatureHeader)
		rc.mu.Lock()
		rc.posts = append(rc.posts, twilioWebhook{url: full, form: r.PostForm,
			signed: got != "" && got == fakeprovider.TwilioSignature(authToken, full, r.PostForm)})
		rc.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		io.WriteString(w, "<Response></Response>")
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *twilioReceiver) received() []twilioWebhook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]twilioWebhook(nil), rc.posts...)
}

func TestTwilioSignatureKnownVector(t *testing.T) {
	// The example of Twilio's request validation documentation.
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	got := fakeprovider.TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if want := "0/KCTR6DLpKmkAf8muzZqo1nDgQ="; got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}

	// A repeated name's values are signed sorted, whatever their order.
	a := fakeprovider.TwilioSignature("t", "https://h/p", url.Values{"M": {"b", "a"}})
	b := fakeprovider.TwilioSignature("t", "https://h/p", url.Values{"M": {"a", "b"}})
	if a != b {
		t.Error("the order of a repeated parameter's values changes the signature")
	}
}

func TestTwilioCreateMessage(t *testing.T) {
	tw := startTwilio(t, fakeprovider.TwilioOptions{})
	endpoint := tw.URL() + "/2010-04-01/Accounts/" + tw.AccountSID() + "/Messages.json"
	valid := url.Values{"To": {"+15550001111"}, "From": {"+15550002222"}, "Body": {"hello"}}
	with := func(change func(url.Values)) url.Values {
		v := url.Values{}
		for k, vs := range valid {
			v[k] = append([]string(nil), vs...)
		}
		change(v)
		return v
	}

	tests := []struct {
		name       string
		url        string
		user, pass string
		form       url.Values
		wantStatus int
		wantCode   int
	}{
		{name: "accepted", form: valid, wantStatus: 201},
		{name: "messaging service", form: with(func(v url.Values) {
			v.Del("From")
			v.Set("MessagingServiceSid", "MG"+strings.Repeat("a", 32))
		}), wantStatus: 201},
		{name: "media without body", form: with(func(v url.Values) {
			v.Del("Body")
			v.Set("MediaUrl", "https://example.com/a.png")
		}), wantStatus: 201},
		{name: "wrong token", pass: "nope", form: valid, wantStatus: 401, wantCode: 20003},
		{name: "no credentials", user: "-", form: valid, wantStatus: 401, wantCode: 20003},
		{name: "other account", url: tw.URL() + "/2010-04-01/Accounts/AC" + strings.Repeat("0", 32) + "/Messages.json",
			form: valid, wantStatus: 404, wantCode: 20404},
		{name: "no To", form: with(func(v url.Values) { v.Del("To") }), wantStatus: 400, wantCode: 21604},
		{name: "no From", form: with(func(v url.Values) { v.Del("From") }), wantStatus: 400, wantCode: 21603},
		{name: "no Body", form: with(func(v url.Values) { v.Del("Body") }), wantStatus: 400, wantCode: 21602},
		{name: "Body too long", form: with(func(v url.Values) { v.Set("Body", strings.Repeat("é", 1601)) }), wantStatus: 400, wantCode: 21617},
		{name: "bad StatusCallback", form: with(func(v url.Values) { v.Set("StatusCallback", "ftp://x") }), wantStatus: 400, wantCode: 21609},
		{name: "bad MediaUrl", form: with(func(v url.Values) { v.Set("MediaUrl", "not a url") }), wantStatus: 400, wantCode: 21620},
	}
	accepted := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := endpoint
			if tt.url != "" {
				target = tt.url
			}
			req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			user, pass := tw.AccountSID(), tw.AuthToken()
			if tt.pass != "" {
				pass = tt.pass
			}
			if tt.user != "-" {
				req.SetBasicAuth(user, pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tt.wantStatus, answer)
			}
			if tt.wantCode != 0 {
				if answer["code"] != float64(tt.wantCode) || answer["status"] != float64(tt.wantStatus) || answer["message"] == "" {
					t.Errorf("error answer %v, want code %d", answer, tt.wantCode)
				}
				return
			}
			accepted++
			sid, _ := answer["sid"].(string)
			if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(sid) || answer["status"] != "queued" ||
				answer["account_sid"] != tw.AccountSID() || answer["to"] != tt.form.Get("To") {
				t.Errorf("answer %v", answer)
			}
			msgs := tw.Messages()
			last := msgs[len(msgs)-1]
			if last.SID != sid || last.To != tt.form.Get("To") || last.Body != tt.form.Get("Body") ||
				last.MessagingServiceSID != tt.form.Get("MessagingServiceSid") {
				t.Errorf("recorded %+v", last)
			}
		})
	}
	if n := len(tw.Messages()); n != accepted {
		t.Errorf("%d messages recorded, want %d (refused sends must not be recorded)", n, accepted)
	}
}

// sendMessage posts a valid message to the fake with its credentials.
func sendMessage(t *testing.T, tw *fakeprovider.Twilio, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tw.URL()+"/2010-04-01/Accounts/"+tw.AccountSID()+"/Messages.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(tw.AccountSID(), tw.AuthToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestTwilioFailNext(t *testing.T) {
	tw := startTwilio(t, fakeprovider.TwilioOptions{})
	form := url.Values{"To": {"+15550001111"}, "From": {"+15550002222"}, "Body": {"hi"}}
	tw.FailNext(http.StatusTooManyRequests, 2)
	tw.FailNextWith(fakeprovider.TwilioFailure{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}, 1)
	for i, want := range []struct {
		status     int
		code       float64
		retryAfter string
	}{{429, 20429, "1"}, {429, 20429, "1"}, {400, 21610, ""}, {201, 0, ""}} {
		resp := sendMessage(t, tw, form)
		var answer map[string]any
		json.NewDecoder(resp.Body).Decode(&answer)
		if resp.StatusCode != want.status || resp.Header.Get("Retry-After") != want.retryAfter {
			t.Errorf("send %d: status %d Retry-After %q, want %d %q", i, resp.StatusCode, resp.Header.Get("Retry-After"), want.status, want.retryAfter)
		}
		if want.code != 0 && answer["code"] != want.code {
			t.Errorf("send %d: code %v, want %v", i, answer["code"], want.code)
		}
	}
	if n := len(tw.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want 1", n)
	}
}

func TestTwilioStatusCallbacks(t *testing.T) {
	tests := []struct {
		name  string
		opts  fakeprovider.TwilioOptions
		final string
		code  string
	}{
		{name: "delivered", opts: fakeprovider.TwilioOptions{Callbacks: true}, final: "delivered"},
		{name: "undelivered", opts: fakeprovider.TwilioOptions{Callbacks: true, FinalStatus: "undelivered"}, final: "undelivered", code: "30003"},
		{name: "failed with a code", opts: fakeprovider.TwilioOptions{Callbacks: true, FinalStatus: "failed", ErrorCode: 30007}, final: "failed", code: "30007"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := startTwilio(t, tt.opts)
			rc := newTwilioReceiver(t, tw.AuthToken(), http.StatusNoContent)
			callback := rc.URL + "/api/webhooks/sms/conn1?x=1"
			sendMessage(t, tw, url.Values{"To": {"+15550001111"}, "From": {"+15550002222"}, "Body": {"hi"}, "StatusCallback": {callback}})

			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			cbs, err := tw.WaitCallbacks(ctx, 2)
			if err != nil {
				t.Fatalf("callbacks: %v (%+v)", err, cbs)
			}
			sid := tw.Messages()[0].SID
			for i, status := range []string{"sent", tt.final} {
				if cbs[i].Status != status || cbs[i].StatusCode != http.StatusNoContent || cbs[i].MessageSID != sid || cbs[i].URL != callback {
					t.Errorf("callback %d = %+v, want %s answered 204", i, cbs[i], status)
				}
			}
			posts := rc.received()
			if len(posts) != 2 {
				t.Fatalf("twilioReceiver got %d posts, want 2", len(posts))
			}
			for i, p := range posts {
				if !p.signed {
					t.Errorf("post %d: signature does not hold over %s", i, p.url)
				}
				if p.form.Get("MessageSid") != sid || p.form.Get("AccountSid") != tw.AccountSID() || p.form.Get("To") != "+15550001111" {
					t.Errorf("post %d: form %v", i, p.form)
				}
			}
			last := posts[1].form
			if last.Get("MessageStatus") != tt.final || last.Get("SmsStatus") != tt.final || last.Get("ErrorCode") != tt.code {
				t.Errorf("final post %v, want status %s code %q", last, tt.final, tt.code)
			}
			if posts[0].form.Has("ErrorCode") {
				t.Errorf("the sent callback carries an ErrorCode: %v", posts[0].form)
			}
			if st := tw.Messages()[0].Status; st != tt.final {
				t.Errorf("message status %q, want %q", st, tt.final)
			}
		})
	}
}

func TestTwilioNoCallbacksByDefault(t *testing.T) {
	tw := startTwilio(t, fakeprovider.TwilioOptions{CallbackDelay: time.Millisecond})
	rc := newTwilioReceiver(t, tw.AuthToken(), http.StatusOK)
	sendMessage(t, tw, url.Values{"To": {"+1"}, "From": {"+2"}, "Body": {"hi"}, "StatusCallback": {rc.URL}})
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.received()); n != 0 {
		t.Errorf("twilioReceiver got %d callbacks without Callbacks set", n)
	}
}

func TestTwilioSendInbound(t *testing.T) {
	tw := startTwilio(t, fakeprovider.TwilioOptions{})
	rc := newTwilioReceiver(t, tw.AuthToken(), http.StatusOK)
	hub := rc.URL + "/api/webhooks/sms/conn1?region=eu&x=%2F"

	reply, err := tw.SendInbound(t.Context(), hub, fakeprovider.TwilioInbound{From: "+15550001111", To: "+15550002222", Body: "héllo & <bye>"})
	if err != nil {
		t.Fatal(err)
	}
	if reply.StatusCode != 200 || reply.ContentType != "text/xml" || string(reply.Body) != "<Response></Response>" {
		t.Errorf("reply %+v", reply)
	}
	media, err := tw.SendInbound(t.Context(), hub, fakeprovider.TwilioInbound{From: "+1", To: "+2", MediaURL: "https://media.example/1.png"})
	if err != nil {
		t.Fatal(err)
	}

	posts := rc.received()
	if len(posts) != 2 {
		t.Fatalf("got %d posts", len(posts))
	}
	for i, p := range posts {
		if !p.signed || p.url != hub {
			t.Errorf("post %d to %s: signed %v", i, p.url, p.signed)
		}
	}
	text := posts[0].form
	if text.Get("MessageSid") != reply.MessageSID || !strings.HasPrefix(reply.MessageSID, "SM") || text.Get("Body") != "héllo & <bye>" ||
		text.Get("SmsStatus") != "received" || text.Get("NumMedia") != "0" || text.Get("AccountSid") != tw.AccountSID() ||
		text.Get("ApiVersion") != "2010-04-01" || text.Has("MediaUrl0") {
		t.Errorf("text form %v", text)
	}
	mm := posts[1].form
	if !strings.HasPrefix(media.MessageSID, "MM") || mm.Get("NumMedia") != "1" || mm.Get("MediaUrl0") != "https://media.example/1.png" ||
		mm.Get("MediaContentType0") != "image/jpeg" || !mm.Has("Body") {
		t.Errorf("media form %v", mm)
	}
}

func TestTwilioControlAPI(t *testing.T) {
	tw := startTwilio(t, fakeprovider.TwilioOptions{})
	rc := newTwilioReceiver(t, tw.AuthToken(), http.StatusAccepted)
	sendMessage(t, tw, url.Values{"To": {"+15550001111"}, "From": {"+15550002222"}, "Body": {"out"}})

	post := func(body string) (*http.Response, map[string]any) {
		resp, err := http.Post(tw.URL()+"/fake/inbound", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var answer map[string]any
		json.NewDecoder(resp.Body).Decode(&answer)
		return resp, answer
	}

	resp, answer := post(`{"url":"` + rc.URL + `/hook","from":"+1","to":"+2","body":"in"}`)
	if resp.StatusCode != http.StatusAccepted || answer["status"] != float64(202) || answer["body"] != "<Response></Response>" {
		t.Errorf("inbound: %d %v", resp.StatusCode, answer)
	}
	if posts := rc.received(); len(posts) != 1 || !posts[0].signed || posts[0].form.Get("Body") != "in" ||
		posts[0].form.Get("MessageSid") != answer["messageSid"] {
		t.Errorf("twilioReceiver got %+v", posts)
	}

	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"not JSON", `{`, 400},
		{"unknown field", `{"url":"http://x","from":"+1","to":"+2","extra":1}`, 400},
		{"no url", `{"from":"+1","to":"+2"}`, 400},
		{"bad url", `{"url":"file:///etc/passwd","from":"+1","to":"+2"}`, 400},
		{"no from", `{"url":"http://x","to":"+2"}`, 400},
		{"too large", `{"url":"http://x","from":"+1","to":"+2","body":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
		{"unreachable", `{"url":"http://127.0.0.1:1/","from":"+1","to":"+2"}`, 502},
	} {
		if resp, answer := post(tt.body); resp.StatusCode != tt.want || answer["error"] == "" {
			t.Errorf("%s: %d %v, want %d with an error", tt.name, resp.StatusCode, answer, tt.want)
		}
	}

	resp, err := http.Get(tw.URL() + "/fake/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []fakeprovider.TwilioMessage
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Body != "out" || msgs[0].To != "+15550001111" {
		t.Errorf("messages %+v", msgs)
	}

	resp, err = http.Get(tw.URL() + "/fake/callbacks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("callbacks = %s, want []", b)
	}
}

func TestTwilioWaitAndClose(t *testing.T) {
	tw := startTwilio(t, fakeprovider.TwilioOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if msgs, err := tw.WaitMessages(ctx, 1); err == nil || len(msgs) != 0 {
		t.Errorf("WaitMessages with nothing sent = %v, %v", msgs, err)
	}

	done := make(chan []fakeprovider.TwilioMessage)
	go func() {
		msgs, _ := tw.WaitMessages(t.Context(), 1)
		done <- msgs
	}()
	sendMessage(t, tw, url.Values{"To": {"+1"}, "From": {"+2"}, "Body": {"hi"}})
	select {
	case msgs := <-done:
		if len(msgs) != 1 {
			t.Errorf("WaitMessages = %+v", msgs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitMessages did not return after a send")
	}

	if err := tw.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := tw.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := tw.Listen("127.0.0.1:0"); err == nil {
		t.Error("Listen after Close succeeded")
	}
}

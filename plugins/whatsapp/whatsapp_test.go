package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

func TestInfo(t *testing.T) {
	info := plugintest.Connect(t, &WhatsApp{}).Info()
	want := sdk.Info{
		Kind: "whatsapp", Version: Version, DisplayName: "WhatsApp (Cloud API)", Channel: "WHATSAPP",
		Auth: sdk.AuthSignature, Sends: true, ReplyWindow: 24 * time.Hour, ConfigSchema: configSchema,
	}
	if info != want {
		t.Errorf("info = %+v\nwant %+v", info, want)
	}
}

// TestConfigSchema compiles the schema the way the hub does and checks that
// it and the plugin's own parsing agree on every case.
func TestConfigSchema(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(configSchema))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("plugin://whatsapp/config.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("plugin://whatsapp/config.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}

	base := `"phoneNumberId":"106540352242922","accessToken":"EAAG-token","appSecret":"s3cret","verifyToken":"vt"`
	tests := []struct {
		name  string
		cfg   string
		valid bool
	}{
		{"minimal", `{` + base + `}`, true},
		{"with base URL and version", `{` + base + `,"baseUrl":"http://127.0.0.1:9000/graph","apiVersion":"v22.0"}`, true},
		{"missing access token", `{"phoneNumberId":"1","appSecret":"s","verifyToken":"v"}`, false},
		{"missing verify token", `{"phoneNumberId":"1","accessToken":"t","appSecret":"s"}`, false},
		{"empty app secret", `{"phoneNumberId":"1","accessToken":"t","appSecret":"","verifyToken":"v"}`, false},
		{"phone number ID with letters", `{"phoneNumberId":"12a","accessToken":"t","appSecret":"s","verifyToken":"v"}`, false},
		{"phone number ID too long", `{"phoneNumberId":"` + strings.Repeat("1", 33) + `","accessToken":"t","appSecret":"s","verifyToken":"v"}`, false},
		{"numeric phone number ID", `{"phoneNumberId":1,"accessToken":"t","appSecret":"s","verifyToken":"v"}`, false},
		{"ftp base URL", `{` + base + `,"baseUrl":"ftp://example.com"}`, false},
		{"relative base URL", `{` + base + `,"baseUrl":"graph.facebook.com"}`, false},
		{"version without v", `{` + base + `,"apiVersion":"21.0"}`, false},
		{"unknown setting", `{` + base + `,"authToken":"x"}`, false},
		{"secret too long", `{"phoneNumberId":"1","accessToken":"t","appSecret":"` + strings.Repeat("s", 257) + `","verifyToken":"v"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.cfg))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); (err == nil) != tt.valid {
				t.Errorf("schema: valid = %v, want %v (%v)", err == nil, tt.valid, err)
			}
			if _, err := parseConfig(json.RawMessage(tt.cfg)); (err == nil) != tt.valid {
				t.Errorf("parseConfig: valid = %v, want %v (%v)", err == nil, tt.valid, err)
			}
		})
	}
}

func TestParseConfigDefaultsAndErrors(t *testing.T) {
	cfg, err := parseConfig(json.RawMessage(`{"phoneNumberId":"1","accessToken":"t","appSecret":"s","verifyToken":"v","baseUrl":"https://proxy.example/graph/"}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "https://proxy.example/graph" || cfg.APIVersion != DefaultAPIVersion {
		t.Errorf("baseUrl %q apiVersion %q", cfg.BaseURL, cfg.APIVersion)
	}
	cfg, _ = parseConfig(json.RawMessage(`{"phoneNumberId":"1","accessToken":"t","appSecret":"s","verifyToken":"v"}`))
	if cfg.BaseURL != DefaultBaseURL {
		t.Errorf("default baseUrl %q", cfg.BaseURL)
	}
	for _, raw := range []string{``, `null`, `[]`, `{"accessToken":"TOPSECRET"`, `{"accessToken":"TOPSECRET","x":1}`, `{"accessToken":7}`, `{"phoneNumberId":"1","accessToken":"TOPSECRET","appSecret":"TOPSECRET","verifyToken":"v"} {}`} {
		_, err := parseConfig(json.RawMessage(raw))
		if err == nil {
			t.Errorf("%s: accepted", raw)
			continue
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%s: error repeats a secret: %v", raw, err)
		}
	}
}

// TestBadConfigIsRefused: settings the plugin cannot use refuse the
// request and fail the send for good: trying again would fail the same way.
func TestBadConfigIsRefused(t *testing.T) {
	e := newEnv(t)
	bad := json.RawMessage(`{"phoneNumberId":"x","accessToken":"` + e.opts.AccessToken + `"}`)
	body := notificationBody(t, e.opts.PhoneNumberID, textValue("15551234567", "Ann", "wamid.1", "hi"))
	_, err := e.postWith(t, body, fakeprovider.CloudAPISignature(e.opts.AppSecret, body), bad, true)
	var rej *sdk.RejectError
	if !errors.As(err, &rej) || rej.Reason != sdk.ReasonBadConfig {
		t.Fatalf("err = %v, want a refusal for bad settings", err)
	}
	e.noSecrets(t, err.Error())
	_, err = e.send(t, sdk.SendRequest{Config: bad, To: "15551234567", Content: "hi"})
	var pe *sdk.ProviderError
	if !errors.As(err, &pe) || pe.Retryable {
		t.Fatalf("send with bad settings: %v, want a permanent failure", err)
	}
	e.noSecrets(t, err.Error())
}

func TestVerifySubscription(t *testing.T) {
	e := newEnv(t)
	query := func(kv ...string) string {
		q := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		return "https://hub.example/api/webhooks/whatsapp/conn_1?" + q.Encode()
	}
	tests := []struct {
		name       string
		url        string
		wantBody   string // the challenge echoed, when accepted
		wantReason sdk.Reason
		wantField  string
	}{
		{name: "ok", url: query("hub.mode", "subscribe", "hub.verify_token", testVerifyToken, "hub.challenge", "1158201444"), wantBody: "1158201444"},
		{name: "wrong token", url: query("hub.mode", "subscribe", "hub.verify_token", "guess", "hub.challenge", "1"), wantReason: sdk.ReasonBadSignature},
		{name: "token with a suffix", url: query("hub.mode", "subscribe", "hub.verify_token", testVerifyToken+"x", "hub.challenge", "1"), wantReason: sdk.ReasonBadSignature},
		{name: "missing token", url: query("hub.mode", "subscribe", "hub.challenge", "1"), wantReason: sdk.ReasonBadSignature},
		{name: "repeated token", url: query("hub.mode", "subscribe", "hub.verify_token", testVerifyToken, "hub.verify_token", "other", "hub.challenge", "1"), wantReason: sdk.ReasonBadSignature},
		{name: "wrong mode", url: query("hub.mode", "unsubscribe", "hub.verify_token", testVerifyToken, "hub.challenge", "1"), wantReason: sdk.ReasonBadSignature},
		{name: "missing mode", url: query("hub.verify_token", testVerifyToken, "hub.challenge", "1"), wantReason: sdk.ReasonBadSignature},
		{name: "missing challenge", url: query("hub.mode", "subscribe", "hub.verify_token", testVerifyToken), wantReason: sdk.ReasonInvalidPayload, wantField: "hub.challenge"},
		{name: "empty challenge", url: query("hub.mode", "subscribe", "hub.verify_token", testVerifyToken, "hub.challenge", ""), wantReason: sdk.ReasonInvalidPayload, wantField: "hub.challenge"},
		{name: "challenge too long", url: query("hub.mode", "subscribe", "hub.verify_token", testVerifyToken, "hub.challenge", strings.Repeat("9", 257)), wantReason: sdk.ReasonInvalidPayload, wantField: "hub.challenge"},
		{name: "challenge with markup and a line break", url: query("hub.mode", "subscribe", "hub.verify_token", testVerifyToken, "hub.challenge", "<script>\n"), wantReason: sdk.ReasonInvalidPayload, wantField: "hub.challenge"},
		{name: "longest challenge", url: query("hub.mode", "subscribe", "hub.verify_token", testVerifyToken, "hub.challenge", strings.Repeat("7", 256)), wantBody: strings.Repeat("7", 256)},
		{name: "unreadable query", url: "https://hub.example/x?hub.verify_token=%zz", wantReason: sdk.ReasonBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.client.HandleInbound(t.Context(), &sdk.InboundRequest{Method: http.MethodGet, URL: tt.url, Config: e.config, ReceivedAt: testReceivedAt})
			if tt.wantBody == "" {
				rej := wantReject(t, err, tt.wantReason, tt.wantField)
				e.noSecrets(t, rej.Message)
				return
			}
			if err != nil {
				t.Fatalf("HandleInbound: %v", err)
			}
			r := res.Reply
			if r == nil || r.Status != http.StatusOK || string(r.Body) != tt.wantBody || !strings.HasPrefix(r.ContentType, "text/plain") {
				t.Fatalf("reply = %+v, want 200 text/plain %q", r, tt.wantBody)
			}
			if len(res.Messages) != 0 || len(res.Statuses) != 0 {
				t.Errorf("a handshake produced messages or statuses: %+v", res)
			}
		})
	}
}

// TestSubscribeThroughFake runs Meta's handshake, as the fake performs it,
// against a stand-in hub route.
func TestSubscribeThroughFake(t *testing.T) {
	e := newEnv(t)
	hub := newMiniHub(t, e)
	ok, err := e.fake.Subscribe(t.Context(), hub.url(), testVerifyToken)
	if err != nil || !ok {
		t.Fatalf("subscribe with the right token: verified %v, err %v", ok, err)
	}
	ok, err = e.fake.Subscribe(t.Context(), hub.url(), "not-the-token")
	if err != nil || ok {
		t.Fatalf("subscribe with a wrong token: verified %v, err %v", ok, err)
	}
}

func TestSignature(t *testing.T) {
	e := newEnv(t)
	body := notificationBody(t, e.opts.PhoneNumberID, textValue("15551234567", "Ann", "wamid.sig", "hello"))
	good := fakeprovider.CloudAPISignature(e.opts.AppSecret, body)
	tampered := bytes.Replace(body, []byte("hello"), []byte("HELLO"), 1)
	tests := []struct {
		name   string
		body   []byte
		header []string // X-Hub-Signature-256 values
		ok     bool
	}{
		{name: "valid", body: body, header: []string{good}, ok: true},
		{name: "valid in upper-case hex", body: body, header: []string{"sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256="))}, ok: true},
		{name: "tampered body", body: tampered, header: []string{good}},
		{name: "body with a trailing newline", body: append(append([]byte{}, body...), '\n'), header: []string{good}},
		{name: "wrong secret", body: body, header: []string{fakeprovider.CloudAPISignature("another-secret", body)}},
		{name: "signed with the verify token", body: body, header: []string{fakeprovider.CloudAPISignature(testVerifyToken, body)}},
		{name: "missing header", body: body},
		{name: "empty header", body: body, header: []string{""}},
		{name: "sha1 prefix", body: body, header: []string{"sha1=" + strings.TrimPrefix(good, "sha256=")}},
		{name: "no prefix", body: body, header: []string{strings.TrimPrefix(good, "sha256=")}},
		{name: "truncated digest", body: body, header: []string{good[:len(good)-2]}},
		{name: "not hex", body: body, header: []string{"sha256=" + strings.Repeat("zz", 32)}},
		{name: "repeated header", body: body, header: []string{good, good}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add(SignatureHeader, v)
			}
			res, err := e.client.HandleInbound(t.Context(), &sdk.InboundRequest{
				Method: http.MethodPost, URL: "https://hub.example/x", Header: h, Body: tt.body,
				Config: e.config, ReceivedAt: testReceivedAt, AllowPrivate: true,
			})
			if tt.ok {
				if err != nil || len(res.Messages) != 1 {
					t.Fatalf("err %v, result %+v", err, res)
				}
				return
			}
			if res != nil {
				t.Errorf("refused post produced a result: %+v", res)
			}
			rej := wantReject(t, err, sdk.ReasonBadSignature, "")
			e.noSecrets(t, rej.Message)
			if strings.Contains(rej.Message, strings.TrimPrefix(good, "sha256=")) {
				t.Errorf("rejection reveals the expected signature: %q", rej.Message)
			}
		})
	}
}

func TestOtherMethods(t *testing.T) {
	e := newEnv(t)
	for _, m := range []string{http.MethodPut, http.MethodDelete, ""} {
		_, err := e.client.HandleInbound(t.Context(), &sdk.InboundRequest{Method: m, Config: e.config})
		wantReject(t, err, sdk.ReasonUnsupported, "")
	}
}

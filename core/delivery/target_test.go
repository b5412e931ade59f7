package delivery

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestParseTargetValidation(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		field string // empty when valid
	}{
		{"minimal", `{"url":"https://example.com/h"}`, ""},
		{"full", `{"method":"put","url":"https://example.com/c/<<conversationId>>","params":[{"key":"a","type":"text","value":"id <<messageId>>"}],
			"auth":{"type":"basic","username":"u","password":"p"},"headers":[{"key":"X-Chan","type":"variable","value":"channel"}],
			"body":[{"key":"m.url","type":"variable","value":"<<multimedia.url>>"},{"key":"tags[]","type":"text","value":"a"},{"key":"tags[]","type":"text","value":"b"}],"ordered":false}`, ""},
		{"unknown field", `{"url":"https://example.com","colour":1}`, "delivery"},
		{"wrong type", `{"url":5}`, "delivery.url"},
		{"bad method", `{"method":"PATCH","url":"https://example.com"}`, "delivery.method"},
		{"no url", `{"method":"POST"}`, "delivery.url"},
		{"relative url", `{"url":"/hook"}`, "delivery.url"},
		{"private url", `{"url":"https://192.168.1.4/hook"}`, "delivery.url"},
		{"unknown variable in url", `{"url":"https://example.com/<<nope>>"}`, "delivery.url"},
		{"unknown variable", `{"url":"https://example.com","body":[{"key":"a","type":"variable","value":"phone"}]}`, "delivery.body[0].value"},
		{"unknown placeholder", `{"url":"https://example.com","headers":[{"key":"X","type":"text","value":"<<secret>>"}]}`, "delivery.headers[0].value"},
		{"bad type", `{"url":"https://example.com","params":[{"key":"a","type":"json","value":"x"}]}`, "delivery.params[0].type"},
		{"empty key", `{"url":"https://example.com","params":[{"key":" ","type":"text","value":"x"}]}`, "delivery.params[0].key"},
		{"duplicate param", `{"url":"https://example.com","params":[{"key":"a","type":"text","value":"x"},{"key":"a","type":"text","value":"y"}]}`, "delivery.params[1].key"},
		{"duplicate header other case", `{"url":"https://example.com","headers":[{"key":"X-A","type":"text","value":"x"},{"key":"x-a","type":"text","value":"y"}]}`, "delivery.headers[1].key"},
		{"bad header name", `{"url":"https://example.com","headers":[{"key":"X A","type":"text","value":"x"}]}`, "delivery.headers[0].key"},
		{"reserved header", `{"url":"https://example.com","headers":[{"key":"webhook-signature","type":"text","value":"x"}]}`, "delivery.headers[0].key"},
		{"body conflict", `{"url":"https://example.com","body":[{"key":"a","type":"text","value":"x"},{"key":"a.b","type":"text","value":"y"}]}`, "delivery.body[1].key"},
		{"body empty segment", `{"url":"https://example.com","body":[{"key":"a..b","type":"text","value":"x"}]}`, "delivery.body[0].key"},
		{"array not last", `{"url":"https://example.com","body":[{"key":"a[].b","type":"text","value":"x"}]}`, "delivery.body[0].key"},
		{"auth type", `{"url":"https://example.com","auth":{"type":"oauth"}}`, "delivery.auth.type"},
		{"apiKey without header", `{"url":"https://example.com","auth":{"type":"apiKey","value":"k"}}`, "delivery.auth.header"},
		{"bearer without token", `{"url":"https://example.com","auth":{"type":"bearer"}}`, "delivery.auth.token"},
		{"bad transform", `{"url":"https://example.com","transform":"function nope() {}"}`, "delivery.transform"},
		{"CR/LF in a header value", `{"url":"https://example.com","headers":[{"key":"X-A","type":"text","value":"a\r\nX-Evil: 1"}]}`, "delivery.headers[0].value"},
		{"LF in a templated header value", `{"url":"https://example.com","headers":[{"key":"X-A","type":"text","value":"<<text>>\n"}]}`, "delivery.headers[0].value"},
		{"control byte in a header value", `{"url":"https://example.com","headers":[{"key":"X-A","type":"text","value":"a\u0001"}]}`, "delivery.headers[0].value"},
		{"tab and non-ASCII in a header value", `{"url":"https://example.com","headers":[{"key":"X-A","type":"text","value":"a\tZoë <<text>>"}]}`, ""},
		{"CR/LF in a bearer token", `{"url":"https://example.com","auth":{"type":"bearer","token":"t\r\nX: y"}}`, "delivery.auth.token"},
		{"LF in an apiKey value", `{"url":"https://example.com","auth":{"type":"apiKey","header":"X-Key","value":"k\n"}}`, "delivery.auth.value"},
		{"CR/LF in an apiKey header name", `{"url":"https://example.com","auth":{"type":"apiKey","header":"X-Key\r\nX","value":"k"}}`, "delivery.auth.header"},
		{"LF in a basic password", `{"url":"https://example.com","auth":{"type":"basic","username":"u","password":"p\n"}}`, "delivery.auth.password"},
		{"control byte in a basic username", `{"url":"https://example.com","auth":{"type":"basic","username":"u\u007f","password":"p"}}`, "delivery.auth.username"},
	}
	compile := func(src string) error {
		if src == "function nope() {}" {
			return errors.New("the script must define function transform(request, event)")
		}
		return nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTarget([]byte(tt.json), NewGuard(false), compile)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("err = %v, want one naming %s", err, tt.field)
			}
		})
	}
}

func TestRender(t *testing.T) {
	target, err := ParseTarget([]byte(`{"method":"POST","url":"https://example.com/c/<<conversationId>>",
		"params":[{"key":"src","type":"text","value":"hub-<<channel>>"}],
		"auth":{"type":"apiKey","header":"X-Api-Key","value":"k1"},
		"headers":[{"key":"X-Contact","type":"variable","value":"contact.name"}],
		"body":[{"key":"chat.id","type":"variable","value":"chatId"},{"key":"chat.text","type":"text","value":"<<contact.name>> says <<text>>"},
			{"key":"tags[]","type":"text","value":"one"},{"key":"tags[]","type":"variable","value":"channel"},{"key":"multimedia.url","type":"variable","value":"multimedia.url"}]}`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"conversationId": "a b/c", "channel": "SMS", "contact.name": "Ana", "chatId": "+1555", "text": "hi", "multimedia.url": "https://m.example/x.png"}
	r := target.Render(vars)
	if r.URL != "https://example.com/c/a%20b%2Fc" {
		t.Errorf("url = %s", r.URL)
	}
	if r.Params["src"] != "hub-SMS" || r.Headers["X-Contact"] != "Ana" || r.Headers["X-Api-Key"] != "k1" {
		t.Errorf("params %v headers %v", r.Params, r.Headers)
	}
	want := map[string]any{
		"chat":       map[string]any{"id": "+1555", "text": "Ana says hi"},
		"tags":       []any{"one", "SMS"},
		"multimedia": map[string]any{"url": "https://m.example/x.png"},
	}
	if !reflect.DeepEqual(r.Body, want) {
		got, _ := json.Marshal(r.Body)
		t.Errorf("body = %s", got)
	}
}

func TestRenderAuthAndDefaults(t *testing.T) {
	basic, _ := ParseTarget([]byte(`{"url":"https://example.com","auth":{"type":"basic","username":"u","password":"p"}}`), NewGuard(false), nil)
	if h := basic.Render(nil).Headers["Authorization"]; h != "Basic dTpw" {
		t.Errorf("basic = %q", h)
	}
	bearer, _ := ParseTarget([]byte(`{"url":"https://example.com","auth":{"type":"bearer","token":"t"}}`), NewGuard(false), nil)
	r := bearer.Render(map[string]string{"channel": "custom", "direction": "outbound", "conversationId": "c", "content": "x"})
	if r.Headers["Authorization"] != "Bearer t" || r.Method != "POST" {
		t.Errorf("bearer request = %+v", r)
	}
	if !reflect.DeepEqual(r.Body, map[string]any{"conversationId": "c", "content": "x"}) {
		t.Errorf("default body of an agent reply = %v", r.Body)
	}
	chat := bearer.Render(map[string]string{"channel": "SMS", "direction": "inbound", "chatId": "+1", "event": "MESSAGE"}).Body.(map[string]any)
	if chat["chatId"] != "+1" || chat["event"] != "MESSAGE" || chat["multimedia"] == nil {
		t.Errorf("default chat body = %v", chat)
	}
}

func TestRedactAndKeepSecrets(t *testing.T) {
	old, _ := ParseTarget([]byte(`{"url":"https://example.com","auth":{"type":"bearer","token":"s3cret"}}`), NewGuard(false), nil)
	red := old.Redact()
	if red.Auth.Token != Redacted || old.Auth.Token != "s3cret" {
		t.Fatalf("redact: %+v / %+v", red.Auth, old.Auth)
	}
	upd, _ := ParseTarget([]byte(`{"url":"https://example.com/v2","auth":{"type":"bearer","token":"********"}}`), NewGuard(false), nil)
	upd.KeepSecrets(old)
	if upd.Auth.Token != "s3cret" || upd.HasRedacted() {
		t.Errorf("kept = %+v", upd.Auth)
	}
}

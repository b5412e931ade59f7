package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

func host(t *testing.T) *plugintest.Host {
	return plugintest.NewHost(t, &Telegram{}, map[string]any{
		"botToken": "123:bot-token-secret", "secretToken": "hook-secret", "baseUrl": plugintest.ProviderURL,
	})
}

const updateBody = `{"update_id":1,"message":{"message_id":7,"date":1700000000,"text":"hello bot",
	"from":{"id":42,"first_name":"Ana","last_name":"Diaz"},"chat":{"id":42}}}`

func TestInbound(t *testing.T) {
	h := host(t)
	msgs := h.Post("", http.Header{SecretHeader: {"hook-secret"}}, []byte(updateBody)).ExpectMessages(t, 1)
	m := msgs[0]
	if m.ThreadExternalID != "42" || m.Content != "hello bot" || m.From.Name != "Ana Diaz" || m.ExternalID != "42:7" {
		t.Errorf("message %+v", m)
	}
	for name, header := range map[string]http.Header{
		"missing": {},
		"wrong":   {SecretHeader: {"guess"}},
	} {
		t.Run(name, func(t *testing.T) {
			h.Post("", header, []byte(updateBody)).ExpectRejected(t, sdk.ReasonBadSignature)
		})
	}
	h.Post("", http.Header{SecretHeader: {"hook-secret"}}, []byte(`{"update_id":2,"message":{"text":"a\u0000b","chat":{"id":1}}}`)).
		ExpectRejected(t, sdk.ReasonInvalidPayload)
}

func TestSend(t *testing.T) {
	h := host(t)
	h.Provider.Respond(http.StatusOK, `{"ok":true,"result":{"message_id":99}}`)
	out, err := h.Send(&sdk.SendRequest{To: "42", Content: "hi Ana"})
	if err != nil || out.ExternalID != "42:99" {
		t.Fatalf("send: %+v %v", out, err)
	}
	calls := h.Provider.Calls()
	var body struct {
		ChatID int64 `json:"chat_id"`
		Text   string
	}
	json.Unmarshal(calls[0].Body, &body)
	if calls[0].Path != "/bot123:bot-token-secret/sendMessage" || body.ChatID != 42 || body.Text != "hi Ana" {
		t.Errorf("provider got %s %s", calls[0].Path, calls[0].Body)
	}
	h.Provider.Respond(http.StatusBadRequest, `{"ok":false,"description":"Bad Request: chat not found"}`)
	_, err = h.Send(&sdk.SendRequest{To: "43", Content: "x"})
	if err == nil || !strings.Contains(err.Error(), "chat not found") || strings.Contains(err.Error(), "bot-token-secret") {
		t.Errorf("a refusal: %v", err)
	}
}

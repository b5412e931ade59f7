package main

import (
	"encoding/json"
	"errors"
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

func TestCheckConfig(t *testing.T) {
	h := host(t)
	if err := h.CheckConfig(map[string]any{"botToken": "123:abc_DEF-9", "secretToken": "s"}); err != nil {
		t.Errorf("a good token refused: %v", err)
	}
	err := h.CheckConfig(map[string]any{"botToken": "not-a-token", "secretToken": "s"})
	var rej *sdk.RejectError
	if !errors.As(err, &rej) || rej.Reason != sdk.ReasonBadConfig || rej.Field != "botToken" || strings.Contains(rej.Message, "not-a-token") {
		t.Errorf("a malformed token: %#v", err)
	}
}

func TestActivate(t *testing.T) {
	h := host(t)
	h.Provider.Respond(http.StatusOK, `{"ok":true,"result":true,"description":"Webhook was set"}`)
	if err := h.Activate(); err != nil {
		t.Fatalf("activate: %v", err)
	}
	calls := h.Provider.Calls()
	var hook struct {
		URL         string `json:"url"`
		SecretToken string `json:"secret_token"`
	}
	json.Unmarshal(calls[0].Body, &hook)
	if len(calls) != 1 || calls[0].Path != "/bot123:bot-token-secret/setWebhook" || hook.URL != h.URL || hook.SecretToken != "hook-secret" {
		t.Errorf("provider got %d calls, first %s %s", len(calls), calls[0].Path, calls[0].Body)
	}

	h.Provider.Respond(http.StatusUnauthorized, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	var rej *sdk.RejectError
	if err := h.Activate(); !errors.As(err, &rej) || rej.Field != "botToken" {
		t.Errorf("an unknown token: %v", err)
	}
	h.Provider.Respond(http.StatusBadGateway, `{"ok":false,"description":"Bad Gateway"}`)
	var pe *sdk.ProviderError
	if err := h.Activate(); !errors.As(err, &pe) || !pe.Retryable || strings.Contains(pe.Error(), "bot-token-secret") {
		t.Errorf("the Bot API failing: %v", err)
	}
}

package plugintest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

// echo is a tiny channel: a request carrying the right token header is a
// message; sending posts JSON to its provider.
type echo struct{}

type echoConfig struct {
	Token   string `json:"token"`
	BaseURL string `json:"baseUrl"`
}

func (echo) Info() sdk.Info {
	return sdk.Info{Kind: "echo", Version: "1", Channel: "ECHO", Auth: sdk.AuthSignature, Sends: true,
		ConfigSchema: `{"type":"object","required":["token","baseUrl"],"properties":{"token":{"type":"string","minLength":1},"baseUrl":{"type":"string"}},"additionalProperties":false}`}
}

func (echo) HandleInbound(_ context.Context, req *sdk.InboundRequest) (*sdk.InboundResult, error) {
	var cfg echoConfig
	json.Unmarshal(req.Config, &cfg)
	if req.Header.Get("X-Token") != cfg.Token {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "X-Token does not match")
	}
	return &sdk.InboundResult{Messages: []sdk.InboundMessage{{ExternalID: "1", ThreadExternalID: "c", Content: string(req.Body)}}}, nil
}

func (echo) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResult, error) {
	var cfg echoConfig
	json.Unmarshal(req.Config, &cfg)
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.BaseURL+"/messages", strings.NewReader(fmt.Sprintf(`{"to":%q,"text":%q}`, req.To, req.Content)))
	resp, err := sdk.ProviderClient(req.AllowPrivate).Do(r)
	if err != nil {
		return nil, sdk.ProviderNetworkError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, sdk.ProviderResponseError(resp, string(body))
	}
	var out struct{ ID string }
	json.Unmarshal(body, &out)
	return &sdk.SendResult{ExternalID: out.ID}, nil
}

func TestHost(t *testing.T) {
	h := plugintest.NewHost(t, echo{}, map[string]any{"token": "t0k", "baseUrl": plugintest.ProviderURL})
	if h.Info.Kind != "echo" || h.Info.Channel != "ECHO" {
		t.Errorf("info %+v", h.Info)
	}
	msgs := h.Post("", http.Header{"X-Token": {"t0k"}}, []byte("hello")).ExpectMessages(t, 1)
	if msgs[0].Content != "hello" {
		t.Errorf("message %+v", msgs[0])
	}
	h.Post("", http.Header{"X-Token": {"nope"}}, []byte("forged")).ExpectRejected(t, sdk.ReasonBadSignature)

	h.Provider.Respond(http.StatusOK, `{"id":"m-9"}`)
	out, err := h.Send(&sdk.SendRequest{To: "+1555", Content: "hi"})
	if err != nil || out.ExternalID != "m-9" {
		t.Fatalf("send: %+v %v", out, err)
	}
	calls := h.Provider.Calls()
	if len(calls) != 1 || calls[0].Path != "/messages" || !strings.Contains(string(calls[0].Body), `"to":"+1555"`) {
		t.Errorf("provider calls %+v", calls)
	}
	h.Provider.Respond(http.StatusServiceUnavailable, `{"error":"busy"}`)
	_, err = h.Send(&sdk.SendRequest{To: "+1555", Content: "again"})
	var pe *sdk.ProviderError
	if !errors.As(err, &pe) || !pe.Retryable {
		t.Errorf("a 503 from the provider: %v, want a retryable provider error", err)
	}
}

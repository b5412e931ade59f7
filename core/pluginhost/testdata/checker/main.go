// Command checker is a hostile plugin for the hub's tests: its settings
// check and its activation misbehave as the settings' "mode" says.
package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

type checker struct{}

func (checker) Info() sdk.Info {
	return sdk.Info{Kind: "checker", Version: "1.0.0", Channel: "CHECKER", Auth: sdk.AuthSignature, Sends: true,
		ConfigSchema: `{"type":"object","properties":{"mode":{"type":"string"}}}`}
}

func (checker) HandleInbound(context.Context, *sdk.InboundRequest) (*sdk.InboundResult, error) {
	return &sdk.InboundResult{}, nil
}

func (checker) Send(context.Context, *sdk.SendRequest) (*sdk.SendResult, error) {
	return &sdk.SendResult{}, nil
}

func (checker) CheckConfig(_ context.Context, raw json.RawMessage) error { return misbehave(raw) }

func (checker) Activate(_ context.Context, req *sdk.ActivateRequest) error {
	return misbehave(req.Config)
}

func misbehave(raw json.RawMessage) error {
	var cfg struct{ Mode string }
	json.Unmarshal(raw, &cfg)
	switch cfg.Mode {
	case "refuse":
		// A long message with a line break, a NUL and invalid UTF-8.
		return sdk.BadSetting("token\r\n", "bad\r\nX-Injected: 1\x00\xff%s", strings.Repeat("é", 5000))
	case "provider":
		return &sdk.ProviderError{StatusCode: 503, Retryable: true, Message: "down\r\nX-Injected: 1" + strings.Repeat("x", 5000)}
	case "hang":
		time.Sleep(time.Hour) // ignores its context
	case "crash":
		os.Exit(3)
	}
	return nil
}

func main() { sdk.Serve(checker{}) }

package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Version of the plugin.
const Version = "0.1.0"

// SecretHeader carries the secret token Telegram was given at setWebhook.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Telegram is the channel.
type Telegram struct{}

var (
	_ sdk.Channel       = (*Telegram)(nil)
	_ sdk.ConfigChecker = (*Telegram)(nil)
	_ sdk.Activator     = (*Telegram)(nil)
)

// Info declares the channel and the settings a connection needs.
func (*Telegram) Info() sdk.Info {
	return sdk.Info{
		Kind: "telegram", Version: Version, DisplayName: "Telegram (Bot API)",
		Channel: "TELEGRAM", Auth: sdk.AuthSignature, Sends: true,
		ConfigSchema: `{
			"type": "object",
			"required": ["botToken", "secretToken"],
			"properties": {
				"botToken": {"type": "string", "minLength": 1, "maxLength": 256},
				"secretToken": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,256}$"},
				"baseUrl": {"type": "string", "format": "uri", "pattern": "^https?://"}
			},
			"additionalProperties": false
		}`,
	}
}

type config struct {
	BotToken    string `json:"botToken"`
	SecretToken string `json:"secretToken"`
	BaseURL     string `json:"baseUrl"`
}

func parseConfig(raw json.RawMessage) (config, error) {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil || c.BotToken == "" || c.SecretToken == "" {
		return c, errors.New("telegram: connection settings need botToken and secretToken")
	}
	if c.BaseURL == "" {
		c.BaseURL = "https://api.telegram.org"
	}
	return c, nil
}

// update is the part of a Telegram update the channel reads.
type update struct {
	UpdateID int64 `json:"update_id"`
	Message  *struct {
		MessageID int64 `json:"message_id"`
		Date      int64 `json:"date"`
		Text      string
		Caption   string
		From      struct {
			ID        int64  `json:"id"`
			FirstName string `json:"first_name"`
			LastName  string `json:"last_name"`
		} `json:"from"`
		Chat struct {
			ID int64 `json:"id"`
		} `json:"chat"`
	} `json:"message"`
}

// HandleInbound checks the secret token and turns an update into a message.
func (*Telegram) HandleInbound(_ context.Context, req *sdk.InboundRequest) (*sdk.InboundResult, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, sdk.BadConfig("%v", err)
	}
	got := req.Header.Get(SecretHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(cfg.SecretToken)) != 1 {
		return nil, sdk.Reject(sdk.ReasonBadSignature, "%s is missing or does not match", SecretHeader)
	}
	if req.Method != http.MethodPost {
		return nil, sdk.Reject(sdk.ReasonUnsupported, "Telegram posts updates; %s is not handled", req.Method)
	}
	if err := sdk.CheckJSONText(req.Body); err != nil {
		return nil, err
	}
	var u update
	if err := json.Unmarshal(req.Body, &u); err != nil {
		return nil, sdk.InvalidField("body", "body is not a Telegram update")
	}
	ok := &sdk.InboundResult{Reply: &sdk.HTTPReply{Status: http.StatusOK, ContentType: "application/json", Body: []byte(`{"ok":true}`)}}
	if u.Message == nil {
		return ok, nil // edits, callbacks and the like: acknowledged, not threaded
	}
	m := u.Message
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	name := m.From.FirstName
	if m.From.LastName != "" {
		name += " " + m.From.LastName
	}
	for field, v := range map[string]string{"message.text": text, "message.from.first_name": name} {
		if err := sdk.CheckText(field, v); err != nil {
			return nil, err
		}
	}
	chat := strconv.FormatInt(m.Chat.ID, 10)
	ok.Messages = []sdk.InboundMessage{{
		ExternalID:       strconv.FormatInt(m.Chat.ID, 10) + ":" + strconv.FormatInt(m.MessageID, 10),
		ThreadExternalID: chat,
		From:             sdk.Contact{ExternalID: strconv.FormatInt(m.From.ID, 10), Name: name, Phone: chat},
		Content:          text,
		ContentType:      "text",
		SentAt:           time.Unix(m.Date, 0).UTC(),
		Event:            sdk.EventMessage,
	}}
	return ok, nil
}

// Send posts a text message to the chat.
func (*Telegram) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResult, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, sdk.BadConfig("%v", err)
	}
	chatID, err := strconv.ParseInt(req.To, 10, 64)
	if err != nil {
		return nil, &sdk.ProviderError{Message: fmt.Sprintf("telegram: chat id %q is not a number", req.To)}
	}
	var sent struct {
		MessageID int64 `json:"message_id"`
	}
	if err := call(ctx, cfg, "sendMessage", map[string]any{"chat_id": chatID, "text": req.Content}, req.AllowPrivate, &sent); err != nil {
		return nil, err
	}
	return &sdk.SendResult{ExternalID: strconv.FormatInt(chatID, 10) + ":" + strconv.FormatInt(sent.MessageID, 10)}, nil
}

// tokenShape is a bot token as @BotFather gives it: the bot's id, a colon,
// and its key.
var tokenShape = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$`)

// CheckConfig checks what the schema cannot: the bot token's shape.
func (*Telegram) CheckConfig(_ context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return sdk.BadConfig("%v", err)
	}
	if !tokenShape.MatchString(cfg.BotToken) {
		return sdk.BadSetting("botToken", "not a bot token: the bot's numeric id, a colon, then its key, as @BotFather gives it")
	}
	return nil
}

// Activate registers the connection's inbound URL as the bot's webhook,
// with the secret token Telegram then sends with every update. Setting the
// same webhook again is harmless, as the hub may.
func (*Telegram) Activate(ctx context.Context, req *sdk.ActivateRequest) error {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return sdk.BadConfig("%v", err)
	}
	hook := map[string]any{"url": req.InboundURL, "secret_token": cfg.SecretToken, "allowed_updates": []string{"message"}}
	err = call(ctx, cfg, "setWebhook", hook, req.AllowPrivate, nil)
	var pe *sdk.ProviderError
	if errors.As(err, &pe) && (pe.StatusCode == http.StatusUnauthorized || pe.StatusCode == http.StatusNotFound) {
		// The Bot API answers an unknown token with 401 or 404.
		return sdk.BadSetting("botToken", "Telegram does not know this bot token")
	}
	return err
}

// call calls a Bot API method and decodes its result into out.
func call(ctx context.Context, cfg config, method string, payload any, allowPrivate bool, out any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.BaseURL+"/bot"+cfg.BotToken+"/"+method, bytes.NewReader(body))
	if err != nil {
		return &sdk.ProviderError{Message: "telegram: bad baseUrl"}
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := sdk.ProviderClient(allowPrivate).Do(hreq)
	if err != nil {
		// The bot token is in the URL: never pass the client's error on as is.
		return &sdk.ProviderError{Retryable: !errors.Is(err, sdk.ErrPrivateAddress), Message: "telegram: the Bot API could not be reached"}
	}
	defer resp.Body.Close()
	var answer struct {
		OK          bool            `json:"ok"`
		Description string          `json:"description"`
		Result      json.RawMessage `json:"result"`
	}
	json.Unmarshal(sdk.ReadProviderBody(resp.Body, 64<<10), &answer)
	if resp.StatusCode >= 300 || !answer.OK {
		return sdk.ProviderResponseError(resp, answer.Description)
	}
	if out != nil {
		json.Unmarshal(answer.Result, out)
	}
	return nil
}

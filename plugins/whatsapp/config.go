package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Defaults for the settings an admin may leave out.
const (
	DefaultBaseURL    = "https://graph.facebook.com"
	DefaultAPIVersion = "v21.0"
)

// configSchema describes a connection's provider settings to the hub, which
// checks them when an admin saves a connection. parseConfig checks the same
// rules again, so a plugin never works with settings the schema refuses.
const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "WhatsApp (Cloud API) connection",
  "type": "object",
  "properties": {
    "phoneNumberId": {
      "type": "string",
      "pattern": "^[0-9]{1,32}$",
      "description": "The business phone number's ID in the Cloud API (not the number itself)."
    },
    "accessToken": {
      "type": "string",
      "minLength": 1,
      "maxLength": 4096,
      "description": "A system user access token with the whatsapp_business_messaging permission."
    },
    "appSecret": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "description": "The Meta app's secret, which signs webhook posts (X-Hub-Signature-256)."
    },
    "verifyToken": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "description": "The token typed into the app's webhook settings, checked in the subscription handshake."
    },
    "baseUrl": {
      "type": "string",
      "format": "uri",
      "pattern": "^https?://",
      "maxLength": 2048,
      "default": "` + DefaultBaseURL + `",
      "description": "The Graph API's address; change it only for a proxy or a test provider."
    },
    "apiVersion": {
      "type": "string",
      "pattern": "^v[0-9]+\\.[0-9]+$",
      "default": "` + DefaultAPIVersion + `",
      "description": "The Graph API version used in request paths."
    }
  },
  "required": ["phoneNumberId", "accessToken", "appSecret", "verifyToken"],
  "additionalProperties": false
}`

var (
	phoneNumberIDPattern = regexp.MustCompile(`^[0-9]{1,32}$`)
	apiVersionPattern    = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
)

// config is a connection's provider settings. AccessToken and AppSecret
// are secrets, VerifyToken nearly one: none of them is ever logged or
// written into an error.
type config struct {
	PhoneNumberID string `json:"phoneNumberId"`
	AccessToken   string `json:"accessToken"`
	AppSecret     string `json:"appSecret"`
	VerifyToken   string `json:"verifyToken"`
	BaseURL       string `json:"baseUrl"`
	APIVersion    string `json:"apiVersion"`
}

// errConfig prefixes every configuration problem. The messages name the
// setting, never its value.
var errConfig = errors.New("whatsapp: connection settings")

// parseConfig decodes strictly, fills in the defaults and checks the same
// rules as configSchema.
func parseConfig(raw json.RawMessage) (*config, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: missing", errConfig)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s", errConfig, describeConfigError(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: unexpected data after the settings object", errConfig)
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%w: %s", errConfig, err)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return &c, nil
}

func (c *config) validate() error {
	switch {
	case !phoneNumberIDPattern.MatchString(c.PhoneNumberID):
		return errors.New("phoneNumberId must be 1 to 32 digits")
	case c.AccessToken == "" || len(c.AccessToken) > 4096:
		return errors.New("accessToken must be 1 to 4096 characters")
	case c.AppSecret == "" || len(c.AppSecret) > 256:
		return errors.New("appSecret must be 1 to 256 characters")
	case c.VerifyToken == "" || len(c.VerifyToken) > 256:
		return errors.New("verifyToken must be 1 to 256 characters")
	case !apiVersionPattern.MatchString(c.APIVersion):
		return errors.New("apiVersion must look like v21.0")
	}
	if strings.ContainsAny(c.AccessToken, "\r\n\x00") {
		// It travels in a header: a line break would end it early.
		return errors.New("accessToken must not contain line breaks or NUL bytes")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || len(c.BaseURL) > 2048 {
		return errors.New("baseUrl must be an http or https URL without query, fragment or credentials")
	}
	return nil
}

// describeConfigError words a decoding error without quoting the input,
// which holds secrets.
func describeConfigError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return typeErr.Field + " must be a string"
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, uerr := strconv.Unquote(name); uerr == nil {
			name = n
		}
		return sdk.Quote(name) + " is not a known setting"
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("not valid JSON at byte %d", syntaxErr.Offset)
	}
	return "not a JSON object of settings"
}

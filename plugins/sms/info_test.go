package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"

	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/plugins/sdk/plugintest"
)

func TestInfo(t *testing.T) {
	client := plugintest.Connect(t, &SMS{})
	info := client.Info()
	want := sdk.Info{Kind: "sms", Version: Version, DisplayName: "SMS (Twilio)", Channel: "SMS",
		Auth: sdk.AuthSignature, Sends: true, ReplyWindow: 0, ConfigSchema: configSchema}
	if info != want {
		t.Errorf("info = %+v\nwant   %+v", info, want)
	}
}

// TestConfigSchema: the schema the hub validates settings with is valid
// JSON and agrees with what the plugin itself accepts.
func TestConfigSchema(t *testing.T) {
	var schema struct {
		Schema     string `json:"$schema"`
		Type       string `json:"type"`
		Properties map[string]struct {
			Type      string `json:"type"`
			Pattern   string `json:"pattern"`
			Format    string `json:"format"`
			MinLength *int   `json:"minLength"`
			MaxLength *int   `json:"maxLength"`
		} `json:"properties"`
		Required             []string `json:"required"`
		AdditionalProperties *bool    `json:"additionalProperties"`
	}
	if !json.Valid([]byte(configSchema)) {
		t.Fatal("ConfigSchema is not valid JSON")
	}
	if err := json.Unmarshal([]byte(configSchema), &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Schema != "https://json-schema.org/draft/2020-12/schema" || schema.Type != "object" {
		t.Errorf("$schema %q type %q", schema.Schema, schema.Type)
	}
	if !slices.Equal(schema.Required, []string{"accountSid", "authToken"}) {
		t.Errorf("required = %v", schema.Required)
	}
	if schema.AdditionalProperties == nil || *schema.AdditionalProperties {
		t.Error("additionalProperties must be false")
	}
	if len(schema.Properties) != 3 {
		t.Errorf("properties = %v, want accountSid, authToken, baseUrl", schema.Properties)
	}
	for name, p := range schema.Properties {
		if p.Type != "string" {
			t.Errorf("%s has type %q", name, p.Type)
		}
	}

	sid := schema.Properties["accountSid"]
	if sid.Pattern != accountSIDPattern.String() {
		t.Errorf("accountSid pattern %q, the plugin checks %q", sid.Pattern, accountSIDPattern)
	}
	token := schema.Properties["authToken"]
	if token.MinLength == nil || *token.MinLength != 1 || token.MaxLength == nil || *token.MaxLength != maxAuthTokenLen {
		t.Errorf("authToken lengths %v..%v", token.MinLength, token.MaxLength)
	}
	base := schema.Properties["baseUrl"]
	if base.Format != "uri" {
		t.Errorf("baseUrl format %q", base.Format)
	}
	re, err := regexp.Compile(base.Pattern)
	if err != nil {
		t.Fatalf("baseUrl pattern: %v", err)
	}
	for _, u := range []string{"https://api.twilio.com", "http://127.0.0.1:8081"} {
		if !re.MatchString(u) {
			t.Errorf("baseUrl pattern refuses %s", u)
		}
		if _, err := parseConfig(providerConfig(t, testAccountSID, testAuthToken, u)); err != nil {
			t.Errorf("the plugin refuses baseUrl %s: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://api.twilio.com", "api.twilio.com", "javascript:alert(1)"} {
		if re.MatchString(u) {
			t.Errorf("baseUrl pattern accepts %s", u)
		}
	}
}

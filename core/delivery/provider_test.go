package delivery

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestProviderSecretsMaskEchoes: whatever form a provider echoes a
// credential in, the attempt's error shows none of it.
func TestProviderSecretsMaskEchoes(t *testing.T) {
	token := "EAAGsecret+token/with=chars&x"
	cfg, _ := json.Marshal(map[string]string{"accessToken": token, "phoneNumberId": "1234", "baseUrl": "https://graph.example.com", "apiVersion": "v21.0"})
	secrets := providerSecrets(cfg)
	quoted, _ := json.Marshal(token)
	for _, echo := range []string{
		token,
		url.QueryEscape(token),
		url.PathEscape(token),
		"EAAGsecret+token/with=chars&amp;x",
		strings.ToUpper(token),
		strings.ToLower(token),
		string(quoted),
	} {
		got := RedactSecrets("provider answered 400: tok "+echo+" end", secrets)
		if strings.Contains(strings.ToLower(got), "secret+token") || strings.Contains(strings.ToLower(got), "secret%2btoken") {
			t.Errorf("echo %q left %q", echo, got)
		}
	}
	if got := RedactSecrets("https://graph.example.com/v21.0/1234", secrets); got != "https://graph.example.com/v21.0/1234" {
		t.Errorf("settings that are not credentials were masked: %q", got)
	}
}

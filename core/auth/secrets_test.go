package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	for _, prefix := range []string{PrefixAdminToken, PrefixAPIKey, PrefixResponseToken} {
		plain, hash := NewSecret(prefix)
		other, _ := NewSecret(prefix)
		if !strings.HasPrefix(plain, prefix) || plain == other || len(plain) < len(prefix)+40 {
			t.Errorf("NewSecret(%q) = %q", prefix, plain)
		}
		if strings.Contains(hash, plain) || len(hash) != 64 || hash != Hash(plain) {
			t.Errorf("hash of %q = %q", plain, hash)
		}
		if !Matches(plain, []byte(hash)) || Matches(other, []byte(hash)) || Matches("", []byte(hash)) || Matches(plain, nil) {
			t.Errorf("Matches disagrees for %q", prefix)
		}
	}
	s := NewSigningSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, PrefixSigningSecret))
	if !strings.HasPrefix(s, PrefixSigningSecret) || err != nil || len(key) != 32 {
		t.Errorf("signing secret %q: %v", s, err)
	}
}

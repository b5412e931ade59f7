package delivery

import (
	"testing"
	"time"
)

// The example from the Standard Webhooks specification's test vectors.
func TestSignKnownVector(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ts := time.Unix(1614265330, 0)
	got, err := Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, []byte(`{"test": 2432232314}`), secret)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
}

func TestSignBothSecretsDuringRotation(t *testing.T) {
	got, err := Sign("id", time.Unix(1, 0), []byte("{}"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_dGVzdHNlY3JldA==")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(splitFields(got)); n != 2 {
		t.Errorf("got %d signatures in %q, want 2", n, got)
	}
	if _, err := Sign("id", time.Unix(1, 0), nil, "whsec_not base64!"); err == nil {
		t.Error("a malformed secret was accepted")
	}
}

func splitFields(s string) []string {
	var out []string
	start := -1
	for i, r := range s + " " {
		if r == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
			}
			start = -1
		} else if start < 0 {
			start = i
		}
	}
	return out
}

package delivery

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestDialRefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// The check runs on the address actually dialled, so a name that
	// resolves to loopback is refused as surely as a literal address.
	client := NewHTTPClient(false, 2*time.Second)
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		_, err := client.Get(u)
		if !errors.Is(err, ErrPrivateTarget) {
			t.Errorf("GET %s: err = %v, want ErrPrivateTarget", u, err)
		}
	}
	allowed := NewHTTPClient(true, 2*time.Second)
	resp, err := allowed.Get(srv.URL)
	if err != nil {
		t.Fatalf("with private targets allowed: %v", err)
	}
	resp.Body.Close()
}

func TestCheckURL(t *testing.T) {
	for raw, wantOK := range map[string]bool{
		"https://example.com/hook":  true,
		"http://example.com/hook":   false, // plain http only with the flag
		"https://127.0.0.1/hook":    false,
		"https://localhost/hook":    false,
		"https://[::1]/hook":        false,
		"ftp://example.com/x":       false,
		"https:///no-host":          false,
		"https://10.0.0.8:8443/x":   false,
		"https://hooks.example.org": true,
	} {
		err := ValidateTarget(raw, false)
		if (err == nil) != wantOK {
			t.Errorf("ValidateTarget(%s) = %v, want ok=%v", raw, err, wantOK)
		}
	}
	if err := ValidateTarget("http://127.0.0.1:9/x", true); err != nil {
		t.Errorf("with the flag, loopback http refused: %v", err)
	}
}

func TestIsPrivate(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true, "169.254.169.254": true,
		"::1": true, "fe80::1": true, "fc00::1": true, "0.0.0.0": true, "100.64.0.1": true, "::ffff:127.0.0.1": true,
		"93.184.216.34": false, "2606:4700::1111": false,
	} {
		if got := IsPrivate(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPrivate(%s) = %v, want %v", addr, got, want)
		}
	}
}

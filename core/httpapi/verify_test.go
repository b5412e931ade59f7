package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestVerifyTokenOnSave: a delivery target with a verifyToken is saved only
// after its endpoint echoes the hub's challenge for that token; every other
// answer is a 422 that says why and never shows the token.
func TestVerifyTokenOnSave(t *testing.T) {
	const token = "vt-S3cret-123"
	var mu sync.Mutex
	var seen []string // hub.verify_token of each verification request
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		seen = append(seen, q.Get("hub.verify_token"))
		mu.Unlock()
		if r.Method != http.MethodGet || q.Get("hub.mode") != "subscribe" {
			http.Error(w, "not a verification", http.StatusBadRequest)
			return
		}
		switch {
		case r.URL.Path == "/moved":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case r.URL.Path == "/lazy":
			io.WriteString(w, "ok")
		case q.Get("hub.verify_token") != token:
			http.Error(w, "wrong token", http.StatusForbidden)
		default:
			io.WriteString(w, q.Get("hub.challenge"))
		}
	}))
	defer endpoint.Close()
	h := apptest.Start(t, storetest.SQLite(t))
	target := func(path, vt string) map[string]any {
		return map[string]any{"url": endpoint.URL + path, "verifyToken": vt}
	}

	r := h.Admin("POST", "/api/integrations", map[string]any{"name": "verified", "kind": "custom", "delivery": target("/hook/<<conversationId>>", token)})
	if r.Status != http.StatusCreated {
		t.Fatalf("create with the right token: %d %s", r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	if strings.Contains(string(r.Body), token) {
		t.Errorf("the answer shows the verify token: %s", r.Body)
	}
	got := h.Admin("GET", "/api/integrations/"+id, nil)
	if strings.Contains(string(got.Body), token) || !strings.Contains(string(got.Body), `"verifyToken":"********"`) {
		t.Errorf("GET shows %s, want the verify token masked", got.Body)
	}

	for _, tt := range []struct {
		name, path, token, want string
	}{
		{"wrong token", "/hook", "other-token", "answered 403"},
		{"no echo", "/lazy", token, "without echoing hub.challenge"},
		{"redirect", "/moved", token, "redirect, which is not followed"},
		{"masked on another host", "http://other.invalid/hook", "********", "send the secret itself"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := target(tt.path, tt.token)
			if strings.HasPrefix(tt.path, "http") {
				d["url"] = tt.path
			}
			r := h.Admin("PATCH", "/api/integrations/"+id, map[string]any{"delivery": d})
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "verifyToken") || !strings.Contains(string(r.Body), tt.want) {
				t.Errorf("%d %s, want 422 naming verifyToken and %q", r.Status, r.Body, tt.want)
			}
			if strings.Contains(string(r.Body), "other-token") || strings.Contains(string(r.Body), token) {
				t.Errorf("the error shows the token: %s", r.Body)
			}
		})
	}

	// Sent back masked on the same host, the stored token is verified again.
	mu.Lock()
	seen = nil
	mu.Unlock()
	if r := h.Admin("PATCH", "/api/integrations/"+id, map[string]any{"delivery": target("/hook2", "********")}); r.Status != http.StatusOK {
		t.Errorf("update keeping the token: %d %s", r.Status, r.Body)
	}
	mu.Lock()
	if len(seen) != 1 || seen[0] != token {
		t.Errorf("verification requests carried %q, want the stored token once", seen)
	}
	seen = nil
	mu.Unlock()
	// Without a verifyToken nothing is asked.
	if r := h.Admin("PATCH", "/api/integrations/"+id, map[string]any{"delivery": map[string]any{"url": endpoint.URL + "/plain"}}); r.Status != http.StatusOK {
		t.Errorf("update without a token: %d %s", r.Status, r.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 0 {
		t.Errorf("a target without verifyToken was verified: %q", seen)
	}
}

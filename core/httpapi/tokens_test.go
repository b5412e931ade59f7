package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

type tokenList struct {
	Tokens []struct {
		ID         string
		Name       string
		CreatedAt  time.Time
		LastUsedAt *time.Time
	}
	NextCursor string
}

func TestAdminTokensListAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		second := h.NewAdminToken("test")
		other := h.NewAdminToken("other-workspace")
		secrets := []string{h.Token, second, other}

		// Newest first, ids only: no token and no hash of one in the answer.
		r := h.Admin("GET", "/api/tokens", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		for _, s := range secrets {
			if strings.Contains(string(r.Body), s) || strings.Contains(string(r.Body), auth.Hash(s)) {
				t.Fatalf("the list shows a token or its hash: %s", r.Body)
			}
		}
		var list tokenList
		r.JSON(t, &list)
		if len(list.Tokens) != 2 || list.Tokens[0].ID <= list.Tokens[1].ID || list.NextCursor != "" {
			t.Fatalf("list = %s, want the workspace's 2 tokens newest first", r.Body)
		}
		secondID, ownID := list.Tokens[0].ID, list.Tokens[1].ID
		if list.Tokens[1].LastUsedAt == nil || time.Since(*list.Tokens[1].LastUsedAt) > time.Minute || list.Tokens[0].LastUsedAt != nil {
			t.Errorf("lastUsedAt: the caller's token should be just used, the other never: %s", r.Body)
		}
		if list.Tokens[1].CreatedAt.IsZero() {
			t.Errorf("createdAt missing: %s", r.Body)
		}
		// Use is recorded at most once a minute, not at every request.
		first := *list.Tokens[1].LastUsedAt
		time.Sleep(20 * time.Millisecond)
		h.Admin("GET", "/api/tokens", nil).JSON(t, &list)
		if got := list.Tokens[1].LastUsedAt; got == nil || !got.Equal(first) {
			t.Errorf("lastUsedAt rewritten within a minute: %v then %v", first, got)
		}

		// Paged like every list.
		var page tokenList
		h.Admin("GET", "/api/tokens?limit=1", nil).JSON(t, &page)
		if len(page.Tokens) != 1 || page.Tokens[0].ID != secondID || page.NextCursor == "" {
			t.Fatalf("first page = %+v", page)
		}
		var rest tokenList
		h.Admin("GET", "/api/tokens?limit=1&cursor="+page.NextCursor, nil).JSON(t, &rest)
		if len(rest.Tokens) != 1 || rest.Tokens[0].ID != ownID || rest.NextCursor != "" {
			t.Fatalf("second page = %+v", rest)
		}
		for _, bad := range []string{"0", "ten"} {
			if r := h.Admin("GET", "/api/tokens?limit="+bad, nil); r.Status != http.StatusBadRequest {
				t.Errorf("limit %s: %d", bad, r.Status)
			}
		}

		// Another workspace sees only its own token and cannot revoke ours.
		var theirs tokenList
		h.AdminAs(other, "GET", "/api/tokens", nil).JSON(t, &theirs)
		if len(theirs.Tokens) != 1 || theirs.Tokens[0].ID == ownID || theirs.Tokens[0].ID == secondID {
			t.Fatalf("another workspace lists %+v", theirs)
		}
		if r := h.AdminAs(other, "DELETE", "/api/tokens/"+secondID, nil); r.Status != http.StatusNotFound {
			t.Errorf("another workspace revoking our token: %d %s, want 404", r.Status, r.Body)
		}
		if r := h.AdminAs(second, "GET", "/api/integrations", nil); r.Status != http.StatusOK {
			t.Fatalf("token stopped working after another workspace's attempt: %d", r.Status)
		}

		// Ids that are missing, malformed or hostile are 404, never 500.
		for _, id := range []string{"01a1fe7b-0000-7000-8000-000000000000", "nope", "%00", "%ff%fe", "x%00y", strings.Repeat("a", 5000), "1%20OR%201=1", "sba_" + strings.TrimPrefix(second, "sba_")} {
			r := h.Admin("DELETE", "/api/tokens/"+id, nil)
			if r.Status != http.StatusNotFound || r.Map(t)["error"] != "not_found" {
				t.Errorf("DELETE /api/tokens/%.40s: %d %s, want 404", id, r.Status, r.Body)
			}
		}
		if r := h.Do("DELETE", "/api/tokens/"+secondID, nil, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("revoke without a token: %d", r.Status)
		}
		if r := h.Do("GET", "/api/tokens", nil, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("list without a token: %d", r.Status)
		}

		// Revoked: 401 on the very next call, although it was just cached.
		if r := h.AdminAs(second, "GET", "/api/tokens", nil); r.Status != http.StatusOK {
			t.Fatalf("second token before revocation: %d", r.Status)
		}
		if r := h.Admin("DELETE", "/api/tokens/"+secondID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := h.AdminAs(second, "GET", "/api/tokens", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("revoked token: %d %s, want 401", r.Status, r.Body)
		}
		if r := h.Admin("DELETE", "/api/tokens/"+secondID, nil); r.Status != http.StatusNotFound {
			t.Errorf("revoking twice: %d, want 404", r.Status)
		}
		h.Admin("GET", "/api/tokens", nil).JSON(t, &list)
		if len(list.Tokens) != 1 || list.Tokens[0].ID != ownID {
			t.Errorf("after revocation the list is %+v", list)
		}

		// A token may revoke itself, the workspace's last one included.
		if r := h.Admin("DELETE", "/api/tokens/"+ownID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("revoke own token: %d %s", r.Status, r.Body)
		}
		if r := h.Admin("GET", "/api/tokens", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("self-revoked token: %d, want 401", r.Status)
		}
		if r := h.AdminAs(other, "GET", "/api/tokens", nil); r.Status != http.StatusOK || len(r.Map(t)["tokens"].([]any)) != 1 {
			t.Errorf("the other workspace's token after our revocations: %d %s", r.Status, r.Body)
		}
	})
}

// A hub sharing the database notices a revocation within the cache TTL.
func TestAdminTokenRevokedInAnotherProcess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		a := apptest.Start(t, dbURL)
		b := apptest.Start(t, dbURL)
		tok := a.NewAdminToken("shared")
		if r := b.AdminAs(tok, "GET", "/api/tokens", nil); r.Status != http.StatusOK {
			t.Fatalf("hub b before revocation: %d", r.Status)
		}
		var list tokenList
		a.AdminAs(tok, "GET", "/api/tokens", nil).JSON(t, &list)
		if r := a.AdminAs(tok, "DELETE", "/api/tokens/"+list.Tokens[0].ID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("revoke on hub a: %d %s", r.Status, r.Body)
		}
		revoked := time.Now()
		if r := a.AdminAs(tok, "GET", "/api/tokens", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("hub a after revocation: %d", r.Status)
		}
		apptest.Eventually(t, auth.AdminTokenCacheTTL+2*time.Second, func() error {
			if r := b.AdminAs(tok, "GET", "/api/tokens", nil); r.Status != http.StatusUnauthorized {
				return fmt.Errorf("hub b still answers %d", r.Status)
			}
			return nil
		})
		if d := time.Since(revoked); d > auth.AdminTokenCacheTTL+500*time.Millisecond {
			t.Errorf("hub b noticed after %s, more than the documented %s", d, auth.AdminTokenCacheTTL)
		}
	})
}

// TestAdminTokenCreate: POST /api/tokens answers a working token once; the
// hub keeps its hash; it stops working when revoked.
func TestAdminTokenCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		r := h.Admin("POST", "/api/tokens", map[string]any{"name": "  deploy bot  "})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var made struct {
			ID, Name, Token string
			CreatedAt       time.Time
			LastUsedAt      *time.Time
		}
		r.JSON(t, &made)
		if !strings.HasPrefix(made.Token, "sba_") || len(made.Token) != 47 || made.ID == "" || made.Name != "deploy bot" || made.CreatedAt.IsZero() || made.LastUsedAt != nil {
			t.Fatalf("created = %s", r.Body)
		}
		if strings.Contains(string(r.Body), auth.Hash(made.Token)) {
			t.Errorf("the answer holds the token's hash")
		}
		if r := h.AdminAs(made.Token, "GET", "/api/integrations", nil); r.Status != http.StatusOK {
			t.Fatalf("the new token: %d", r.Status)
		}
		list := h.Admin("GET", "/api/tokens", nil)
		if strings.Contains(string(list.Body), made.Token) || strings.Contains(string(list.Body), auth.Hash(made.Token)) || !strings.Contains(string(list.Body), made.ID) {
			t.Errorf("the list: %s", list.Body)
		}

		// Without a body or a name: named "api".
		for _, body := range []any{nil, map[string]any{}, map[string]any{"name": ""}} {
			r := h.Admin("POST", "/api/tokens", body)
			if r.Status != http.StatusCreated || r.Map(t)["name"] != "api" {
				t.Errorf("create with %v: %d %s", body, r.Status, r.Body)
			}
		}
		for _, tc := range []struct {
			body   any
			status int
		}{
			{map[string]any{"name": strings.Repeat("n", 201)}, 422},
			{map[string]any{"name": "a\u0000b"}, 422},
			{map[string]any{"name": 7}, 400},
			{map[string]any{"token": "sba_mine"}, 400},
			{"[]", 400},
		} {
			if r := h.Admin("POST", "/api/tokens", tc.body); r.Status != tc.status {
				t.Errorf("create with %v: %d %s, want %d", tc.body, r.Status, r.Body, tc.status)
			}
		}
		if r := h.Do("POST", "/api/tokens", nil, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("create without a token: %d", r.Status)
		}

		if r := h.Admin("DELETE", "/api/tokens/"+made.ID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("revoke: %d", r.Status)
		}
		if r := h.AdminAs(made.Token, "GET", "/api/integrations", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("the revoked token: %d, want 401", r.Status)
		}
	})
}

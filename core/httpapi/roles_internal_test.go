package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

// TestInProcessRoles: the admin UI calls the API in process for a logged-in
// user, and the API knows the user's role. Whatever page of the UI an admin
// or an agent reaches, the API path it uses refuses them users and new
// tokens (403), so no bug in a page can hand them an owner's powers.
func TestInProcessRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		log := slog.New(slog.DiscardHandler)
		st, err := store.Open(ctx, dbURL, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		srv := New(Deps{Store: st, AdminTokens: auth.NewAdminTokens(st, log), Log: log, Registry: prometheus.NewRegistry()})
		ws, err := st.EnsureWorkspace(ctx, "roles")
		if err != nil {
			t.Fatal(err)
		}
		users := map[string]domain.User{}
		for _, role := range []string{domain.RoleOwner, domain.RoleAdmin, domain.RoleAgent} {
			hash, _ := auth.HashPassword("password-" + role)
			u, err := st.CreateUser(ctx, domain.User{WorkspaceID: ws.ID, Email: role + "@example.com", Role: role, PasswordHash: hash})
			if err != nil {
				t.Fatal(err)
			}
			users[role] = u
		}
		call := func(ctx context.Context, method, path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			return rec
		}
		newUser := `{"email":"escalated@example.com","password":"escalate-me","role":"owner"}`
		for _, who := range []struct {
			name string
			ctx  context.Context
		}{
			{"an admin", AsUser(ctx, users[domain.RoleAdmin])},
			{"an agent", AsUser(ctx, users[domain.RoleAgent])},
			{"no user", AsWorkspace(ctx, ws.ID)},
		} {
			for _, c := range []struct{ method, path, body string }{
				{"GET", "/api/users", ""},
				{"POST", "/api/users", newUser},
				{"DELETE", "/api/users/" + users[domain.RoleOwner].ID, ""},
				{"POST", "/api/tokens", `{"name":"mine"}`},
			} {
				rec := call(who.ctx, c.method, c.path, c.body)
				var e struct{ Error string }
				json.Unmarshal(rec.Body.Bytes(), &e)
				if rec.Code != http.StatusForbidden || e.Error != "forbidden" || strings.Contains(rec.Body.String(), "sba_") {
					t.Errorf("%s: %s %s: %d %s, want 403 forbidden", who.name, c.method, c.path, rec.Code, rec.Body)
				}
			}
		}
		if _, err := st.UserByEmail(ctx, "escalated@example.com"); err != store.ErrNotFound {
			t.Fatalf("a refused caller created a user: %v", err)
		}
		if toks, _, _ := st.AdminTokens(ctx, ws.ID, domain.Page{}); len(toks) != 0 {
			t.Fatalf("a refused caller created a token: %+v", toks)
		}

		owner := AsUser(ctx, users[domain.RoleOwner])
		if rec := call(owner, "GET", "/api/users", ""); rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `"email"`) != 3 {
			t.Errorf("owner lists users: %d %s", rec.Code, rec.Body)
		}
		if rec := call(owner, "POST", "/api/tokens", ""); rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"token":"sba_`) {
			t.Errorf("owner creates a token: %d %s", rec.Code, rec.Body)
		}
		// An owner cannot remove themselves, even with another owner left.
		if rec := call(owner, "POST", "/api/users", newUser); rec.Code != http.StatusCreated {
			t.Fatalf("owner adds an owner: %d %s", rec.Code, rec.Body)
		}
		if rec := call(owner, "DELETE", "/api/users/"+users[domain.RoleOwner].ID, ""); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "your own account") {
			t.Errorf("owner removes themselves: %d %s, want 409", rec.Code, rec.Body)
		}
		if rec := call(owner, "DELETE", "/api/users/"+users[domain.RoleAdmin].ID, ""); rec.Code != http.StatusNoContent {
			t.Errorf("owner removes an admin: %d %s", rec.Code, rec.Body)
		}
		// Other routes are not scoped by role in the API: the UI's pages gate them.
		if rec := call(AsUser(ctx, users[domain.RoleAgent]), "GET", "/api/tokens", ""); rec.Code != http.StatusOK {
			t.Errorf("GET /api/tokens in process: %d", rec.Code)
		}
	})
}

package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

type userList struct {
	Users []struct {
		ID, Email, Role, CreatedAt string
	}
	NextCursor string
}

func TestUsersCreateListDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		const pw = "a fine password"
		r := h.Admin("POST", "/api/users", map[string]any{"email": " New.Agent@Example.com ", "password": pw, "role": "agent"})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		created := r.Map(t)
		if created["email"] != "new.agent@example.com" || created["role"] != "agent" || created["id"] == "" || created["createdAt"] == nil {
			t.Errorf("created = %s", r.Body)
		}
		for _, k := range []string{"password", "passwordHash", "hash"} {
			if _, ok := created[k]; ok {
				t.Errorf("the answer holds %s: %s", k, r.Body)
			}
		}
		if strings.Contains(string(r.Body), pw) || strings.Contains(string(r.Body), "$2a$") {
			t.Errorf("the answer holds the password or a bcrypt hash: %s", r.Body)
		}
		h.Admin("POST", "/api/users", map[string]any{"email": "second@example.com", "password": pw, "role": "owner"})

		var list userList
		r = h.Admin("GET", "/api/users", nil)
		r.JSON(t, &list)
		if len(list.Users) != 2 || list.Users[0].Email != "second@example.com" || list.Users[1].Email != "new.agent@example.com" {
			t.Fatalf("list = %s, want two users newest first", r.Body)
		}
		if strings.Contains(string(r.Body), "$2a$") || strings.Contains(string(r.Body), pw) {
			t.Errorf("the list holds a hash or a password: %s", r.Body)
		}
		var page userList
		h.Admin("GET", "/api/users?limit=1", nil).JSON(t, &page)
		if len(page.Users) != 1 || page.NextCursor == "" {
			t.Errorf("paged: %+v", page)
		}

		// The new user logs in with their role.
		agent := h.LoginUI("new.agent@example.com", pw)
		if p := agent.Get("/"); !strings.Contains(p.Body, "new.agent@example.com · agent") {
			t.Errorf("the new user's page: %d", p.Status)
		}

		// Emails are unique across workspaces, in any case.
		other := h.NewAdminToken("other-workspace")
		if r := h.AdminAs(other, "POST", "/api/users", map[string]any{"email": "NEW.agent@example.com", "password": pw, "role": "agent"}); r.Status != http.StatusConflict ||
			!strings.HasPrefix(r.Map(t)["message"].(string), "email: ") {
			t.Errorf("a taken email in another workspace: %d %s, want 409 naming email", r.Status, r.Body)
		}
		// Another workspace neither sees nor removes them.
		var theirs userList
		h.AdminAs(other, "GET", "/api/users", nil).JSON(t, &theirs)
		if len(theirs.Users) != 0 {
			t.Errorf("another workspace lists %+v", theirs)
		}
		agentID := list.Users[1].ID
		if r := h.AdminAs(other, "DELETE", "/api/users/"+agentID, nil); r.Status != http.StatusNotFound {
			t.Errorf("another workspace removing our user: %d, want 404", r.Status)
		}

		// Removing a user ends their sessions at once.
		if r := h.Admin("DELETE", "/api/users/"+agentID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if p := agent.Get("/"); !strings.Contains(p.Body, `action="/login"`) {
			t.Errorf("the removed user's session still opens a page: %d", p.Status)
		}
		if p := h.UIClient().Post("/login", url.Values{"email": {"new.agent@example.com"}, "password": {pw}}); p.Status != http.StatusUnauthorized {
			t.Errorf("the removed user logs in: %d", p.Status)
		}
		if r := h.Admin("DELETE", "/api/users/"+agentID, nil); r.Status != http.StatusNotFound {
			t.Errorf("removing twice: %d, want 404", r.Status)
		}
		for _, id := range []string{"nope", "%00", "01a1fe7b-0000-7000-8000-000000000000"} {
			if r := h.Admin("DELETE", "/api/users/"+id, nil); r.Status != http.StatusNotFound {
				t.Errorf("DELETE /api/users/%s: %d, want 404", id, r.Status)
			}
		}

		// The last owner stays.
		h.Admin("GET", "/api/users", nil).JSON(t, &list)
		ownerID := list.Users[0].ID
		if r := h.Admin("DELETE", "/api/users/"+ownerID, nil); r.Status != http.StatusConflict || !strings.Contains(r.Map(t)["message"].(string), "last owner") {
			t.Errorf("removing the last owner: %d %s, want 409", r.Status, r.Body)
		}
		h.Admin("POST", "/api/users", map[string]any{"email": "third@example.com", "password": pw, "role": "owner"})
		if r := h.Admin("DELETE", "/api/users/"+ownerID, nil); r.Status != http.StatusNoContent {
			t.Errorf("removing an owner who is not the last: %d %s", r.Status, r.Body)
		}
	})
}

func TestUsersRefuseBadInput(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	ok := map[string]any{"email": "ok@example.com", "password": "long enough", "role": "admin"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no email", with("email", nil), 422, "email"},
		{"not an email", with("email", "not-an-email"), 422, "email"},
		{"a display name", with("email", "Someone <someone@example.com>"), 422, "email"},
		{"a long email", with("email", strings.Repeat("a", 250)+"@example.com"), 422, "email"},
		{"a NUL byte", with("email", "a\u0000b@example.com"), 422, "email"},
		{"no role", with("role", nil), 422, "role"},
		{"an unknown role", with("role", "superuser"), 422, "role"},
		{"no password", with("password", nil), 422, "password"},
		{"a short password", with("password", "short"), 422, "password"},
		{"73 bytes", with("password", strings.Repeat("p", 73)), 422, "password"},
		{"an unknown field", with("passwordHash", "$2a$10$x"), 400, ""},
		{"a role that is not a string", with("role", 1), 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.Admin("POST", "/api/users", tc.body)
			if r.Status != tc.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.status)
			}
			msg, _ := r.Map(t)["message"].(string)
			if tc.field != "" && !strings.HasPrefix(msg, tc.field) {
				t.Errorf("message %q does not name %s", msg, tc.field)
			}
			if strings.Contains(msg, "long enough") || strings.Contains(msg, "short") || strings.Contains(msg, "ppp") {
				t.Errorf("the message repeats the password: %q", msg)
			}
		})
	}
	var list userList
	h.Admin("GET", "/api/users", nil).JSON(t, &list)
	if len(list.Users) != 0 {
		t.Errorf("a refused user was stored: %+v", list.Users)
	}
	// 72 bytes is the most bcrypt reads: accepted.
	if r := h.Admin("POST", "/api/users", with("password", strings.Repeat("é", 36))); r.Status != http.StatusCreated {
		t.Errorf("a 72-byte password: %d %s", r.Status, r.Body)
	}
}

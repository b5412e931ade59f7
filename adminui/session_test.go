package adminui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func TestLoginAndLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		pw := h.NewUser("Owner@Example.com", domain.RoleOwner)
		c := h.UIClient()
		if p := c.Get("/integrations"); p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/login"`) {
			t.Fatalf("without a session: %d, want the login page", p.Status)
		}
		if p := c.Post("/login", url.Values{"email": {"owner@example.com"}, "password": {"wrong password"}}); p.Status != http.StatusUnauthorized ||
			!strings.Contains(p.Body, "The email or the password is wrong.") {
			t.Errorf("a wrong password: %d", p.Status)
		}
		if p := c.Post("/login", url.Values{"email": {"nobody@example.com"}, "password": {pw}}); p.Status != http.StatusUnauthorized ||
			!strings.Contains(p.Body, "The email or the password is wrong.") {
			t.Errorf("an unknown email: %d", p.Status)
		}
		if p := c.Post("/login", url.Values{"email": {"OWNER@example.com "}, "password": {pw}, "next": {"/integrations/new"}}); p.Status != http.StatusSeeOther || p.Location != "/integrations/new" {
			t.Fatalf("login: %d to %q", p.Status, p.Location)
		}
		if p := c.Get("/integrations"); p.Status != http.StatusOK || !strings.Contains(p.Body, "owner@example.com · owner") {
			t.Fatalf("after login: %d\n%s", p.Status, p.Body)
		}
		if p := c.Post("/logout", nil); p.Status != http.StatusSeeOther || p.Location != "/login" {
			t.Errorf("logout: %d to %q", p.Status, p.Location)
		}
		if p := c.Get("/integrations"); !strings.Contains(p.Body, `action="/login"`) {
			t.Errorf("after logout the page still opens")
		}
	})
}

// TestLoginWithAnImpossibleEmail: an email with a NUL byte names no user,
// on PostgreSQL as on SQLite: a wrong login (401), never a failure (500)
// an outsider could raise at will in the hub's error log.
func TestLoginWithAnImpossibleEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		pw := h.NewUser("g@example.com", domain.RoleOwner)
		for _, email := range []string{"g\x00@example.com", "g@example.com\x00", "g\xff@example.com"} {
			if p := h.UIClient().Post("/login", url.Values{"email": {email}, "password": {pw}}); p.Status != http.StatusUnauthorized {
				t.Errorf("email %q: %d, want 401", email, p.Status)
			}
		}
	})
}

// TestLoginRedirectStaysOnSite: next= never sends a user to another site.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	pw := h.NewUser("a@example.com", domain.RoleOwner)
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
		// Browsers drop tabs and line breaks from a URL, and read a
		// backslash as a slash: each of these is //evil.example to them.
		"/\t/evil.example/", "/\t\\evil.example", "/\x0b/evil.example", "/%09/../\t/evil.example"} {
		c := h.UIClient()
		p := c.Post("/login", url.Values{"email": {"a@example.com"}, "password": {pw}, "next": {next}})
		if p.Status != http.StatusSeeOther || p.Location != "/" {
			t.Errorf("next=%q: redirected to %q", next, p.Location)
		}
		// Nor does the login page keep it for the form.
		if p := h.UIClient().Get("/login?next=" + url.QueryEscape(next)); strings.Contains(p.Body, "evil.example") {
			t.Errorf("GET /login?next=%q keeps it in the form", next)
		}
	}
}

func TestFailedLoginsAreLimited(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	pw := h.NewUser("b@example.com", domain.RoleOwner)
	c := h.UIClient()
	for range 10 {
		c.Post("/login", url.Values{"email": {"b@example.com"}, "password": {"guess-guess"}})
	}
	if p := c.Post("/login", url.Values{"email": {"b@example.com"}, "password": {pw}}); p.Status != http.StatusTooManyRequests {
		t.Errorf("after 10 failures the right password: %d, want 429", p.Status)
	}
}

// TestLoginsSentAtOnceAreLimited: guesses sent together cannot all pass the
// limiter before the first of them has failed.
func TestLoginsSentAtOnceAreLimited(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	pw := h.NewUser("e@example.com", domain.RoleOwner)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for i := range 40 {
		wg.Go(func() {
			p := h.UIClient().Post("/login", url.Values{"email": {"e@example.com"}, "password": {fmt.Sprintf("guess-%d", i)}})
			mu.Lock()
			counts[p.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts[http.StatusUnauthorized] > 10 || counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != 40 {
		t.Errorf("40 guesses at once: %v, want at most 10 checked and the rest 429", counts)
	}
	if p := h.UIClient().Post("/login", url.Values{"email": {"e@example.com"}, "password": {pw}}); p.Status != http.StatusTooManyRequests {
		t.Errorf("the right password after 40 guesses: %d, want 429", p.Status)
	}
}

// TestFailedLoginsBehindAProxy: behind a reverse proxy every login comes
// from the proxy's address. Guesses at some emails must not lock every
// other user out: the address limit holds for public addresses only, the
// email's for all.
func TestFailedLoginsBehindAProxy(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	pw := h.NewUser("f@example.com", domain.RoleAdmin)
	for i := range 12 {
		h.UIClient().Post("/login", url.Values{"email": {fmt.Sprintf("guess-%d@example.com", i)}, "password": {"guess-guess"}})
	}
	if p := h.UIClient().Post("/login", url.Values{"email": {"f@example.com"}, "password": {pw}}); p.Status != http.StatusSeeOther {
		t.Errorf("another user after 12 failures from the proxy's address: %d, want 303", p.Status)
	}
}

// TestFormsNeedTheSessionsToken: a form without the session's CSRF token,
// with another session's, or from another origin changes nothing.
func TestFormsNeedTheSessionsToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		h := apptest.Start(t, dbURL)
		c := h.LoginUI("c@example.com", h.NewUser("c@example.com", domain.RoleOwner))
		other := h.LoginUI("d@example.com", h.NewUser("d@example.com", domain.RoleOwner))
		otherToken := csrfOf(t, other.Get("/integrations").Body)
		form := url.Values{"name": {"Forged"}, "kind": {"custom"}}
		for name, f := range map[string]url.Values{
			"no token":              {"name": {"Forged"}, "kind": {"custom"}, "_csrf": {""}},
			"another session's one": {"name": {"Forged"}, "kind": {"custom"}, "_csrf": {otherToken}},
		} {
			if p := c.Post("/integrations", f); p.Status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", name, p.Status)
			}
		}
		if p := c.PostFrom("https://evil.example", "/integrations", form); p.Status != http.StatusForbidden {
			t.Errorf("a form from another origin: %d, want 403", p.Status)
		}
		var list struct{ Integrations []struct{ Name string } }
		h.Admin("GET", "/api/integrations", nil).JSON(t, &list)
		if len(list.Integrations) != 0 {
			t.Errorf("a forged form created %+v", list.Integrations)
		}
	})
}

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `name="csrf-token" content="`)
	if i < 0 {
		t.Fatal("no CSRF token on the page")
	}
	rest := body[i+len(`name="csrf-token" content="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// TestRoles: an agent sees conversations, never configuration or secrets.
func TestRoles(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	agent := h.LoginUI("agent@example.com", h.NewUser("agent@example.com", domain.RoleAgent))
	if p := agent.Get("/"); strings.Contains(p.Body, `href="/integrations"`) {
		t.Errorf("the agent's navigation links to integrations")
	}
	for _, path := range []string{"/integrations", "/integrations/new"} {
		if p := agent.Get(path); p.Status != http.StatusForbidden {
			t.Errorf("agent GET %s: %d, want 403", path, p.Status)
		}
	}
	if p := agent.Post("/integrations", url.Values{"name": {"x"}, "kind": {"custom"}}); p.Status != http.StatusForbidden {
		t.Errorf("agent creates an integration: %d, want 403", p.Status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := apptest.Start(t, storetest.SQLite(t))
	for _, path := range []string{"/login", "/static/app.css", "/no-such-page"} {
		resp, err := http.Get(h.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	resp, err := http.Get(h.URL + "/static/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/static/ lists files: %d", resp.StatusCode)
	}
}

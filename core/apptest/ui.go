package apptest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/domain"
)

// NewUser creates an admin-UI login in the hub's test workspace (the one
// of h.Token) and returns its password.
func (h *Hub) NewUser(email, role string) string {
	h.t.Helper()
	return h.NewUserIn("test", email, role)
}

// NewUserIn creates an admin-UI login in a workspace and returns its password.
func (h *Hub) NewUserIn(workspace, email, role string) string {
	h.t.Helper()
	ctx := context.Background()
	ws, err := h.App.Store.EnsureWorkspace(ctx, workspace)
	if err != nil {
		h.t.Fatal(err)
	}
	password := "pw-" + strings.ReplaceAll(email, "@", "-at-")
	hash, err := auth.HashPassword(password)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.App.Store.CreateUser(ctx, domain.User{WorkspaceID: ws.ID, Email: email, Role: role, PasswordHash: hash}); err != nil {
		h.t.Fatal(err)
	}
	return password
}

// UIClient is a browser stand-in for the admin UI: it keeps the session
// cookie and sends each form with the page's CSRF token, from the hub's
// own origin, as a browser would.
type UIClient struct {
	t    testing.TB
	hub  *Hub
	http *http.Client
	csrf string
	// origin replaces the hub's own in the next form's Origin header.
	origin string
}

// UIPage is one answer of the UI.
type UIPage struct {
	Status   int
	Body     string
	Location string
}

// LoginUI logs in to the admin UI; the login must succeed.
func (h *Hub) LoginUI(email, password string) *UIClient {
	h.t.Helper()
	c := h.UIClient()
	p := c.Post("/login", url.Values{"email": {email}, "password": {password}})
	if p.Status != http.StatusSeeOther {
		h.t.Fatalf("apptest: login as %s: %d\n%s", email, p.Status, p.Body)
	}
	c.Get("/") // learn the CSRF token
	return c
}

// UIClient returns a client without a session.
func (h *Hub) UIClient() *UIClient {
	jar, _ := cookiejar.New(nil)
	return &UIClient{t: h.t, hub: h, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// Get fetches a page, following redirects.
func (c *UIClient) Get(path string) *UIPage {
	c.t.Helper()
	for range 5 {
		p := c.do(http.MethodGet, path, nil)
		if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
			return p
		}
		path = p.Location
	}
	c.t.Fatalf("apptest: too many redirects from %s", path)
	return nil
}

// Post sends a form with the session's CSRF token (unless form sets
// _csrf) and does not follow the redirect.
func (c *UIClient) Post(path string, form url.Values) *UIPage {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok && c.csrf != "" {
		form.Set("_csrf", c.csrf)
	}
	return c.do(http.MethodPost, path, form)
}

// PostFrom is Post as a page of another origin would send it.
func (c *UIClient) PostFrom(origin, path string, form url.Values) *UIPage {
	c.t.Helper()
	c.origin = origin
	defer func() { c.origin = "" }()
	return c.Post(path, form)
}

func (c *UIClient) do(method, path string, form url.Values) *UIPage {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.hub.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		origin := c.hub.URL
		if c.origin != "" {
			origin = c.origin
		}
		req.Header.Set("Origin", origin)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := &UIPage{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location")}
	if m := csrfMeta.FindStringSubmatch(p.Body); m != nil {
		c.csrf = m[1]
	}
	return p
}

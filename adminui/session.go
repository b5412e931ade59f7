package adminui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/httpapi"
	"github.com/switchboardhq/switchboard/core/store"
)

// cookieName is the session cookie. Its value is a random token; the
// database keeps only its SHA-256.
const cookieName = "sb_session"

// maxFormBytes bounds a form the UI reads.
const maxFormBytes = 1 << 20

// allow says which roles may use a page.
type allow func(role string) bool

var (
	anyone = func(string) bool { return true }
	staff  = func(role string) bool { return role == domain.RoleOwner || role == domain.RoleAdmin }
	owners = func(role string) bool { return role == domain.RoleOwner }
)

// handler is a page handler for a logged-in user.
type handler func(w http.ResponseWriter, r *http.Request, s *domain.Session)

// page runs h for a logged-in user whose role allow accepts. A visitor
// without a session is sent to the login page; a form sent without the
// session's CSRF token, or from another origin, is refused.
func (u *UI) page(ok allow, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := u.session(r)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				u.fail(w, r, nil, err)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.renderError(w, r, nil, http.StatusUnauthorized, "Your session has ended. Log in again.")
			return
		}
		if !ok(s.User.Role) {
			u.renderError(w, r, s, http.StatusForbidden, "Your role does not allow this page.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				u.renderError(w, r, s, http.StatusBadRequest, "The form could not be read.")
				return
			}
			if !u.sameOrigin(r) || !validCSRF(r, s.CSRFToken) {
				u.renderError(w, r, s, http.StatusForbidden, "The form was not sent from this page. Reload the page and try again.")
				return
			}
		}
		h(w, r, s)
	})
}

// session returns the request's session, or store.ErrNotFound.
func (u *UI) session(r *http.Request) (*domain.Session, error) {
	c, err := r.Cookie(cookieName)
	if err != nil || len(c.Value) != 43 {
		return nil, store.ErrNotFound
	}
	s, err := u.Store.Session(r.Context(), tokenHash(c.Value))
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// formText is a textarea's value as the user typed it: browsers send its
// line breaks as CRLF, which would otherwise reach a stored script, an
// agent's reply or a contact's SMS.
func formText(r *http.Request, name string) string {
	return strings.ReplaceAll(r.PostFormValue(name), "\r\n", "\n")
}

func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("_csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses a form posted from another origin. Browsers send
// Origin with every POST; a request without one is not a browser's.
func (u *UI) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	o, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if o.Host == r.Host {
		return true
	}
	if pub, err := url.Parse(u.PublicURL); err == nil && u.PublicURL != "" {
		return o.Scheme == pub.Scheme && o.Host == pub.Host
	}
	return false
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := u.session(r); err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	u.render(w, r, nil, http.StatusOK, "login", map[string]any{"Next": localPath(r.URL.Query().Get("next"))})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil || !u.sameOrigin(r) {
		u.render(w, r, nil, http.StatusBadRequest, "login", map[string]any{"Error": "The form could not be read."})
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	next := localPath(r.PostFormValue("next"))
	data := map[string]any{"Email": email, "Next": next}
	// The attempt is counted before the password is checked, so guesses
	// sent at once cannot all pass before the first has failed. The
	// address is limited when it is a client's own, not a proxy's (see
	// httpapi.ClientKey): behind a proxy, anyone's guesses would
	// otherwise lock every user out.
	emailKey, addrKey := "email "+email, ""
	if a := httpapi.ClientKey(r); a != "" {
		addrKey = "address " + a
	}
	if !u.logins.attempt(emailKey, addrKey) {
		data["Error"] = "Too many failed attempts. Wait a few minutes, then try again."
		u.render(w, r, nil, http.StatusTooManyRequests, "login", data)
		return
	}
	var user domain.User
	if utf8.ValidString(email) && !strings.ContainsRune(email, 0) {
		// Such an email names no user, and PostgreSQL refuses to look.
		var err error
		if user, err = u.Store.UserByEmail(r.Context(), email); err != nil && !errors.Is(err, store.ErrNotFound) {
			u.fail(w, r, nil, err)
			return
		}
	}
	if !auth.CheckPassword(user.PasswordHash, r.PostFormValue("password")) {
		data["Error"] = "The email or the password is wrong."
		u.render(w, r, nil, http.StatusUnauthorized, "login", data)
		return
	}
	token, csrf := randomToken(), randomToken()
	s := domain.Session{ID: tokenHash(token), CSRFToken: csrf, ExpiresAt: time.Now().Add(u.SessionTTL), User: user}
	if err := u.Store.CreateSession(r.Context(), s); err != nil {
		u.fail(w, r, nil, err)
		return
	}
	u.logins.succeeded(emailKey, addrKey)
	http.SetCookie(w, u.cookie(r, token, s.ExpiresAt))
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	if err := u.Store.DeleteSession(r.Context(), s.ID); err != nil {
		u.fail(w, r, s, err)
		return
	}
	http.SetCookie(w, u.cookie(r, "", time.Unix(0, 0)))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (u *UI) cookie(r *http.Request, value string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: cookieName, Value: value, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || strings.HasPrefix(u.PublicURL, "https://"),
	}
}

// PurgeSessions deletes expired sessions now and then, until ctx ends.
func (u *UI) PurgeSessions(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := u.Store.PurgeSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
				u.Log.Warn("purge expired sessions", "err", err)
			}
		}
	}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// localPath keeps a redirect target on this site: a path, never a URL.
// Browsers drop tabs and line breaks anywhere in a URL and read a
// backslash as a slash, so "/\t/evil.example" or "/\\evil.example" would
// take them to another host: a path with a control character or a
// backslash is refused outright.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || len(p) > 2048 {
		return ""
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	return p
}

// loginLimiter counts login attempts per key (an email, a client address)
// in a window, and refuses a key past the limit until the window ends. It
// tracks at most size keys, dropping the oldest. Keys are kept as their
// SHA-256, since an email is whatever a form sends.
type loginLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	size   int
	keys   map[string]*attempts
}

type attempts struct {
	n     int
	since time.Time
}

func newLoginLimiter(limit int, window time.Duration, size int) *loginLimiter {
	return &loginLimiter{limit: limit, window: window, size: size, keys: map[string]*attempts{}}
}

func limiterKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return string(sum[:])
}

// attempt counts an attempt of each key that is not "". When a key has
// reached the limit it counts nothing and reports false.
func (l *loginLimiter) attempt(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	live := make([]*attempts, 0, len(keys))
	for _, key := range keys {
		if key == "" {
			continue
		}
		a, ok := l.keys[limiterKey(key)]
		if !ok || now.Sub(a.since) > l.window {
			live = append(live, nil)
			continue
		}
		if a.n >= l.limit {
			return false
		}
		live = append(live, a)
	}
	i := 0
	for _, key := range keys {
		if key == "" {
			continue
		}
		if a := live[i]; a != nil {
			a.n++
		} else {
			k := limiterKey(key)
			if _, ok := l.keys[k]; !ok && len(l.keys) >= l.size {
				l.evict()
			}
			l.keys[k] = &attempts{n: 1, since: now}
		}
		i++
	}
	return true
}

// succeeded takes back a login's attempt once its password was right: the
// email starts afresh, the address keeps the failures it had.
func (l *loginLimiter) succeeded(email, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, limiterKey(email))
	if a, ok := l.keys[limiterKey(addr)]; ok && addr != "" && a.n > 0 {
		a.n--
	}
}

// evict drops expired keys, or the oldest when none has expired.
func (l *loginLimiter) evict() {
	var oldest string
	var at time.Time
	for k, a := range l.keys {
		if time.Since(a.since) > l.window {
			delete(l.keys, k)
			continue
		}
		if oldest == "" || a.since.Before(at) {
			oldest, at = k, a.since
		}
	}
	if len(l.keys) >= l.size {
		delete(l.keys, oldest)
	}
}

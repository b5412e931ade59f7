// Package adminui is the hub's admin UI: pages rendered on the server with
// html/template, over the same admin API that tokens use, called in process
// on behalf of the logged-in user's workspace, so the UI and the API can
// never disagree on a rule. Templates, styles and scripts are embedded: go
// build alone yields a binary with its UI, and no Node toolchain is needed.
package adminui

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/store"
)

//go:embed templates static
var assets embed.FS

// Deps are what the UI needs.
type Deps struct {
	Store *store.Store
	// API is the admin API's handler; the UI calls it in process.
	API http.Handler
	Log *slog.Logger
	// PublicURL is the hub's public base URL; an https one makes the
	// session cookie Secure.
	PublicURL string
	// SessionTTL is how long a login lasts; 12 hours when zero.
	SessionTTL time.Duration
	// Live tells open inboxes that conversations changed; nil leaves them
	// to refresh on their timers.
	Live *live.Hub
}

// UI serves the admin pages.
type UI struct {
	Deps
	mux    *http.ServeMux
	pages  *pages
	logins *loginLimiter

	streams   uiStreams
	closing   chan struct{}
	closeOnce sync.Once
}

// New builds the UI.
func New(d Deps) (*UI, error) {
	if d.SessionTTL <= 0 {
		d.SessionTTL = 12 * time.Hour
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	u := &UI{Deps: d, mux: http.NewServeMux(), pages: p, logins: newLoginLimiter(10, 15*time.Minute, 10000), closing: make(chan struct{})}
	u.routes()
	return u, nil
}

// ServeHTTP sets the security headers every answer carries and routes.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	u.mux.ServeHTTP(w, r)
}

func (u *UI) routes() {
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	u.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	}))
	u.mux.HandleFunc("GET /login", u.loginPage)
	u.mux.HandleFunc("POST /login", u.login)
	u.mux.Handle("POST /logout", u.page(anyone, u.logout))
	u.mux.Handle("GET /{$}", u.page(anyone, u.home))

	u.integrationRoutes()
	u.toolRoutes()
	u.operationRoutes()
	u.workspaceRoutes()
	u.inboxRoutes()

	u.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u.notFound(w, r)
	})
}

package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
)

const (
	ctxRequestID = "requestID"
	ctxWorkspace = "workspaceID"
)

// requestID takes the caller's X-Request-Id when it is sane, else makes one.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n") {
		b := make([]byte, 8)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.Log.Error("panic in handler", "request_id", c.GetString(ctxRequestID), "path", c.FullPath(), "panic", fmt.Sprint(r))
			if !c.Writer.Written() {
				s.fail(c, fmt.Errorf("panic: %v", r))
			}
			c.Abort()
		}
	}()
	c.Next()
}

// observe records metrics and an access log line. Successful inbound
// webhooks log at debug: at thousands a second they would drown the rest.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	d := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.requests.WithLabelValues(methodLabel(c.Request.Method), route, strconv.Itoa(status)).Observe(d.Seconds())
	level := slog.LevelInfo
	if (strings.HasPrefix(route, "/api/webhooks/") || c.GetBool(ctxQuiet)) && status < 400 || route == "/healthz" || route == "/readyz" || route == "/metrics" {
		level = slog.LevelDebug
	}
	if status >= 500 && !(c.GetBool(ctxQuiet) && status == http.StatusServiceUnavailable) {
		// A public route's 503 (a stopped chat, too many streams) is an
		// answer to an outsider, not a failure of the hub.
		level = slog.LevelError
	}
	if !s.Log.Enabled(c.Request.Context(), level) {
		return
	}
	// The path is logged without its query: secrets never travel in paths here,
	// but a careless caller may put one in a query string.
	s.Log.Log(c.Request.Context(), level, "http request",
		"request_id", c.GetString(ctxRequestID), "method", c.Request.Method, "route", route,
		"path", logPath(c), "status", status, "duration_ms", float64(d.Microseconds())/1000)
}

// logPath is a request's path as logs show it. A chat identifier in the
// response API's path is a contact's phone number or a website visitor's
// id, the visitor's only credential: it is left out.
func logPath(c *gin.Context) string {
	p := c.Request.URL.Path
	if chat := c.Param("chat"); chat != "" {
		p = strings.Replace(p, "/chats/"+chat+"/", "/chats/…/", 1)
	}
	return p
}

// methodLabel is a request's method as a metric label: any token is a valid
// HTTP method, so methods outside the standard set collapse into one value.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// adminAuth requires "Authorization: Bearer sba_…" and scopes the request to its workspace.
func (s *Server) adminAuth(c *gin.Context) {
	if s.authenticate(c) {
		c.Next()
	}
}

// inProcessKey marks a request the admin UI makes in process; its value is
// the caller.
type inProcessKey struct{}

// caller is whom an in-process request acts for. A request bearing an admin
// token has none: a token acts for its whole workspace.
type caller struct {
	WorkspaceID string
	UserID      string
	Role        string
}

const ctxCaller = "caller"

// AsWorkspace marks a request the admin UI makes in process on behalf of
// its workspace, without a user: the API serves it as it would a request
// bearing one of the workspace's admin tokens, except for what only an
// owner may do (users, new tokens), which it refuses. Only code in this
// process can set it; a request from outside never carries it.
func AsWorkspace(ctx context.Context, workspaceID string) context.Context {
	return context.WithValue(ctx, inProcessKey{}, caller{WorkspaceID: workspaceID})
}

// AsUser marks a request the admin UI makes in process on behalf of a
// logged-in user: as AsWorkspace, and the API knows the user's role, so
// what only an owner may do is refused to an admin or an agent.
func AsUser(ctx context.Context, u domain.User) context.Context {
	return context.WithValue(ctx, inProcessKey{}, caller{WorkspaceID: u.WorkspaceID, UserID: u.ID, Role: u.Role})
}

// authenticate checks the admin token and records the workspace; on failure
// it answers 401 and aborts.
func (s *Server) authenticate(c *gin.Context) bool {
	if who, ok := c.Request.Context().Value(inProcessKey{}).(caller); ok && who.WorkspaceID != "" {
		if err := checkParams(c); err != nil {
			s.fail(c, err)
			c.Abort()
			return false
		}
		c.Set(ctxWorkspace, who.WorkspaceID)
		c.Set(ctxCaller, who)
		return true
	}
	h := c.GetHeader("Authorization")
	token := ""
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		token = strings.TrimSpace(h[7:])
	}
	var err error
	switch {
	case token == "":
		err = errUnauthorized("send an admin token as Authorization: Bearer sba_…")
	case !auth.HasPrefix(token, auth.PrefixAdminToken):
		err = errUnauthorized("the token is not an admin token (sba_…)")
	default:
		var ws string
		ws, err = s.AdminTokens.Workspace(c.Request.Context(), token)
		if err == store.ErrNotFound {
			err = errUnauthorized("the admin token is not valid")
		}
		if err == nil {
			err = checkParams(c)
		}
		if err == nil {
			c.Set(ctxWorkspace, ws)
			return true
		}
	}
	s.fail(c, err)
	c.Abort()
	return false
}

// withAdmin runs h behind admin authentication, for routes outside the /api group.
func (s *Server) withAdmin(c *gin.Context, h gin.HandlerFunc) {
	if s.authenticate(c) {
		h(c)
	}
}

func workspace(c *gin.Context) string { return c.GetString(ctxWorkspace) }

// requireOwner refuses, with 403, an in-process request of a user who is
// not an owner of the workspace (or of no user at all). A request bearing
// an admin token passes: tokens are not scoped by role, and whoever holds
// one may do anything in its workspace (docs/security.md).
func (s *Server) requireOwner(c *gin.Context, what string) bool {
	v, inProcess := c.Get(ctxCaller)
	if !inProcess {
		return true
	}
	if who, _ := v.(caller); who.Role == domain.RoleOwner {
		return true
	}
	s.fail(c, errForbidden("only an owner of the workspace may %s", what))
	return false
}

// callerID is the user an in-process request acts for, "" for a token.
func callerID(c *gin.Context) string {
	v, _ := c.Get(ctxCaller)
	who, _ := v.(caller)
	return who.UserID
}

// baseURL is where the outside world reaches the hub.
func (s *Server) baseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return s.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

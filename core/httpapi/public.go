package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/inbound"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Public routes. The integrations of a public kind (sdk.AuthPublic) are
// reached by people who hold no key, from pages on other websites: the
// visitors of a website chat. Under a prefix of its own (the kind's path,
// which CONTRACT fixes), such a kind gets
//
//	GET     {prefix}/{id}           a page of its plugin's (the widget's demo page)
//	GET     {prefix}/{id}/events    the sender's conversation as it happens (stream.go)
//	GET     {prefix}/{id}/{asset}   a file of its plugin's (the widget's script)
//	POST    {prefix}/{id}/{path}    a sender's message, through the inbound pipeline
//	OPTIONS …                       CORS preflight
//
// Every answer allows any origin, without credentials: nothing here reads
// a cookie or an Authorization header.

// maxPublicBody bounds a public sender's request body, whatever
// --max-body-bytes allows the apps and providers.
const maxPublicBody = 64 << 10

// publicCSP is the Content-Security-Policy of every public answer: a page
// of the plugin's may load scripts and talk to the hub's own origin, and
// nothing else.
const publicCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"

// ctxQuiet marks a request whose success is logged at debug level.
const ctxQuiet = "quiet"

// publicRoutes serves the public side of kind's integrations under prefix.
func (s *Server) publicRoutes(prefix, kind string) {
	r := s.router
	r.OPTIONS(prefix+"/:id", s.publicPreflight)
	r.OPTIONS(prefix+"/:id/*path", s.publicPreflight)
	r.GET(prefix+"/:id", func(c *gin.Context) { s.publicGet(c, kind) })
	r.GET(prefix+"/:id/*path", func(c *gin.Context) { s.publicGet(c, kind) })
	r.POST(prefix+"/:id/*path", func(c *gin.Context) { s.publicPost(c, kind) })
}

// allowAnyOrigin lets a page on any website read the answer, without
// credentials.
func allowAnyOrigin(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	// A page that isolates itself (COEP) may still load the widget.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
}

// publicPreflight answers a browser's CORS preflight for a public route.
func (s *Server) publicPreflight(c *gin.Context) {
	c.Set(ctxQuiet, true)
	allowAnyOrigin(c)
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Last-Event-ID")
	h.Set("Access-Control-Max-Age", "600")
	c.Status(http.StatusNoContent)
}

// publicIntegration finds the integration a public route names: one of
// kind, whose plugin declares public senders, and active. Anything else
// is answered, and ok is false.
func (s *Server) publicIntegration(c *gin.Context, kind string) (domain.IntegrationAuth, bool) {
	c.Set(ctxQuiet, true)
	allowAnyOrigin(c)
	id := c.Param("id")
	notFound := func() (domain.IntegrationAuth, bool) {
		s.fail(c, errNotFound("no chat here: the address names no %s integration", kind))
		return domain.IntegrationAuth{}, false
	}
	if sdk.CheckText("id", id) != nil || len(id) > 64 || sdk.CheckText("path", c.Param("path")) != nil {
		return notFound()
	}
	info, ok := s.Plugins.Info(kind)
	if !ok || info.AuthMode() != sdk.AuthPublic {
		return notFound()
	}
	in, err := s.Integrations.Get(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && in.Kind != kind {
		return notFound()
	}
	if err != nil {
		s.fail(c, err)
		return domain.IntegrationAuth{}, false
	}
	if in.Status != domain.StatusActive {
		c.Header("Retry-After", "60")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "unavailable", "message": "this chat is not taking messages right now"})
		return domain.IntegrationAuth{}, false
	}
	return in, true
}

// publicGet serves the live stream, or a page or file of the plugin's.
func (s *Server) publicGet(c *gin.Context, kind string) {
	in, ok := s.publicIntegration(c, kind)
	if !ok {
		return
	}
	if c.Param("path") == "/events" {
		s.stream(c, in)
		return
	}
	out, err := s.Inbound.Handle(c.Request.Context(), s.publicRequest(c, kind, nil))
	switch {
	case errors.Is(err, inbound.ErrUnavailable):
		c.Header("Retry-After", "5")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "unavailable", "message": "the chat is restarting; try again in a moment"})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	r := out.Reply
	if r == nil || r.Status == 0 {
		s.fail(c, errNotFound("no such page"))
		return
	}
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", publicCSP)
	h.Set("Referrer-Policy", "no-referrer")
	if r.Status == http.StatusOK {
		// Pages and scripts change only when the plugin or the
		// integration's settings do: let browsers and caches keep them a
		// few minutes, and revalidate cheaply after.
		sum := sha256.Sum256(r.Body)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		if s.PublicURL != "" {
			h.Set("Cache-Control", "public, max-age=300")
		} else {
			// Without --public-url the plugin knows the hub by the Host
			// header this client sent, and a page may name it (the demo
			// page's snippet does): a shared cache must not hand one
			// client's answer to the next.
			h.Set("Cache-Control", "private, max-age=300")
		}
		if match := c.GetHeader("If-None-Match"); match != "" && strings.Contains(match, etag) {
			c.Status(http.StatusNotModified)
			return
		}
	}
	c.Data(r.Status, r.ContentType, r.Body)
}

// publicPost takes a sender's message through the inbound pipeline, like
// any inbound request: logged, durable before the answer, normalised by the
// plugin. Unlike an app, the sender is told what became of it.
func (s *Server) publicPost(c *gin.Context, kind string) {
	received := time.Now().UTC()
	in, ok := s.publicIntegration(c, kind)
	if !ok {
		return
	}
	body, ok := s.publicBody(c, received)
	if !ok {
		return
	}
	req := s.publicRequest(c, kind, body)
	req.ReceivedAt = received
	out, err := s.Inbound.Handle(c.Request.Context(), req)
	if err != nil {
		s.Log.Error("public message not recorded", "request_id", c.GetString(ctxRequestID), "kind", kind, "integration", in.ID, "err", err)
		c.Header("Retry-After", "1")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "unavailable", "message": "the message could not be recorded; send it again"})
		return
	}
	if r := out.Reply; r != nil && r.Status != 0 {
		// The plugin's own answer: a refusal it chose not to log (a rate limit).
		c.Header("X-Content-Type-Options", "nosniff")
		if r.Status == http.StatusTooManyRequests {
			c.Header("Retry-After", "1")
		}
		c.Data(r.Status, r.ContentType, r.Body)
		return
	}
	switch out.Status {
	case domain.EventOK, domain.EventSkip, store.IngestKept:
		// Stored, a repeat of a stored message, or kept until the plugin
		// is back: the sender need not send it again.
		c.JSON(http.StatusAccepted, gin.H{"status": "accepted"})
	case domain.EventRoutingError:
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": "validation_failed", "message": out.Error})
	case domain.EventSignatureFailure:
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "forbidden", "message": out.Error})
	default:
		s.fail(c, errNotFound("no chat here"))
	}
}

// publicBody reads a public sender's message within the public limits:
// the client address's rate and 64 KiB of body. Whatever is refused is
// answered here, before the pipeline and unlogged, and ok is false. Every
// route a public kind's senders post to takes its body through here.
func (s *Server) publicBody(c *gin.Context, received time.Time) (body []byte, ok bool) {
	if !s.senders.allow(clientKey(c.Request), received) {
		c.Header("Retry-After", "1")
		c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "rate_limited", "message": "too many messages from this address; wait a moment and send again"})
		return nil, false
	}
	limit := min(s.MaxBodyBytes, maxPublicBody)
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	if err != nil {
		s.fail(c, errBadRequest("could not read the request body"))
		return nil, false
	}
	if int64(len(body)) > limit {
		// No visitor's message is anywhere near this size, and an
		// outsider's flood of them should cost nothing.
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"error": "too_large",
			"message": "the request body is larger than " + sizeText(limit)})
		return nil, false
	}
	return body, true
}

// publicKind reports whether kind's plugin declares public senders.
func (s *Server) publicKind(kind string) bool {
	info, ok := s.Plugins.Info(kind)
	return ok && info.AuthMode() == sdk.AuthPublic
}

// sizeText words a byte count: "64 KiB".
func sizeText(n int64) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// publicRequest is a public route's request as the inbound pipeline takes it.
func (s *Server) publicRequest(c *gin.Context, kind string, body []byte) *inbound.Request {
	return &inbound.Request{
		Kind:          kind,
		IntegrationID: c.Param("id"),
		Method:        c.Request.Method,
		URL:           s.baseURL(c.Request) + c.Request.URL.RequestURI(),
		Header:        c.Request.Header,
		Body:          body,
		ReceivedAt:    time.Now().UTC(),
	}
}

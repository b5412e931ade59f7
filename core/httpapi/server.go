// Package httpapi is the hub's HTTP surface: the admin API, inbound
// webhooks, health and metrics. Handlers decode, validate, make one service
// or store call and respond; they never touch the database directly.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/config"
	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/core/inbound"
	"github.com/switchboardhq/switchboard/core/live"
	"github.com/switchboardhq/switchboard/core/pluginhost"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/threads"
	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/scripts"
)

// Plugins is what the API needs of the plugin host.
type Plugins interface {
	Known(kind string) bool
	Ready() error
	Plugins() []pluginhost.Plugin
	Info(kind string) (sdk.Info, bool)
	ByChannel(channel string) (sdk.Info, bool)
	ValidateConfig(ctx context.Context, kind string, cfg []byte) error
	Activate(ctx context.Context, kind string, req *sdk.ActivateRequest) error
}

// Deps are the services the API calls.
type Deps struct {
	Store        *store.Store
	Inbound      *inbound.Service
	AdminTokens  *auth.AdminTokens
	Integrations *auth.Integrations
	Plugins      Plugins
	Worker       *delivery.Worker
	Planner      *delivery.Planner
	Threads      *threads.Service
	Activation   store.ActivationRules
	Engine       *scripts.Engine
	Log          *slog.Logger
	Registry     *prometheus.Registry
	// PublicURL is the base URL shown in inbound URLs; empty means "as requested".
	PublicURL    string
	MaxBodyBytes int64
	// UI serves every path the API does not: the admin UI.
	UI http.Handler
	// Targets checks delivery and subscription URLs when they are saved;
	// nil refuses every address outside the public internet.
	Targets *delivery.Guard
	// Live tells live streams of new messages; nil makes one for this
	// process alone.
	Live *live.Hub
	// LiveMaxStreams and LiveMaxStreamsPerIntegration bound the live
	// streams open at once; 0 means the defaults.
	LiveMaxStreams               int
	LiveMaxStreamsPerIntegration int
}

// Server holds the router and its dependencies.
type Server struct {
	Deps
	router   *gin.Engine
	requests *prometheus.HistogramVec
	// verifier checks endpoints that carry a verifyToken when they are
	// saved, with the guard deliveries use.
	verifier *http.Client
	// senders limits public senders' messages per client address; streams
	// bounds the live streams open at once.
	senders *rateLimiter
	streams *streamLimits
	// closing is closed when the server shuts down, to end live streams.
	closing   chan struct{}
	closeOnce sync.Once
}

// New builds the router.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	if d.Targets == nil {
		d.Targets = delivery.NewGuard(false)
	}
	if d.Live == nil {
		d.Live = live.New(nil, d.Log)
	}
	if d.LiveMaxStreams <= 0 {
		d.LiveMaxStreams = config.DefaultLiveMaxStreams
	}
	if d.LiveMaxStreamsPerIntegration <= 0 {
		d.LiveMaxStreamsPerIntegration = config.DefaultLiveMaxStreamsPerIntegration
	}
	s := &Server{Deps: d, router: gin.New(), verifier: delivery.NewHTTPClient(d.Targets, 10*time.Second),
		senders: newRateLimiter(senderRate, senderBurst, maxTrackedSenders),
		streams: newStreamLimits(d.LiveMaxStreams, d.LiveMaxStreamsPerIntegration, maxStreamsPerAddress),
		closing: make(chan struct{})}
	s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "switchboard_http_request_duration_seconds",
		Help:    "HTTP requests by route and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route", "status"})
	d.Registry.MustRegister(s.requests, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "switchboard_live_streams",
		Help: "Live streams (website chat visitors waiting for replies) open in this process.",
	}, func() float64 { return float64(s.streams.open()) }))
	s.routes()
	return s
}

// CloseStreams ends every live stream, at once and for good: call it when
// the HTTP server shuts down, which otherwise waits for them.
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.closing) }) }

// OpenStreams counts the live streams open now.
func (s *Server) OpenStreams() int { return s.streams.open() }

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.router }

// Route is one registered method and path pattern, as the router spells it
// ("/api/integrations/:id").
type Route struct {
	Method string
	Path   string
}

// Routes lists every registered route, for tests that must see them all.
func (s *Server) Routes() []Route {
	info := s.router.Routes()
	out := make([]Route, len(info))
	for i, r := range info {
		out[i] = Route{Method: r.Method, Path: r.Path}
	}
	return out
}

func (s *Server) routes() {
	r := s.router
	r.HandleMethodNotAllowed = true
	r.Use(s.requestID, s.recover, s.observe)
	r.NoRoute(func(c *gin.Context) {
		if s.UI != nil && !strings.HasPrefix(c.Request.URL.Path, "/api/") {
			s.UI.ServeHTTP(c.Writer, c.Request)
			return
		}
		s.fail(c, errNotFound("no such endpoint"))
	})
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed on this endpoint"})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})))

	// /api/webhooks/ holds both inbound traffic, authenticated per
	// integration (/api/webhooks/{kind}/{integrationId}), and the admin API's
	// webhook subscriptions (/api/webhooks/{id}/update|delete). Integration
	// ids are UUIDs, so a second segment of "update" or "delete" is always a
	// subscription action.
	r.POST("/api/webhooks/:a/:b", func(c *gin.Context) {
		switch c.Param("b") {
		case "update":
			s.withAdmin(c, s.updateSubscription)
		case "delete":
			s.withAdmin(c, s.deleteSubscription)
		default:
			s.inboundWebhook(c)
		}
	})
	r.GET("/api/webhooks/:a/:b", s.inboundWebhook)
	r.POST("/api/webhooks", func(c *gin.Context) { s.withAdmin(c, s.createSubscription) })
	r.POST("/api/webhooks/", func(c *gin.Context) { s.withAdmin(c, s.createSubscription) })
	r.GET("/api/webhooks", func(c *gin.Context) { s.withAdmin(c, s.listSubscriptions) })
	r.GET("/api/webhooks/", func(c *gin.Context) { s.withAdmin(c, s.listSubscriptions) })
	r.GET("/api/webhooks/:a", func(c *gin.Context) { s.withAdmin(c, s.getSubscription) })

	// The response API answers in chats; its bearer token is the
	// integration's response token, not an admin token.
	r.POST("/integrations/live-chat/:id/chats/:chat/events", s.responseEvent)

	// The website chat (CONTRACT §7): the one place the core names a kind,
	// because the contract fixes its paths. What is served there is
	// whatever the kind's plugin, which must declare public senders, serves.
	s.publicRoutes("/webchat", "webchat")

	api := r.Group("/api", s.adminAuth)
	api.POST("/integrations", s.createIntegration)
	api.GET("/integrations", s.listIntegrations)
	api.GET("/integrations/:id", s.getIntegration)
	api.PATCH("/integrations/:id", s.updateIntegration)
	api.DELETE("/integrations/:id", s.deleteIntegration)
	api.POST("/integrations/:id/regenerate-key", s.regenerateKey)
	api.POST("/integrations/:id/regenerate-response-token", s.regenerateResponseToken)
	api.GET("/integrations/:id/signing-secret", s.getSigningSecret)
	api.POST("/integrations/:id/signing-secret/rotate", s.rotateSigningSecret)
	api.POST("/integrations/:id/start", s.startIntegration)
	api.POST("/integrations/:id/stop", s.stopIntegration)
	api.GET("/integrations/:id/events", s.listEvents)
	api.POST("/integrations/:id/transform/test", s.testTransform)
	api.GET("/integrations/:id/campaigns", s.integrationCampaigns)

	api.POST("/connections", s.createConnection)
	api.GET("/connections", s.listConnections)
	api.GET("/connections/:id", s.getConnection)
	api.DELETE("/connections/:id", s.deleteConnection)

	api.POST("/campaigns", s.createCampaign)
	api.GET("/campaigns", s.listCampaigns)
	api.POST("/campaigns/:id/live", s.campaignLive)
	api.POST("/campaigns/:id/pause", s.campaignPause)
	api.POST("/auto-replies", s.createAutoReply)
	api.GET("/auto-replies", s.listAutoReplies)
	api.PATCH("/auto-replies/:id", s.updateAutoReply)
	api.DELETE("/auto-replies/:id", s.deleteAutoReply)

	api.GET("/conversations", s.listConversations)
	api.GET("/conversations/integrations", s.listConversationIntegrations)
	api.GET("/conversations/:id", s.getConversation)
	api.GET("/conversations/:id/messages", s.listMessages)
	api.POST("/conversations/:id/messages", s.createMessage)
	api.POST("/conversations/:id/transfer", s.transferConversation)
	api.POST("/conversations/:id/end", s.endConversation)
	api.POST("/teams", s.createTeam)
	api.GET("/teams", s.listTeams)

	api.GET("/deliveries", s.listDeliveries)
	api.GET("/deliveries/:id", s.getDelivery)
	api.POST("/deliveries/:id/retry", s.retryDelivery)
	api.POST("/deliveries/retry", s.retryDeliveries)

	api.GET("/plugins", s.listPlugins)

	api.POST("/tokens", s.createToken)
	api.GET("/tokens", s.listTokens)
	api.DELETE("/tokens/:id", s.revokeToken)

	api.GET("/users", s.listUsers)
	api.POST("/users", s.createUser)
	api.DELETE("/users/:id", s.deleteUser)
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.Log.Warn("not ready: database", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "database unreachable"})
		return
	}
	if err := s.Plugins.Ready(); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/activation"
	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/pluginhost"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
	"github.com/switchboardhq/switchboard/scripts"
)

// signingOverlap is how long the previous signing secret keeps signing after a rotation.
const signingOverlap = 24 * time.Hour

type integrationCreateRequest struct {
	Name        *string         `json:"name"`
	Kind        *string         `json:"kind"`
	OutboundURL *string         `json:"outboundUrl"`
	Delivery    json.RawMessage `json:"delivery"`
	Connections []string        `json:"connections"`
	// Config is the kind's own settings, checked against its plugin's schema.
	Config json.RawMessage `json:"config"`
}

type integrationUpdateRequest struct {
	Name        *string         `json:"name"`
	OutboundURL *string         `json:"outboundUrl"`
	Delivery    json.RawMessage `json:"delivery"`
	Connections *[]string       `json:"connections"`
	Config      json.RawMessage `json:"config"`
}

type integrationResponse struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Kind        string          `json:"kind"`
	Status      string          `json:"status"`
	InboundURL  string          `json:"inboundUrl"`
	OutboundURL string          `json:"outboundUrl,omitempty"`
	Delivery    json.RawMessage `json:"delivery,omitempty"`
	// DeliveryDisabled is set when the target failed continuously and was disabled.
	DeliveryDisabled bool      `json:"deliveryDisabled"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
	APIKey           string    `json:"apiKey,omitempty"`
	ResponseToken    string    `json:"responseToken,omitempty"`
	// Connections are the listed connections with their activation state.
	Connections []connectionStatus `json:"connections"`
}

// connectionStatus reports one connection's activation.
type connectionStatus struct {
	Code    string `json:"code"`
	Channel string `json:"channel"`
	Sender  string `json:"sender,omitempty"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
}

func connectionStatusJSON(st domain.ConnectionState) connectionStatus {
	return connectionStatus{Code: st.Code, Channel: st.Channel, Sender: st.Sender, Status: st.Status, Error: st.Error}
}

// integrationJSON is an integration with its connections' states.
func (s *Server) integrationJSON(r *http.Request, in domain.Integration) integrationResponse {
	states, err := s.Store.IntegrationConnections(r.Context(), in.WorkspaceID, []string{in.ID})
	if err != nil {
		s.Log.Warn("read integration connections", "integration", in.ID, "err", err)
	}
	return s.integrationWith(r, in, states[in.ID])
}

func (s *Server) integrationWith(r *http.Request, in domain.Integration, states []domain.ConnectionState) integrationResponse {
	conns := make([]connectionStatus, len(states))
	for i, st := range states {
		conns[i] = connectionStatusJSON(st)
	}
	return integrationResponse{
		Connections:      conns,
		ID:               in.ID,
		Name:             in.Name,
		Kind:             in.Kind,
		Status:           in.Status,
		InboundURL:       s.baseURL(r) + "/api/webhooks/" + in.Kind + "/" + in.ID,
		OutboundURL:      in.OutboundURL,
		Delivery:         redactedDelivery(in.Delivery),
		DeliveryDisabled: in.DeliveryDisabledAt != nil,
		CreatedAt:        in.CreatedAt,
		UpdatedAt:        in.UpdatedAt,
	}
}

// redactedDelivery shows a stored target with its auth secrets hidden.
func redactedDelivery(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	t, err := delivery.ParseTarget(raw, nil, nil)
	if err != nil {
		return nil
	}
	out, err := json.Marshal(t.Redact())
	if err != nil {
		return nil
	}
	return out
}

const maxNameLen = 200

func validName(name *string) (string, error) {
	if name == nil || strings.TrimSpace(*name) == "" {
		return "", errInvalid("name is required")
	}
	n := strings.TrimSpace(*name)
	if len(n) > maxNameLen {
		return "", errInvalid("name is longer than %d characters", maxNameLen)
	}
	return n, nil
}

func (s *Server) validOutboundURL(u *string) (string, error) {
	if u == nil || *u == "" {
		return "", nil
	}
	if err := s.Targets.ValidateURL(*u); err != nil {
		return "", errInvalid("outboundUrl: %v", err)
	}
	return *u, nil
}

// validDelivery parses and checks a delivery target; old is the stored one,
// whose secrets a redacted update keeps. It returns the JSON to store.
func (s *Server) validDelivery(ctx context.Context, raw json.RawMessage, old json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	t, err := delivery.ParseTarget(raw, s.Targets, func(src string) error {
		return s.Engine.Check(ctx, src)
	})
	if err != nil {
		var ve *delivery.ValidationError
		if errors.As(err, &ve) {
			return nil, errInvalid("%s", ve.Error())
		}
		return nil, err
	}
	if len(old) > 0 {
		// Stored secrets never follow the target to another host: they must
		// be sent again, as themselves.
		if prev, err := delivery.ParseTarget(old, nil, nil); err == nil && delivery.SameOrigin(t.URL, prev.URL) {
			t.KeepSecrets(prev)
		}
	}
	if t.HasRedacted() {
		field := "delivery.auth"
		if t.VerifyToken == delivery.Redacted {
			field = "delivery.verifyToken"
		}
		return nil, errInvalid("%s: send the secret itself; %q only keeps a secret already stored for the same host", field, delivery.Redacted)
	}
	if t.VerifyToken != "" {
		if err := delivery.VerifyEndpoint(ctx, s.verifier, t); err != nil {
			return nil, errInvalid("delivery.verifyToken: endpoint verification failed: %v", err)
		}
	}
	return json.Marshal(t)
}

func (s *Server) createIntegration(c *gin.Context) {
	var req integrationCreateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	name, err := validName(req.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	if req.Kind == nil || *req.Kind == "" {
		s.fail(c, errInvalid("kind is required, e.g. \"custom\""))
		return
	}
	if !s.Plugins.Known(*req.Kind) {
		s.fail(c, errInvalid("kind %q is not handled by any installed plugin", *req.Kind))
		return
	}
	if info, _ := s.Plugins.Info(*req.Kind); info.Channel != "" {
		s.fail(c, errInvalid("kind %q serves %s connections: create a connection with channel %q and list its code in an integration's connections",
			*req.Kind, info.Channel, info.Channel))
		return
	}
	outbound, err := s.validOutboundURL(req.OutboundURL)
	if err != nil {
		s.fail(c, err)
		return
	}
	deliveryCfg, err := s.validDelivery(scripts.WithOwner(c.Request.Context(), workspace(c)), req.Delivery, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	if deliveryCfg != nil && outbound != "" {
		s.fail(c, errInvalid("give outboundUrl or delivery, not both: outboundUrl is shorthand for a delivery that POSTs to it"))
		return
	}
	codes, err := s.validConnections(c.Request.Context(), workspace(c), req.Connections)
	if err != nil {
		s.fail(c, err)
		return
	}
	cfg, err := s.validConfig(c.Request.Context(), *req.Kind, req.Config)
	if err != nil {
		s.fail(c, err)
		return
	}
	// With connections, an integration waits to be started: activation
	// evaluates each one. Without, it is active at once.
	status := domain.StatusActive
	if len(codes) > 0 {
		status = domain.StatusInactive
	}
	apiKey, apiKeyHash := auth.NewSecret(auth.PrefixAPIKey)
	respToken, respTokenHash := auth.NewSecret(auth.PrefixResponseToken)
	in, err := s.Store.CreateIntegration(c.Request.Context(), domain.Integration{
		WorkspaceID: workspace(c),
		Name:        name,
		Kind:        *req.Kind,
		Status:      status,
		OutboundURL: outbound,
		Delivery:    deliveryCfg,
		Config:      cfg,
		Connections: codes,
	}, store.IntegrationSecrets{
		APIKeyHash:        apiKeyHash,
		ResponseTokenHash: respTokenHash,
		SigningSecret:     auth.NewSigningSecret(),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := s.integrationJSON(c.Request, in)
	out.APIKey, out.ResponseToken = apiKey, respToken
	c.JSON(http.StatusCreated, out)
}

func (s *Server) listIntegrations(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ins, next, err := s.Store.Integrations(c.Request.Context(), workspace(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	ids := make([]string, len(ins))
	for i := range ins {
		ids[i] = ins[i].ID
	}
	states, err := s.Store.IntegrationConnections(c.Request.Context(), workspace(c), ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("integrations", mapAll(ins, func(in domain.Integration) integrationResponse {
		return s.integrationWith(c.Request, in, states[in.ID])
	}), next))
}

func (s *Server) getIntegration(c *gin.Context) {
	in, err := s.Store.Integration(c.Request.Context(), workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	c.JSON(http.StatusOK, s.integrationJSON(c.Request, in))
}

func (s *Server) updateIntegration(c *gin.Context) {
	var req integrationUpdateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	var u store.IntegrationUpdate
	if req.Name != nil {
		name, err := validName(req.Name)
		if err != nil {
			s.fail(c, err)
			return
		}
		u.Name = &name
	}
	if req.OutboundURL != nil {
		outbound, err := s.validOutboundURL(req.OutboundURL)
		if err != nil {
			s.fail(c, err)
			return
		}
		u.OutboundURL = &outbound
		if outbound != "" && req.Delivery == nil {
			cleared := []byte{}
			u.Delivery = &cleared // the shorthand replaces a full delivery
		}
	}
	ctx := c.Request.Context()
	current, err := s.Store.Integration(ctx, workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	if req.Delivery != nil {
		d, err := s.validDelivery(scripts.WithOwner(c.Request.Context(), workspace(c)), req.Delivery, current.Delivery)
		if err != nil {
			s.fail(c, err)
			return
		}
		u.Delivery = &d
	}
	if req.Connections != nil {
		codes, err := s.validConnections(ctx, workspace(c), *req.Connections)
		if err != nil {
			s.fail(c, err)
			return
		}
		u.Connections = &codes
	}
	if req.Config != nil {
		cfg, err := s.validConfig(c.Request.Context(), current.Kind, req.Config)
		if err != nil {
			s.fail(c, err)
			return
		}
		u.Config = &cfg
	}
	in, err := s.Store.UpdateIntegration(ctx, workspace(c), current.ID, u)
	if err != nil {
		s.fail(c, liveCampaigns(notFoundAs(err, "integration"), "a chatbot campaign's integration has no connections"))
		return
	}
	if len(in.Delivery) > 0 && in.OutboundURL != "" {
		// One target at a time: the full delivery replaces the shorthand.
		empty := ""
		in, err = s.Store.UpdateIntegration(ctx, workspace(c), in.ID, store.IntegrationUpdate{OutboundURL: &empty})
		if err != nil {
			s.fail(c, err)
			return
		}
	}
	if (u.Delivery != nil || u.OutboundURL != nil) && in.DeliveryDisabledAt != nil {
		// A changed target gets a fresh start.
		if err := s.Store.EnableIntegrationDelivery(ctx, workspace(c), in.ID); err != nil {
			s.fail(c, err)
			return
		}
		in.DeliveryDisabledAt = nil
	}
	s.forgetIntegration(in.ID)
	c.JSON(http.StatusOK, s.integrationJSON(c.Request, in))
}

func (s *Server) deleteIntegration(c *gin.Context) {
	id := c.Param("id")
	if err := s.Store.DeleteIntegration(c.Request.Context(), workspace(c), id); err != nil {
		s.fail(c, liveCampaigns(notFoundAs(err, "integration"), "it cannot be deleted"))
		return
	}
	s.forgetIntegration(id)
	c.Status(http.StatusNoContent)
}

func (s *Server) regenerateKey(c *gin.Context) {
	id := c.Param("id")
	key, hash := auth.NewSecret(auth.PrefixAPIKey)
	if err := s.Store.SetIntegrationAPIKeyHash(c.Request.Context(), workspace(c), id, hash); err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	s.Integrations.Forget(id)
	c.JSON(http.StatusOK, gin.H{"apiKey": key})
}

func (s *Server) regenerateResponseToken(c *gin.Context) {
	id := c.Param("id")
	token, hash := auth.NewSecret(auth.PrefixResponseToken)
	if err := s.Store.SetIntegrationResponseTokenHash(c.Request.Context(), workspace(c), id, hash); err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	s.Integrations.Forget(id)
	c.JSON(http.StatusOK, gin.H{"responseToken": token})
}

func (s *Server) getSigningSecret(c *gin.Context) {
	sec, err := s.Store.IntegrationSigningSecrets(c.Request.Context(), workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	c.JSON(http.StatusOK, gin.H{"secret": sec.Current})
}

func (s *Server) rotateSigningSecret(c *gin.Context) {
	secret := auth.NewSigningSecret()
	if err := s.Store.RotateSigningSecret(c.Request.Context(), workspace(c), c.Param("id"), secret, signingOverlap); err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	s.forgetIntegration(c.Param("id"))
	c.JSON(http.StatusOK, gin.H{"secret": secret})
}

// startIntegration activates an integration, evaluating each connection on
// its own. Some activated: 200 with each one's state. None: 409, and the
// integration stays inactive.
func (s *Server) startIntegration(c *gin.Context) {
	ctx := c.Request.Context()
	rules := s.Activation
	if refused := s.activateWithPlugins(c, c.Param("id")); len(refused) > 0 {
		rules = activation.Refusing(rules, refused)
	}
	in, states, err := s.Store.StartIntegration(ctx, workspace(c), c.Param("id"), rules)
	if err != nil && !errors.Is(err, store.ErrNoneActivated) {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	s.forgetIntegration(in.ID)
	out := s.integrationWith(c.Request, in, states)
	if errors.Is(err, store.ErrNoneActivated) {
		reasons := make([]string, 0, len(states))
		for _, st := range states {
			reasons = append(reasons, st.Code+": "+st.Error)
		}
		c.JSON(http.StatusConflict, gin.H{
			"error":       "conflict",
			"message":     "no connection could be activated; the integration stays inactive (" + strings.Join(reasons, "; ") + ")",
			"connections": out.Connections,
		})
		return
	}
	c.JSON(http.StatusOK, out)
}

// activateWithPlugins asks the plugin of each connection the integration
// uses to prepare its provider (see sdk.Activator), a few at a time, before
// the start's transaction: a plugin may call its provider, which must not
// hold the transaction open. It returns why connections were refused, by
// connection id.
func (s *Server) activateWithPlugins(c *gin.Context, id string) map[string]string {
	in, err := s.Store.Integration(c.Request.Context(), workspace(c), id)
	if err != nil {
		return nil // the start reports it
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		refused = map[string]string{}
		slots   = make(chan struct{}, 4)
	)
	// However many connections, a start waits for plugins this long at most.
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*pluginhost.CheckTimeout)
	defer cancel()
	for _, code := range in.Connections {
		conn, err := s.Store.ConnectionByCode(c.Request.Context(), in.WorkspaceID, code)
		if err != nil {
			continue // the start names a missing connection
		}
		info, ok := s.Plugins.ByChannel(conn.Channel)
		if !ok {
			continue // the rules name the missing plugin
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			mu.Lock()
			refused[conn.ID] = s.activationRefusal(ctx, info.Kind, conn.Code, ctx.Err())
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			err := s.Plugins.Activate(ctx, info.Kind, &sdk.ActivateRequest{
				ConnectionID: conn.ID,
				Config:       conn.Provider,
				InboundURL:   s.baseURL(c.Request) + "/api/webhooks/" + url.PathEscape(info.Kind) + "/" + conn.ID,
				AllowPrivate: s.Targets.AllowsPrivate(),
			})
			if err == nil {
				return
			}
			reason := s.activationRefusal(ctx, info.Kind, conn.Code, err)
			mu.Lock()
			refused[conn.ID] = reason
			mu.Unlock()
		}()
	}
	wg.Wait()
	return refused
}

// activationRefusal words why a plugin did not activate a connection.
func (s *Server) activationRefusal(ctx context.Context, kind, code string, err error) string {
	var ce *pluginhost.ConfigError
	var pe *sdk.ProviderError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the %s plugin did not activate the connection in time", kind)
	case errors.As(err, &ce) && ce.Field != "":
		return "provider." + ce.Error()
	case errors.As(err, &ce):
		return ce.Message
	case errors.As(err, &pe):
		return "the provider did not accept the connection: " + pe.Error()
	case errors.Is(err, pluginhost.ErrUnavailable):
		return fmt.Sprintf("the %s plugin is not running; start the integration again shortly", kind)
	}
	s.Log.Warn("plugin failed to activate a connection", "kind", kind, "connection", code, "err", err)
	return fmt.Sprintf("the %s plugin failed to activate the connection", kind)
}

// stopIntegration makes an integration inactive and releases its senders;
// while live campaigns use it, it answers 409 naming them.
func (s *Server) stopIntegration(c *gin.Context) {
	in, err := s.Store.StopIntegration(c.Request.Context(), workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, liveCampaigns(notFoundAs(err, "integration"), "it cannot be stopped"))
		return
	}
	s.forgetIntegration(in.ID)
	c.JSON(http.StatusOK, s.integrationJSON(c.Request, in))
}

// liveCampaigns words a refusal because live campaigns link an integration.
func liveCampaigns(err error, why string) error {
	var live *store.ErrLiveCampaigns
	if errors.As(err, &live) {
		return errConflict("the integration is linked to live campaigns %s, so %s; pause them first", quoteAll(live.Names), why)
	}
	return err
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// maxConnections bounds the connections one integration lists.
const maxConnections = 50

// validConnections checks an integration's list of connection codes: each
// names a connection of the workspace, once. Whether a connection can be
// activated is decided when the integration starts, never here.
func (s *Server) validConnections(ctx context.Context, workspaceID string, codes []string) ([]string, error) {
	if len(codes) > maxConnections {
		return nil, errInvalid("connections: at most %d connections", maxConnections)
	}
	out := make([]string, 0, len(codes))
	seen := map[string]bool{}
	for i, code := range codes {
		field := "connections[" + strconv.Itoa(i) + "]"
		if err := validCode(field, code); err != nil {
			return nil, err
		}
		if seen[code] {
			continue
		}
		seen[code] = true
		if _, err := s.Store.ConnectionByCode(ctx, workspaceID, code); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, errInvalid("%s: no connection with code %q in this workspace", field, code)
			}
			return nil, err
		}
		out = append(out, code)
	}
	return out, nil
}

// validConfig checks a kind's settings against its plugin's schema, and
// with the plugin's own check.
func (s *Server) validConfig(ctx context.Context, kind string, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage(`{}`)
	}
	if err := s.Plugins.ValidateConfig(ctx, kind, raw); err != nil {
		return nil, configRefusal("config", kind, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, errInvalid("config: not valid JSON")
	}
	return compact.Bytes(), nil
}

// configRefusal words a failed check of the settings under field: a
// refusal names the setting (422); a plugin that had to be asked and could
// not be is a 503.
func configRefusal(field, kind string, err error) error {
	var ce *pluginhost.ConfigError
	switch {
	case errors.As(err, &ce) && ce.Field == "":
		return errInvalid("%s: %s", field, ce.Message)
	case errors.As(err, &ce):
		return errInvalid("%s.%s", field, ce.Error())
	case errors.Is(err, pluginhost.ErrUnavailable):
		return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Message: fmt.Sprintf("the %s plugin, which checks these settings, did not answer; try again shortly", kind)}
	}
	return fmt.Errorf("check %s settings: %w", kind, err)
}

// forgetIntegration drops every cached copy of an integration after a change.
func (s *Server) forgetIntegration(id string) {
	s.Integrations.Forget(id)
	s.Worker.ForgetIntegration(id)
}

type transformTestRequest struct {
	Script *string        `json:"script"`
	Event  map[string]any `json:"event"`
}

// testTransform shows the request a delivery would send for an event: the
// integration's templates, then the given script or the saved one.
func (s *Server) testTransform(c *gin.Context) {
	var req transformTestRequest
	if c.Request.ContentLength != 0 {
		if err := decode(c, &req); err != nil {
			s.fail(c, err)
			return
		}
	}
	in, err := s.Store.Integration(c.Request.Context(), workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	target := delivery.SampleTarget
	switch {
	case len(in.Delivery) > 0:
		t, err := delivery.ParseTarget(in.Delivery, nil, nil)
		if err != nil {
			s.fail(c, err)
			return
		}
		target = *t
	case in.OutboundURL != "":
		target.URL = in.OutboundURL
	}
	script := target.Transform
	if req.Script != nil {
		script = *req.Script
	}
	vars := delivery.SampleVars()
	vars["integrationId"] = in.ID
	vars["channel"] = in.Kind
	// The event may be flat ({"contact.name": …}) or nested ({"contact": {"name": …}});
	// keys that are not variables reach the script, not the templates.
	delivery.FlattenEvent(req.Event, vars)
	ctx := scripts.Interactive(scripts.WithOwner(c.Request.Context(), workspace(c)))
	c.JSON(http.StatusOK, delivery.DryRun(ctx, s.Engine, &target, script, vars))
}

// notFoundAs names the missing object in a 404.
func notFoundAs(err error, what string) error {
	if err == store.ErrNotFound {
		return errNotFound("%s not found", what)
	}
	return err
}

package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
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
}

type integrationUpdateRequest struct {
	Name        *string         `json:"name"`
	OutboundURL *string         `json:"outboundUrl"`
	Delivery    json.RawMessage `json:"delivery"`
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
}

// connectionStatus reports one connection's activation.
type connectionStatus struct {
	Code    string `json:"code"`
	Channel string `json:"channel"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
}

type integrationStartResponse struct {
	integrationResponse
	Connections []connectionStatus `json:"connections"`
}

func (s *Server) integrationJSON(r *http.Request, in domain.Integration) integrationResponse {
	return integrationResponse{
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
	if len(req.Connections) > 0 {
		s.fail(c, errInvalid("connections: SMS and WhatsApp connections are not available in this version"))
		return
	}
	apiKey, apiKeyHash := auth.NewSecret(auth.PrefixAPIKey)
	respToken, respTokenHash := auth.NewSecret(auth.PrefixResponseToken)
	in, err := s.Store.CreateIntegration(c.Request.Context(), domain.Integration{
		WorkspaceID: workspace(c),
		Name:        name,
		Kind:        *req.Kind,
		Status:      domain.StatusActive,
		OutboundURL: outbound,
		Delivery:    deliveryCfg,
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
	c.JSON(http.StatusOK, listJSON("integrations", mapAll(ins, func(in domain.Integration) integrationResponse {
		return s.integrationJSON(c.Request, in)
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
	in, err := s.Store.UpdateIntegration(ctx, workspace(c), current.ID, u)
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
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
		s.fail(c, notFoundAs(err, "integration"))
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

func (s *Server) setStatus(c *gin.Context, status string) {
	st := status
	in, err := s.Store.UpdateIntegration(c.Request.Context(), workspace(c), c.Param("id"), store.IntegrationUpdate{Status: &st})
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	s.Integrations.Forget(in.ID)
	c.JSON(http.StatusOK, integrationStartResponse{
		integrationResponse: s.integrationJSON(c.Request, in),
		Connections:         []connectionStatus{},
	})
}

func (s *Server) startIntegration(c *gin.Context) { s.setStatus(c, domain.StatusActive) }
func (s *Server) stopIntegration(c *gin.Context)  { s.setStatus(c, domain.StatusInactive) }

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

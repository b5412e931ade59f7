package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
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
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Kind          string          `json:"kind"`
	Status        string          `json:"status"`
	InboundURL    string          `json:"inboundUrl"`
	OutboundURL   string          `json:"outboundUrl,omitempty"`
	Delivery      json.RawMessage `json:"delivery,omitempty"`
	CreatedAt     time.Time       `json:"createdAt"`
	UpdatedAt     time.Time       `json:"updatedAt"`
	APIKey        string          `json:"apiKey,omitempty"`
	ResponseToken string          `json:"responseToken,omitempty"`
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
		ID:          in.ID,
		Name:        in.Name,
		Kind:        in.Kind,
		Status:      in.Status,
		InboundURL:  s.baseURL(r) + "/api/webhooks/" + in.Kind + "/" + in.ID,
		OutboundURL: in.OutboundURL,
		Delivery:    in.Delivery,
		CreatedAt:   in.CreatedAt,
		UpdatedAt:   in.UpdatedAt,
	}
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
	if err := delivery.ValidateTarget(*u, s.AllowPrivateTargets); err != nil {
		return "", errInvalid("outboundUrl: %v", err)
	}
	return *u, nil
}

func validDelivery(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errInvalid("delivery must be an object")
	}
	return raw, nil
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
	deliveryCfg, err := validDelivery(req.Delivery)
	if err != nil {
		s.fail(c, err)
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
	out := make([]integrationResponse, len(ins))
	for i, in := range ins {
		out[i] = s.integrationJSON(c.Request, in)
	}
	c.JSON(http.StatusOK, listJSON("integrations", out, next))
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
	}
	if req.Delivery != nil {
		d, err := validDelivery(req.Delivery)
		if err != nil {
			s.fail(c, err)
			return
		}
		u.Delivery = &d
	}
	in, err := s.Store.UpdateIntegration(c.Request.Context(), workspace(c), c.Param("id"), u)
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	s.Integrations.Forget(in.ID)
	c.JSON(http.StatusOK, s.integrationJSON(c.Request, in))
}

func (s *Server) deleteIntegration(c *gin.Context) {
	id := c.Param("id")
	if err := s.Store.DeleteIntegration(c.Request.Context(), workspace(c), id); err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	s.Integrations.Forget(id)
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

// notFoundAs names the missing object in a 404.
func notFoundAs(err error, what string) error {
	if err == store.ErrNotFound {
		return errNotFound("%s not found", what)
	}
	return err
}

package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

type connectionCreateRequest struct {
	Code     *string         `json:"code"`
	Channel  *string         `json:"channel"`
	Sender   *string         `json:"sender"`
	Route    *string         `json:"route"`
	Provider json.RawMessage `json:"provider"`
}

type connectionResponse struct {
	ID         string         `json:"id"`
	Code       string         `json:"code"`
	Channel    string         `json:"channel"`
	Sender     string         `json:"sender"`
	Route      string         `json:"route"`
	InboundURL string         `json:"inboundUrl"`
	Provider   map[string]any `json:"provider"`
	CreatedAt  time.Time      `json:"createdAt"`
}

// codePattern is what a connection code may look like: it is shown in
// menus and sent back in response-API bodies.
var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// senderPattern admits shortcodes and longcodes (digits, with an optional
// +), alphanumeric senders, WhatsApp business numbers and Twilio
// Messaging Service SIDs (MG and 32 hex digits).
var senderPattern = regexp.MustCompile(`^\+?[A-Za-z0-9]{1,34}$`)

func validCode(field, code string) error {
	if err := sdk.CheckText(field, code); err != nil {
		return errInvalid("%s", err.Error())
	}
	if !codePattern.MatchString(code) {
		return errInvalid("%s: a connection code is 1 to 64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit", field)
	}
	return nil
}

// secretSetting says whether a provider setting holds a credential, which
// responses mask.
func secretSetting(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "secret", "password", "key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// maskedProvider shows provider settings with credentials masked.
func maskedProvider(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	if json.Unmarshal(raw, &m) != nil {
		return map[string]any{}
	}
	for k, v := range m {
		if s, ok := v.(string); ok && s != "" && secretSetting(k) {
			m[k] = redacted
		}
	}
	return m
}

// redacted replaces a secret in a response.
const redacted = "********"

func (s *Server) connectionJSON(r *http.Request, c domain.Connection) connectionResponse {
	kind := strings.ToLower(c.Channel)
	if info, ok := s.Plugins.ByChannel(c.Channel); ok {
		kind = info.Kind
	}
	return connectionResponse{
		ID: c.ID, Code: c.Code, Channel: c.Channel, Sender: c.Sender, Route: c.Route,
		InboundURL: s.baseURL(r) + "/api/webhooks/" + url.PathEscape(kind) + "/" + c.ID,
		Provider:   maskedProvider(c.Provider),
		CreatedAt:  c.CreatedAt,
	}
}

func (s *Server) createConnection(c *gin.Context) {
	var req connectionCreateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Code == nil {
		s.fail(c, errInvalid("code is required"))
		return
	}
	if err := validCode("code", *req.Code); err != nil {
		s.fail(c, err)
		return
	}
	if req.Channel == nil || *req.Channel == "" {
		s.fail(c, errInvalid("channel is required, e.g. \"SMS\" or \"WHATSAPP\""))
		return
	}
	channel := strings.ToUpper(strings.TrimSpace(*req.Channel))
	info, ok := s.Plugins.ByChannel(channel)
	if !ok {
		s.fail(c, errInvalid("channel: no installed plugin serves channel %s", sdk.Quote(*req.Channel)))
		return
	}
	if req.Sender == nil || *req.Sender == "" {
		s.fail(c, errInvalid("sender is required: the number or code contacts write to"))
		return
	}
	sender := strings.ReplaceAll(strings.TrimSpace(*req.Sender), " ", "")
	if err := sdk.CheckText("sender", sender); err != nil {
		s.fail(c, errInvalid("%s", err.Error()))
		return
	}
	if !senderPattern.MatchString(sender) {
		s.fail(c, errInvalid("sender: a shortcode, longcode, alphanumeric sender, phone number or messaging service id of up to 34 letters or digits, with an optional leading +"))
		return
	}
	route := ""
	if req.Route != nil {
		route = strings.TrimSpace(*req.Route)
		if err := sdk.CheckText("route", route); err != nil {
			s.fail(c, errInvalid("%s", err.Error()))
			return
		}
		if len(route) > 64 {
			s.fail(c, errInvalid("route is longer than 64 characters"))
			return
		}
	}
	provider, err := s.validProvider(c.Request.Context(), info.Kind, req.Provider)
	if err != nil {
		s.fail(c, err)
		return
	}
	conn, err := s.Store.CreateConnection(c.Request.Context(), domain.Connection{
		WorkspaceID: workspace(c), Code: *req.Code, Channel: channel, Sender: sender, Route: route, Provider: provider,
	})
	if errors.Is(err, store.ErrConflict) {
		s.fail(c, errConflict("a connection with code %q already exists in this workspace", *req.Code))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.connectionJSON(c.Request, conn))
}

// validProvider checks provider settings: no control characters, a
// baseUrl the address policy of deliveries allows, then the channel
// plugin's schema and the plugin's own check.
func (s *Server) validProvider(ctx context.Context, kind string, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errInvalid("provider is required: the provider account's settings")
	}
	var settings map[string]any
	if err := json.Unmarshal(raw, &settings); err != nil {
		return nil, errInvalid("provider must be a JSON object of settings")
	}
	for k, v := range settings {
		// Settings travel in HTTP headers and URLs: no control characters.
		if str, ok := v.(string); ok && strings.IndexFunc(str, unicode.IsControl) >= 0 {
			return nil, errInvalid("provider.%s: control characters (CR, LF, tab …) are not allowed", k)
		}
	}
	if base, ok := settings["baseUrl"].(string); ok && base != "" {
		u, err := url.Parse(base)
		if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return nil, errInvalid("provider.baseUrl: an http(s) URL without credentials, query or fragment, such as https://api.example.com")
		}
		if err := s.Targets.ValidateURL(base); err != nil {
			return nil, errInvalid("provider.baseUrl: %v", err)
		}
	}
	if err := s.Plugins.ValidateConfig(ctx, kind, raw); err != nil {
		return nil, configRefusal("provider", kind, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, errInvalid("provider: not valid JSON")
	}
	return compact.Bytes(), nil
}

func (s *Server) listConnections(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	conns, next, err := s.Store.Connections(c.Request.Context(), workspace(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("connections", mapAll(conns, func(conn domain.Connection) connectionResponse {
		return s.connectionJSON(c.Request, conn)
	}), next))
}

func (s *Server) getConnection(c *gin.Context) {
	conn, err := s.Store.Connection(c.Request.Context(), workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "connection"))
		return
	}
	c.JSON(http.StatusOK, s.connectionJSON(c.Request, conn))
}

func (s *Server) deleteConnection(c *gin.Context) {
	id := c.Param("id")
	err := s.Store.DeleteConnection(c.Request.Context(), workspace(c), id)
	if errors.Is(err, store.ErrInUse) {
		s.fail(c, errConflict("the connection is active on an integration; stop the integration or remove the connection from it first"))
		return
	}
	if err != nil {
		s.fail(c, notFoundAs(err, "connection"))
		return
	}
	s.Inbound.ForgetConnection(id)
	s.Worker.ForgetConnection(id)
	c.Status(http.StatusNoContent)
}

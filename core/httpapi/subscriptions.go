package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/delivery"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/scripts"
	"golang.org/x/net/http/httpguts"
)

type headerJSON struct {
	Name  *string `json:"name"`
	Value *string `json:"value"`
}

type subscriptionRequest struct {
	URL              *string       `json:"url"`
	Enabled          *bool         `json:"enabled"`
	SubscribedEvents *[]string     `json:"subscribedEvents"`
	ExtraHeaders     *[]headerJSON `json:"extraHeaders"`
	Format           *string       `json:"format"`
}

type subscriptionResponse struct {
	ID               string              `json:"id"`
	URL              string              `json:"url"`
	Enabled          bool                `json:"enabled"`
	SubscribedEvents []string            `json:"subscribedEvents"`
	ExtraHeaders     []map[string]string `json:"extraHeaders"`
	Format           string              `json:"format,omitempty"`
	DisabledReason   string              `json:"disabledReason,omitempty"`
	CreatedAt        time.Time           `json:"createdAt"`
	UpdatedAt        time.Time           `json:"updatedAt"`
	Secret           string              `json:"secret,omitempty"`
}

// subscriptionJSON is a subscription as the API shows it: extraHeaders
// values often carry the receiver's credentials, so each reads "********".
func subscriptionJSON(sub domain.Subscription) subscriptionResponse {
	headers := make([]map[string]string, len(sub.ExtraHeaders))
	for i, h := range sub.ExtraHeaders {
		value := h.Value
		if value != "" {
			value = delivery.Redacted
		}
		headers[i] = map[string]string{"name": h.Name, "value": value}
	}
	events := sub.SubscribedEvents
	if events == nil {
		events = []string{}
	}
	return subscriptionResponse{ID: sub.ID, URL: sub.URL, Enabled: sub.Enabled, SubscribedEvents: events,
		ExtraHeaders: headers, Format: sub.Format, DisabledReason: sub.DisabledReason,
		CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt}
}

// validate checks the fields present; create requires url and subscribedEvents.
func (s *Server) validateSubscription(req *subscriptionRequest, create bool) (store.SubscriptionUpdate, error) {
	var u store.SubscriptionUpdate
	if req.URL != nil || create {
		if req.URL == nil || *req.URL == "" {
			return u, errInvalid("url is required")
		}
		if err := s.Targets.ValidateURL(*req.URL); err != nil {
			return u, errInvalid("url: %v", err)
		}
		u.URL = req.URL
	}
	if req.SubscribedEvents != nil || create {
		if req.SubscribedEvents == nil || len(*req.SubscribedEvents) == 0 {
			return u, errInvalid("subscribedEvents is required: one or both of \"messages\" and \"transfers\"")
		}
		var events []string
		for _, e := range *req.SubscribedEvents {
			if e != domain.SubscribeMessages && e != domain.SubscribeTransfers {
				return u, errInvalid("subscribedEvents: %q is not an event; use \"messages\" or \"transfers\"", e)
			}
			if !slices.Contains(events, e) {
				events = append(events, e)
			}
		}
		u.SubscribedEvents = &events
	}
	if req.ExtraHeaders != nil {
		var hs []domain.Header
		seen := map[string]bool{}
		for i, h := range *req.ExtraHeaders {
			if h.Name == nil || !scripts.ValidHeaderName(*h.Name) {
				return u, errInvalid("extraHeaders[%d].name must be a header name", i)
			}
			lower := strings.ToLower(*h.Name)
			if strings.HasPrefix(lower, "webhook-") || lower == "content-length" || lower == "host" || lower == "content-type" {
				return u, errInvalid("extraHeaders[%d].name: %q is set by the hub", i, *h.Name)
			}
			if seen[lower] {
				return u, errInvalid("extraHeaders[%d].name: duplicate header %q", i, *h.Name)
			}
			seen[lower] = true
			if h.Value == nil || strings.ContainsAny(*h.Value, "\r\n") {
				return u, errInvalid("extraHeaders[%d].value is required and must be one line", i)
			}
			if !httpguts.ValidHeaderFieldValue(*h.Value) {
				return u, errInvalid("extraHeaders[%d].value: not a valid HTTP header value", i)
			}
			hs = append(hs, domain.Header{Name: *h.Name, Value: *h.Value})
		}
		u.ExtraHeaders = &hs
	}
	if req.Format != nil {
		if *req.Format != "" && *req.Format != domain.FormatLegacy {
			return u, errInvalid("format must be \"legacy\" or absent")
		}
		u.Format = req.Format
	}
	u.Enabled = req.Enabled
	return u, nil
}

// keepHeaderValues gives each header sent as "********" the value stored
// under its name, as integrations do with auth secrets: a subscription read
// back and sent again keeps its headers. A masked header with nothing stored
// to keep is refused.
func keepHeaderValues(headers, stored []domain.Header) error {
	for i := range headers {
		if headers[i].Value != delivery.Redacted {
			continue
		}
		j := slices.IndexFunc(stored, func(o domain.Header) bool { return strings.EqualFold(o.Name, headers[i].Name) })
		if j < 0 {
			return errInvalid("extraHeaders[%d].value: send the value itself; %q only keeps a value already stored", i, delivery.Redacted)
		}
		headers[i].Value = stored[j].Value
	}
	return nil
}

func (s *Server) createSubscription(c *gin.Context) {
	var req subscriptionRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.validateSubscription(&req, true)
	if err != nil {
		s.fail(c, err)
		return
	}
	sub := domain.Subscription{WorkspaceID: workspace(c), URL: *u.URL, Enabled: true, SubscribedEvents: *u.SubscribedEvents}
	if u.Enabled != nil {
		sub.Enabled = *u.Enabled
	}
	if u.ExtraHeaders != nil {
		sub.ExtraHeaders = *u.ExtraHeaders
	}
	if u.Format != nil {
		sub.Format = *u.Format
	}
	if err := keepHeaderValues(sub.ExtraHeaders, nil); err != nil {
		s.fail(c, err)
		return
	}
	secret := auth.NewSigningSecret()
	sub, err = s.Store.CreateSubscription(c.Request.Context(), sub, secret)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.Planner.ForgetWorkspace(sub.WorkspaceID)
	out := subscriptionJSON(sub)
	out.Secret = secret // shown this once: deliveries are signed with it
	c.JSON(http.StatusCreated, out)
}

func (s *Server) listSubscriptions(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	subs, next, err := s.Store.Subscriptions(c.Request.Context(), workspace(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("webhooks", mapAll(subs, subscriptionJSON), next))
}

func (s *Server) getSubscription(c *gin.Context) {
	sub, err := s.Store.Subscription(c.Request.Context(), workspace(c), c.Param("a"))
	if err != nil {
		s.fail(c, notFoundAs(err, "webhook"))
		return
	}
	c.JSON(http.StatusOK, subscriptionJSON(sub))
}

func (s *Server) updateSubscription(c *gin.Context) {
	var req subscriptionRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.validateSubscription(&req, false)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u.ExtraHeaders != nil || u.URL != nil {
		old, err := s.Store.Subscription(c.Request.Context(), workspace(c), c.Param("a"))
		if err != nil {
			s.fail(c, notFoundAs(err, "webhook"))
			return
		}
		stored := old.ExtraHeaders
		if u.URL != nil && !delivery.SameOrigin(*u.URL, old.URL) {
			// Stored header values never follow the subscription to
			// another host: they must be sent again, as themselves.
			if u.ExtraHeaders == nil && slices.ContainsFunc(old.ExtraHeaders, func(h domain.Header) bool { return h.Value != "" }) {
				s.fail(c, errInvalid("extraHeaders: the url now names another host; send the header values again"))
				return
			}
			stored = nil
		}
		if u.ExtraHeaders != nil {
			if err := keepHeaderValues(*u.ExtraHeaders, stored); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	sub, err := s.Store.UpdateSubscription(c.Request.Context(), workspace(c), c.Param("a"), u)
	if err != nil {
		s.fail(c, notFoundAs(err, "webhook"))
		return
	}
	s.Planner.ForgetWorkspace(sub.WorkspaceID)
	s.Worker.ForgetSubscription(sub.ID)
	c.JSON(http.StatusOK, subscriptionJSON(sub))
}

func (s *Server) deleteSubscription(c *gin.Context) {
	id := c.Param("a")
	if err := s.Store.DeleteSubscription(c.Request.Context(), workspace(c), id); err != nil {
		s.fail(c, notFoundAs(err, "webhook"))
		return
	}
	s.Planner.ForgetWorkspace(workspace(c))
	s.Worker.ForgetSubscription(id)
	c.JSON(http.StatusOK, gin.H{"id": id, "deleted": true})
}

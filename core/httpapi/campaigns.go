package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/activation"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

type campaignCreateRequest struct {
	Name          *string  `json:"name"`
	Type          *string  `json:"type"`
	IntegrationID *string  `json:"integrationId"`
	Senders       []string `json:"senders"`
}

type campaignResponse struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	IntegrationID string     `json:"integrationId,omitempty"`
	Senders       []string   `json:"senders"`
	IntegratedAt  *time.Time `json:"integratedAt"`
	CreatedAt     time.Time  `json:"createdAt"`
}

func campaignJSON(c domain.Campaign) campaignResponse {
	senders := c.Senders
	if senders == nil {
		senders = []string{}
	}
	return campaignResponse{ID: c.ID, Name: c.Name, Type: c.Type, Status: c.Status, IntegrationID: c.IntegrationID,
		Senders: senders, IntegratedAt: c.IntegratedAt, CreatedAt: c.CreatedAt}
}

// maxCampaignSenders bounds the senders one campaign names, maxCampaigns
// the campaigns of a workspace: starting an integration reads them all.
const (
	maxCampaignSenders = 100
	maxCampaigns       = 1000
)

// createCampaign stores a campaign as a draft. A chatbot campaign that
// links an integration needs it active and without connections.
func (s *Server) createCampaign(c *gin.Context) {
	var req campaignCreateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	name, err := validName(req.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	if req.Type == nil || (*req.Type != domain.CampaignChatbot && *req.Type != domain.CampaignKeyword) {
		s.fail(c, errInvalid("type must be \"chatbot\" or \"keyword\""))
		return
	}
	if len(req.Senders) > maxCampaignSenders {
		s.fail(c, errInvalid("senders: at most %d", maxCampaignSenders))
		return
	}
	for i, sender := range req.Senders {
		if !senderPattern.MatchString(sender) {
			s.fail(c, errInvalid("senders[%d]: a shortcode, longcode, alphanumeric sender or phone number of up to 34 letters or digits", i))
			return
		}
	}
	camp := domain.Campaign{WorkspaceID: workspace(c), Name: name, Type: *req.Type, Senders: req.Senders}
	ctx := c.Request.Context()
	if req.IntegrationID != nil && *req.IntegrationID != "" {
		if err := sdk.CheckText("integrationId", *req.IntegrationID); err != nil {
			s.fail(c, errInvalid("%s", err.Error()))
			return
		}
		in, err := s.Store.Integration(ctx, workspace(c), *req.IntegrationID)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(c, errNotFound("integration not found"))
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		if camp.Type == domain.CampaignChatbot {
			if len(in.Connections) > 0 {
				s.fail(c, errConflict("integration %q has connections; a chatbot campaign needs an integration without connections", in.Name))
				return
			}
			if in.Status != domain.StatusActive {
				s.fail(c, errConflict("integration %q is not active; start it before linking a chatbot campaign", in.Name))
				return
			}
		}
		camp.IntegrationID = in.ID
	} else if camp.Type == domain.CampaignChatbot && len(camp.Senders) == 0 {
		s.fail(c, errInvalid("a chatbot campaign needs integrationId or senders"))
		return
	}
	if n, err := s.Store.CountCampaigns(ctx, workspace(c)); err != nil {
		s.fail(c, err)
		return
	} else if n >= maxCampaigns {
		s.fail(c, errConflict("the workspace has %d campaigns, the most it may have; delete or reuse one", n))
		return
	}
	out, err := s.Store.CreateCampaign(ctx, camp)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, campaignJSON(out))
}

func (s *Server) listCampaigns(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	camps, next, err := s.Store.Campaigns(c.Request.Context(), workspace(c), c.Query("integrationId"), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("campaigns", mapAll(camps, campaignJSON), next))
}

// integrationCampaigns lists the campaigns linked to an integration, with
// the date each went live.
func (s *Server) integrationCampaigns(c *gin.Context) {
	in, err := s.Store.Integration(c.Request.Context(), workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	camps, next, err := s.Store.Campaigns(c.Request.Context(), workspace(c), in.ID, page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("campaigns", mapAll(camps, campaignJSON), next))
}

func (s *Server) campaignLive(c *gin.Context)  { s.setCampaignStatus(c, domain.CampaignLive) }
func (s *Server) campaignPause(c *gin.Context) { s.setCampaignStatus(c, domain.CampaignPaused) }

func (s *Server) setCampaignStatus(c *gin.Context, status string) {
	camp, err := s.Store.SetCampaignStatus(c.Request.Context(), workspace(c), c.Param("id"), status, activation.CampaignGuard)
	var refused *store.ErrRefused
	if errors.As(err, &refused) {
		s.fail(c, errConflict("the campaign cannot go live: %s", refused.Reason))
		return
	}
	if err != nil {
		s.fail(c, notFoundAs(err, "campaign"))
		return
	}
	c.JSON(http.StatusOK, campaignJSON(camp))
}

type autoReplyCreateRequest struct {
	Connection *string `json:"connection"`
	Message    *string `json:"message"`
	Active     *bool   `json:"active"`
}

type autoReplyUpdateRequest struct {
	Active *bool `json:"active"`
}

type autoReplyResponse struct {
	ID         string    `json:"id"`
	Connection string    `json:"connection"`
	Message    string    `json:"message"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"createdAt"`
}

func autoReplyJSON(a domain.AutoReply) autoReplyResponse {
	return autoReplyResponse{ID: a.ID, Connection: a.Connection, Message: a.Message, Active: a.Active, CreatedAt: a.CreatedAt}
}

// maxAutoReplyLen bounds an auto-reply's text.
const maxAutoReplyLen = 1600

func (s *Server) createAutoReply(c *gin.Context) {
	var req autoReplyCreateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Connection == nil {
		s.fail(c, errInvalid("connection is required: the code of the connection whose sender answers"))
		return
	}
	if err := validCode("connection", *req.Connection); err != nil {
		s.fail(c, err)
		return
	}
	if req.Message == nil || *req.Message == "" {
		s.fail(c, errInvalid("message is required"))
		return
	}
	if len(*req.Message) > maxAutoReplyLen {
		s.fail(c, errInvalid("message is longer than %d bytes", maxAutoReplyLen))
		return
	}
	ctx := c.Request.Context()
	if _, err := s.Store.ConnectionByCode(ctx, workspace(c), *req.Connection); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.fail(c, errNotFound("connection not found: no connection with code %q in this workspace", *req.Connection))
			return
		}
		s.fail(c, err)
		return
	}
	active := req.Active == nil || *req.Active
	a, err := s.Store.CreateAutoReply(ctx, domain.AutoReply{WorkspaceID: workspace(c), Connection: *req.Connection, Message: *req.Message, Active: active})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, autoReplyJSON(a))
}

func (s *Server) listAutoReplies(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, next, err := s.Store.AutoReplies(c.Request.Context(), workspace(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("autoReplies", mapAll(out, autoReplyJSON), next))
}

func (s *Server) updateAutoReply(c *gin.Context) {
	var req autoReplyUpdateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Active == nil {
		s.fail(c, errInvalid("active is required"))
		return
	}
	a, err := s.Store.SetAutoReplyActive(c.Request.Context(), workspace(c), c.Param("id"), *req.Active)
	if err != nil {
		s.fail(c, notFoundAs(err, "auto-reply"))
		return
	}
	c.JSON(http.StatusOK, autoReplyJSON(a))
}

func (s *Server) deleteAutoReply(c *gin.Context) {
	if err := s.Store.DeleteAutoReply(c.Request.Context(), workspace(c), c.Param("id")); err != nil {
		s.fail(c, notFoundAs(err, "auto-reply"))
		return
	}
	c.Status(http.StatusNoContent)
}

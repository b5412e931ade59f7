package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/domain"
)

// tokenResponse describes an admin token. The token itself is never in it:
// it is shown once, in the answer that creates it (tokenCreatedResponse)
// or by `switchboard admin create-token`.
type tokenResponse struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

func tokenJSON(t domain.AdminToken) tokenResponse {
	return tokenResponse{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}
}

// tokenCreatedResponse is the one answer that holds a token.
type tokenCreatedResponse struct {
	tokenResponse
	Token string `json:"token"`
}

type tokenCreateRequest struct {
	Name *string `json:"name"`
}

// defaultTokenName labels a token made over the API without a name.
const defaultTokenName = "api"

// createToken makes an admin token for the workspace and answers it, this
// once; the hub keeps only its hash. A token can do anything in its
// workspace, managing users included, so in the admin UI only an owner
// may make one.
func (s *Server) createToken(c *gin.Context) {
	if !s.requireOwner(c, "create admin tokens") {
		return
	}
	var req tokenCreateRequest
	if c.Request.ContentLength != 0 {
		if err := decode(c, &req); err != nil {
			s.fail(c, err)
			return
		}
	}
	name := defaultTokenName
	if req.Name != nil && strings.TrimSpace(*req.Name) != "" {
		n, err := validName(req.Name)
		if err != nil {
			s.fail(c, err)
			return
		}
		name = n
	}
	ctx := c.Request.Context()
	token, hash := auth.NewSecret(auth.PrefixAdminToken)
	if err := s.Store.CreateAdminToken(ctx, workspace(c), name, hash); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.Store.AdminTokenByHash(ctx, hash)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, tokenCreatedResponse{tokenResponse: tokenJSON(t), Token: token})
}

func (s *Server) listTokens(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	tokens, next, err := s.Store.AdminTokens(c.Request.Context(), workspace(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("tokens", mapAll(tokens, tokenJSON), next))
}

// revokeToken deletes one of the workspace's admin tokens, the caller's own
// included: it stops working in this process at once.
func (s *Server) revokeToken(c *gin.Context) {
	id := c.Param("id")
	if err := s.Store.RevokeAdminToken(c.Request.Context(), workspace(c), id); err != nil {
		s.fail(c, notFoundAs(err, "token"))
		return
	}
	s.AdminTokens.Revoked(id)
	c.Status(http.StatusNoContent)
}

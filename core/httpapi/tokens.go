package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/domain"
)

// tokenResponse describes an admin token. The token itself is never in it:
// it is shown once, by `switchboard admin create-token`.
type tokenResponse struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

func tokenJSON(t domain.AdminToken) tokenResponse {
	return tokenResponse{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}
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

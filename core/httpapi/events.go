package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
)

type eventResponse struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	EventType string    `json:"eventType"`
	Error     string    `json:"error"`
	CreatedAt time.Time `json:"createdAt"`
}

var eventStatuses = map[string]bool{
	domain.EventOK: true, domain.EventSignatureFailure: true, domain.EventSkip: true, domain.EventRoutingError: true,
}

func (s *Server) listEvents(c *gin.Context) {
	status := c.Query("status")
	if status != "" && !eventStatuses[status] {
		s.fail(c, errBadRequest("status must be one of ok, signature_failure, skip, routing_error"))
		return
	}
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	in, err := s.Store.Integration(ctx, workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	events, next, err := s.Store.Events(ctx, workspace(c), in.ID, store.EventFilter{Status: status}, page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("events", mapAll(events, func(e domain.Event) eventResponse {
		return eventResponse{ID: e.ID, Status: e.Status, EventType: e.EventType, Error: e.Error, CreatedAt: e.CreatedAt}
	}), next))
}

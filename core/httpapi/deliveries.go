package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
)

type attemptResponse struct {
	N               int       `json:"n"`
	StatusCode      int       `json:"statusCode"`
	DurationMs      int64     `json:"durationMs"`
	Error           string    `json:"error"`
	ResponseExcerpt string    `json:"responseExcerpt"`
	At              time.Time `json:"at"`
}

type deliveryResponse struct {
	ID            string            `json:"id"`
	IntegrationID string            `json:"integrationId"`
	EventType     string            `json:"eventType"`
	Status        string            `json:"status"`
	AttemptCount  int               `json:"attemptCount"`
	NextAttemptAt *time.Time        `json:"nextAttemptAt"`
	LastError     string            `json:"lastError"`
	CreatedAt     time.Time         `json:"createdAt"`
	Attempts      []attemptResponse `json:"attempts,omitempty"`
}

var deliveryStatuses = map[string]bool{
	domain.DeliveryPending: true, domain.DeliverySucceeded: true, domain.DeliveryFailed: true,
	domain.DeliveryDead: true, domain.DeliverySkipped: true,
}

func deliveryJSON(d domain.Delivery) deliveryResponse {
	out := deliveryResponse{ID: d.ID, IntegrationID: d.IntegrationID, EventType: d.EventType, Status: d.Status,
		AttemptCount: d.AttemptCount, LastError: d.LastError, CreatedAt: d.CreatedAt}
	if d.Status == domain.DeliveryPending {
		t := d.NextAttemptAt
		out.NextAttemptAt = &t
	}
	return out
}

func (s *Server) listDeliveries(c *gin.Context) {
	status := c.Query("status")
	if status != "" && !deliveryStatuses[status] {
		s.fail(c, errBadRequest("status must be one of pending, succeeded, failed, dead, skipped"))
		return
	}
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ds, next, err := s.Store.Deliveries(c.Request.Context(), workspace(c), store.DeliveryFilter{IntegrationID: c.Query("integrationId"), Status: status}, page)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]deliveryResponse, len(ds))
	for i, d := range ds {
		out[i] = deliveryJSON(d)
	}
	c.JSON(http.StatusOK, listJSON("deliveries", out, next))
}

func (s *Server) getDelivery(c *gin.Context) {
	d, err := s.Store.Delivery(c.Request.Context(), workspace(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "delivery"))
		return
	}
	out := deliveryJSON(d)
	out.Attempts = make([]attemptResponse, len(d.Attempts))
	for i, a := range d.Attempts {
		out.Attempts[i] = attemptResponse{N: a.N, StatusCode: a.StatusCode, DurationMs: a.DurationMs, Error: a.Error,
			ResponseExcerpt: a.ResponseExcerpt, At: a.At}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) retryDelivery(c *gin.Context) {
	d, err := s.Store.RetryDelivery(c.Request.Context(), workspace(c), c.Param("id"))
	if errors.Is(err, store.ErrConflict) {
		s.fail(c, errConflict("only a dead or failed delivery can be retried; this one is %s", d.Status))
		return
	}
	if err != nil {
		s.fail(c, notFoundAs(err, "delivery"))
		return
	}
	s.Deliveries.Notify()
	c.JSON(http.StatusOK, deliveryJSON(d))
}

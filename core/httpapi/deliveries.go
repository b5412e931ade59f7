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
	Logs            []string  `json:"logs,omitempty"`
	At              time.Time `json:"at"`
}

type deliveryResponse struct {
	ID             string            `json:"id"`
	IntegrationID  string            `json:"integrationId"`
	SubscriptionID string            `json:"subscriptionId,omitempty"`
	Target         string            `json:"target"`
	EventType      string            `json:"eventType"`
	Status         string            `json:"status"`
	AttemptCount   int               `json:"attemptCount"`
	NextAttemptAt  *time.Time        `json:"nextAttemptAt"`
	LastError      string            `json:"lastError"`
	CreatedAt      time.Time         `json:"createdAt"`
	Attempts       []attemptResponse `json:"attempts,omitempty"`
}

var deliveryStatuses = map[string]bool{
	domain.DeliveryPending: true, domain.DeliverySucceeded: true, domain.DeliveryFailed: true,
	domain.DeliveryDead: true, domain.DeliverySkipped: true,
}

func deliveryJSON(d domain.Delivery) deliveryResponse {
	out := deliveryResponse{ID: d.ID, IntegrationID: d.IntegrationID, SubscriptionID: d.SubscriptionID, Target: d.TargetType,
		EventType: d.EventType, Status: d.Status,
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
	c.JSON(http.StatusOK, listJSON("deliveries", mapAll(ds, deliveryJSON), next))
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
			ResponseExcerpt: a.ResponseExcerpt, Logs: a.Logs, At: a.At}
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
	s.Worker.Notify()
	c.JSON(http.StatusOK, deliveryJSON(d))
}

type retryDeliveriesRequest struct {
	IntegrationID *string    `json:"integrationId"`
	Status        *string    `json:"status"`
	Since         *time.Time `json:"since"`
	Until         *time.Time `json:"until"`
}

// retryDeliveries schedules every dead or failed delivery of an integration
// (optionally within a time range of creation) for an attempt now.
func (s *Server) retryDeliveries(c *gin.Context) {
	var req retryDeliveriesRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.IntegrationID == nil || *req.IntegrationID == "" {
		s.fail(c, errInvalid("integrationId is required"))
		return
	}
	ctx := c.Request.Context()
	if _, err := s.Store.Integration(ctx, workspace(c), *req.IntegrationID); err != nil {
		s.fail(c, notFoundAs(err, "integration"))
		return
	}
	f := store.RetryFilter{IntegrationID: *req.IntegrationID}
	if req.Status != nil {
		if *req.Status != domain.DeliveryDead && *req.Status != domain.DeliveryFailed {
			s.fail(c, errInvalid("status must be dead or failed"))
			return
		}
		f.Statuses = []string{*req.Status}
	}
	if req.Since != nil {
		f.Since = req.Since.UTC()
	}
	if req.Until != nil {
		f.Until = req.Until.UTC()
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		s.fail(c, errInvalid("since must be before until"))
		return
	}
	n, err := s.Store.RetryDeliveries(ctx, workspace(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	if n > 0 {
		s.Worker.Notify()
	}
	c.JSON(http.StatusOK, gin.H{"retried": n})
}

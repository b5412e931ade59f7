package httpapi

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/inbound"
)

// okBody is the custom webhook's answer, whatever happened: outcomes are in
// the event log, so senders never retry-storm on validation failures.
var okBody = []byte(`"ok"`)

// inboundWebhook takes traffic for /api/webhooks/{kind}/{id}. The answer
// comes only after the outcome is committed.
func (s *Server) inboundWebhook(c *gin.Context) {
	received := time.Now().UTC()
	var body []byte
	var tooLarge bool
	if c.Request.Method == http.MethodPost && s.publicKind(c.Param("a")) {
		// A public kind's integration (the website chat) takes its senders'
		// messages here too, from people who hold no key: the public
		// routes' limits hold here as well.
		var ok bool
		if body, ok = s.publicBody(c, received); !ok {
			return
		}
	} else {
		var err error
		body, err = io.ReadAll(io.LimitReader(c.Request.Body, s.MaxBodyBytes+1))
		if err != nil {
			s.fail(c, errBadRequest("could not read the request body"))
			return
		}
		if tooLarge = int64(len(body)) > s.MaxBodyBytes; tooLarge {
			body = nil
		}
	}
	req := &inbound.Request{
		Kind:          c.Param("a"),
		IntegrationID: c.Param("b"),
		Method:        c.Request.Method,
		URL:           s.baseURL(c.Request) + c.Request.URL.RequestURI(),
		Header:        c.Request.Header,
		Body:          body,
		TooLarge:      tooLarge,
		ReceivedAt:    received,
	}
	out, err := s.Inbound.Handle(c.Request.Context(), req)
	if err != nil {
		// The outcome is not durable: say so, so the sender tries again.
		s.Log.Error("inbound request not recorded", "request_id", c.GetString(ctxRequestID), "kind", req.Kind, "integration", req.IntegrationID, "err", err)
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "unavailable", "message": "the hub could not record the request; send it again"})
		return
	}
	if r := out.Reply; r != nil && r.Status != 0 {
		// A plugin's answer may echo what the sender chose (a challenge):
		// never let a browser read it as anything but its declared type.
		c.Header("X-Content-Type-Options", "nosniff")
		c.Data(r.Status, r.ContentType, r.Body)
		return
	}
	c.Data(http.StatusOK, "application/json", okBody)
}

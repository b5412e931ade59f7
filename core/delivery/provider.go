package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strings"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// providerSent is what a provider delivery learnt: the provider's id of the
// message and the connection it went through.
type providerSent struct {
	externalID   string
	connectionID string
}

// SetCallbackBase sets the hub's public base URL, which providers are told
// to post status reports to.
func (w *Worker) SetCallbackBase(base string) { w.callbackBase.Store(&base) }

// ForgetConnection drops a cached connection after a change.
func (w *Worker) ForgetConnection(id string) { w.connections.Drop(id) }

func (w *Worker) connection(ctx context.Context, id string) (domain.Connection, error) {
	if c, ok := w.connections.Get(id); ok {
		return c, nil
	}
	c, err := w.store.ConnectionByID(ctx, id)
	if err != nil {
		return domain.Connection{}, err
	}
	w.connections.Put(id, c)
	return c, nil
}

// sendProvider sends a message through its connection's plugin. A provider
// failure the provider calls temporary (5xx, 429, no answer) is retried
// along the schedule, after Retry-After at the least; any other refusal
// fails the message with the provider's reason. A plugin that cannot be
// reached is retried too.
func (w *Worker) sendProvider(ctx context.Context, d store.ClaimedDelivery, a *domain.Attempt, out *providerSent) *sendError {
	var p ProviderPayload
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return permanent("delivery payload: %v", err)
	}
	conn, err := w.connection(ctx, p.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return permanent("connection was deleted")
	}
	if err != nil {
		return &sendError{err: fmt.Errorf("load connection: %w", err)}
	}
	if w.opts.Channels == nil {
		return permanent("no plugins send through providers")
	}
	info, ok := w.opts.Channels.ByChannel(conn.Channel)
	if !ok {
		return &sendError{err: fmt.Errorf("no plugin serves channel %s", conn.Channel)}
	}
	ch, err := w.opts.Channels.Channel(info.Kind)
	if err != nil {
		return &sendError{err: err}
	}
	req := &sdk.SendRequest{
		Config:       conn.Provider,
		To:           p.To,
		From:         conn.Sender,
		Content:      p.Content,
		ContentType:  p.ContentType,
		MediaURL:     p.MediaURL,
		MessageID:    d.MessageID,
		AllowPrivate: w.opts.Guard.AllowsPrivate(),
	}
	if base := w.callbackBase.Load(); base != nil && *base != "" {
		req.CallbackURL = *base + "/api/webhooks/" + url.PathEscape(info.Kind) + "/" + url.PathEscape(conn.ID)
	}
	sctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	res, err := ch.Send(sctx, req)
	secrets := providerSecrets(conn.Provider)
	var pe *sdk.ProviderError
	switch {
	case errors.As(err, &pe):
		a.StatusCode = pe.StatusCode
		msg := RedactSecrets(pe.Error(), secrets)
		if !pe.Retryable {
			return permanent("%s", msg)
		}
		return &sendError{err: errors.New(msg), retryAfter: pe.RetryAfter}
	case err != nil:
		return &sendError{err: errors.New(RedactSecrets(err.Error(), secrets))}
	}
	out.externalID, out.connectionID = res.ExternalID, conn.ID
	a.ResponseExcerpt = RedactSecrets("provider accepted the message as "+res.ExternalID, secrets)
	return nil
}

// minSecretLen is the shortest provider setting masked in what a provider
// said: shorter ones are flags and versions, not credentials.
const minSecretLen = 8

// providerSecrets lists a connection's provider settings long enough to be
// credentials, in every form a provider's answer might echo them (as is,
// URL-, HTML- or JSON-escaped, base64, upper or lower case), longest first
// so a form is masked whole before a shorter one inside it.
func providerSecrets(cfg json.RawMessage) []string {
	var m map[string]any
	if json.Unmarshal(cfg, &m) != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if len(v) >= minSecretLen && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for k, v := range m {
		s, ok := v.(string)
		if !ok || len(s) < minSecretLen || k == "baseUrl" || k == "apiVersion" {
			continue
		}
		quoted, _ := json.Marshal(s)
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s), string(quoted[1 : len(quoted)-1]),
			base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))} {
			add(form)
			add(strings.ToUpper(form))
			add(strings.ToLower(form))
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxVerifyToken bounds a target's verifyToken.
const maxVerifyToken = 256

// verifyTimeout bounds one endpoint verification, so a save never hangs on
// a slow endpoint.
const verifyTimeout = 10 * time.Second

// VerifyEndpoint proves that the target's endpoint expects this hub: it
// asks GET url?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C and
// wants 200 with the body C. A URL with placeholders is filled with sample
// values. client must be a guarded client (NewHTTPClient): the check goes
// only where a delivery may go, and follows no redirect. The error says why
// verification failed, fit to show the admin; it never holds the token.
func VerifyEndpoint(ctx context.Context, client *http.Client, t *Target) error {
	raw := t.URL
	if strings.Contains(raw, "<<") {
		raw = expand(raw, SampleVars(), url.PathEscape)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("the url is not absolute")
	}
	b := make([]byte, 16)
	rand.Read(b)
	challenge := hex.EncodeToString(b)
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", t.VerifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return errors.New("the url is not valid")
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, ErrPrivateTarget) {
			return ErrPrivateTarget
		}
		return fmt.Errorf("request failed: %s", RedactSecrets(unwrapURLError(err).Error(), []string{t.VerifyToken, url.QueryEscape(t.VerifyToken)}))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fmt.Errorf("the endpoint answered %d, a redirect, which is not followed", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("the endpoint answered %d, not 200", resp.StatusCode)
	case strings.TrimSpace(string(body)) != challenge:
		return errors.New("the endpoint answered 200 without echoing hub.challenge")
	}
	return nil
}

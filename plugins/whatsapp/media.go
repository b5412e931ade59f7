package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Limits on media lookups.
const (
	maxMediaLookups = 100 // per webhook post
	maxMediaURLLen  = 4096
)

// mediaIDPattern is what a media ID may look like: it becomes a path
// segment, so nothing that could change the path or add a query.
var mediaIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// mediaResolver turns the media IDs of one webhook post into download URLs
// with the Graph API's media endpoint.
//
// Meta's URLs are short-lived (minutes) and need the access token to
// download: the URL given to the hub points at the media, it does not make
// it public.
type mediaResolver struct {
	cfg    *config
	client *http.Client
	urls   map[string]string
}

// resolve returns the URL of a media ID. A lookup the provider refuses
// (4xx) or answers with no usable URL gives "", and the message is kept
// without its media. A lookup that failed for a reason that may pass (a
// network error, 429, 5xx, an address the hub does not allow) is an error:
// the hub keeps the whole post and replays it later.
func (r *mediaResolver) resolve(ctx context.Context, field, id string) (string, error) {
	if !mediaIDPattern.MatchString(id) {
		return "", sdk.InvalidField(field, "%s %s is not a media ID", field, sdk.Quote(id))
	}
	if u, ok := r.urls[id]; ok {
		return u, nil
	}
	if len(r.urls) >= maxMediaLookups {
		return "", sdk.InvalidField(field, "%s: more than %d media in one post", field, maxMediaLookups)
	}
	u, err := r.lookup(ctx, id)
	if err != nil {
		return "", err
	}
	if r.urls == nil {
		r.urls = make(map[string]string)
	}
	r.urls[id] = u
	return u, nil
}

// mediaAnswer is the media endpoint's answer, as far as it is read.
type mediaAnswer struct {
	URL      string `json:"url"`
	MimeType string `json:"mime_type"`
}

func (r *mediaResolver) lookup(ctx context.Context, id string) (string, error) {
	// phone_number_id makes the provider check that the media was sent to
	// this connection's number.
	endpoint := r.cfg.BaseURL + "/" + r.cfg.APIVersion + "/" + id + "?phone_number_id=" + url.QueryEscape(r.cfg.PhoneNumberID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", fmt.Errorf("whatsapp: look up media %s: %w", id, err)
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if errors.Is(err, sdk.ErrPrivateAddress) {
		// Refused by the hub's address policy: asking again changes nothing,
		// so the message goes on without its URL, as after a refusal.
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("whatsapp: look up media %s: %s", id, scrub(sdk.ProviderNetworkError(err).Message, r.cfg))
	}
	defer resp.Body.Close()
	body := sdk.ReadProviderBody(resp.Body, maxGraphAnswer)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		perr := sdk.ProviderResponseError(resp, graphErrorReason(body, r.cfg))
		return "", fmt.Errorf("whatsapp: look up media %s: %s", id, perr.Error())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", nil
	}
	var a mediaAnswer
	if json.Unmarshal(body, &a) != nil || !usableMediaURL(a.URL) {
		return "", nil
	}
	return a.URL, nil
}

// usableMediaURL accepts an absolute http(s) URL of bounded length.
func usableMediaURL(s string) bool {
	if s == "" || len(s) > maxMediaURLLen || sdk.CheckText("url", s) != nil {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

package adminui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/httpapi"
)

// apiError is an answer of the admin API other than a success.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Message }

// field is the setting the error names, "" when it names none: the API's
// messages start with the field ("delivery.url: …", "name is required").
func (e *apiError) field() string {
	if e.Status != http.StatusUnprocessableEntity {
		return ""
	}
	return fieldPrefix.FindString(e.Message)
}

var fieldPrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(?:(?:\.[A-Za-z0-9_]+)|(?:\[[0-9]+\]))*`)

// call makes an admin API request in process, for the session's workspace,
// and decodes a successful answer into out. A refusal is an *apiError.
func (u *UI) call(r *http.Request, s *domain.Session, method, path string, in, out any) error {
	if !strings.HasPrefix(path, "/api/") {
		// Anything else would come back to the UI, not the API.
		return fmt.Errorf("adminui: %s is not an admin API path", path)
	}
	// A request that arrives has a body, if an empty one; handlers may
	// read it.
	var body io.Reader = http.NoBody
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(httpapi.AsUser(r.Context(), s.User), method, path, body)
	if err != nil {
		return err
	}
	if !onePathPerSegment(req.URL) {
		return errNoSuchPage
	}
	req.Host, req.TLS, req.RemoteAddr = r.Host, r.TLS, r.RemoteAddr
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	u.API.ServeHTTP(rec, req)
	if rec.status >= 300 {
		var e struct{ Error, Message string }
		json.Unmarshal(rec.body.Bytes(), &e)
		if e.Message == "" {
			e.Message = fmt.Sprintf("the request failed (%d)", rec.status)
		}
		return &apiError{Status: rec.status, Code: e.Error, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("adminui: decode %s %s: %w", method, path, err)
	}
	return nil
}

// errNoSuchPage answers a page whose id cannot be one.
var errNoSuchPage = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no such page."}

// onePathPerSegment reports whether every id the UI put in an API path
// stayed one segment of it. The API routes by the decoded path, so an id
// holding a slash (sent as %2F, escaped again by url.PathEscape) or a dot
// segment would name another route: GET /subscriptions/custom%2F{id}/edit
// would call the inbound webhook /api/webhooks/custom/{id} as the user.
func onePathPerSegment(u *url.URL) bool {
	if strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// listPage fetches one page of a collection of the admin API: the items
// under key, and the cursor of the next page ("" on the last).
func listPage[T any](u *UI, r *http.Request, s *domain.Session, path, key string) ([]T, string, error) {
	var page map[string]json.RawMessage
	if err := u.call(r, s, "GET", path, nil, &page); err != nil {
		return nil, "", err
	}
	var items []T
	if raw, ok := page[key]; ok {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, "", fmt.Errorf("adminui: decode %s of %s: %w", key, path, err)
		}
	}
	var next string
	if raw, ok := page["nextCursor"]; ok {
		json.Unmarshal(raw, &next)
	}
	return items, next, nil
}

// recorder captures an in-process answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

// formErrors sorts an API refusal into messages beside their fields and a
// message for the whole form.
type formErrors struct {
	Fields map[string]string
	Form   string
}

func errorsOf(err error) (*formErrors, bool) {
	ae, ok := err.(*apiError)
	if !ok {
		return nil, false
	}
	fe := &formErrors{Fields: map[string]string{}}
	if f := ae.field(); f != "" {
		// A message about a nested field also shows beside each parent:
		// delivery.params[0].value, delivery.params[0], delivery.params, delivery.
		for {
			fe.Fields[f] = ae.Message
			i := strings.LastIndexAny(f, ".[")
			if i <= 0 {
				break
			}
			f = f[:i]
		}
	} else {
		fe.Form = ae.Message
	}
	return fe, true
}

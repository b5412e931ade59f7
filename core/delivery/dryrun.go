package delivery

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/switchboardhq/switchboard/scripts"
)

// SampleTarget is used to try a script when no target is configured.
var SampleTarget = Target{Method: "POST", URL: "https://example.com/webhook"}

// SampleVars are example values for every variable, so a script can be
// tried with an event that gives only some.
func SampleVars() map[string]string {
	return map[string]string{
		"chatId": "session_abc123", "conversationId": "session_abc123", "contact": "user_42",
		"contact.name": "Jane Smith", "contact.email": "jane@example.com", "contact.externalId": "user_42",
		"channel": "SMS", "direction": "inbound", "event": "MESSAGE", "text": "Hello Jane!", "content": "Hello Jane!",
		"messageId": "01a1fe7b-0000-7000-8000-000000000001", "integrationId": "01a1fe7b-0000-7000-8000-000000000002",
		"timestamp": "2026-01-02T03:04:05Z", "multimedia.url": "", "multimedia.caption": "", "sender": "",
	}
}

// FlattenEvent writes an event object into vars: nested objects become
// dotted names ({"contact": {"name": …}} is "contact.name"), other values
// their text. Keys that are not variables reach a script but no template.
func FlattenEvent(ev map[string]any, vars map[string]string) {
	flatten("", ev, vars)
}

func flatten(prefix string, ev map[string]any, into map[string]string) {
	for k, v := range ev {
		name := prefix + k
		switch x := v.(type) {
		case map[string]any:
			flatten(name+".", x, into)
		case string:
			into[name] = x
		case nil:
			into[name] = ""
		default:
			b, _ := json.Marshal(x)
			into[name] = string(b)
		}
	}
}

// DryRunRequest is the request a delivery would send, for display.
type DryRunRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
}

// DryRunResult is what trying a target and script produces.
type DryRunResult struct {
	Request *DryRunRequest `json:"request"`
	Skipped bool           `json:"skipped,omitempty"`
	Logs    []string       `json:"logs"`
	Error   string         `json:"error,omitempty"`
	Curl    string         `json:"curl,omitempty"`
}

// DryRun renders the target's templates for vars, runs script (if any), and
// reports the request that would be sent. The target's auth secrets are
// replaced by placeholders before anything runs, so neither the script nor
// its console output nor the answer ever holds a stored secret. The
// signature headers, which depend on the moment of sending, are left out.
func DryRun(ctx context.Context, engine *scripts.Engine, t *Target, script string, vars map[string]string) DryRunResult {
	t = t.Redact()
	req := t.Render(vars)
	out := DryRunResult{Logs: []string{}}
	if script != "" {
		res := engine.Run(ctx, script, req, stringMapAny(vars))
		out.Logs = res.Logs
		if res.Err != nil {
			out.Error = res.Err.Error()
			return out
		}
		if res.Skipped {
			out.Skipped = true
			return out
		}
		req = res.Request
	}
	u, err := req.EncodeURL()
	if err != nil {
		out.Error = "url: " + err.Error()
		return out
	}
	headers := make(map[string]string, len(req.Headers)+1)
	for k, v := range req.Headers {
		headers[k] = v
	}
	var body any
	if req.Method == http.MethodPost || req.Method == http.MethodPut {
		body = req.Body
		if _, ok := headers["Content-Type"]; !ok {
			headers["Content-Type"] = "application/json"
		}
	}
	redactAuth(t, headers)
	out.Request = &DryRunRequest{Method: req.Method, URL: u, Headers: headers, Body: body}
	out.Curl = curl(out.Request)
	return out
}

// redactAuth hides the values the target's auth put into headers.
func redactAuth(t *Target, headers map[string]string) {
	if t.Auth == nil {
		return
	}
	for k := range headers {
		switch {
		case t.Auth.Type == "apiKey" && strings.EqualFold(k, t.Auth.Header),
			(t.Auth.Type == "basic" || t.Auth.Type == "bearer") && strings.EqualFold(k, "Authorization"):
			headers[k] = Redacted
		}
	}
}

func curl(r *DryRunRequest) string {
	var b strings.Builder
	b.WriteString("curl -X ")
	b.WriteString(r.Method)
	b.WriteString(" ")
	b.WriteString(shellQuote(r.URL))
	keys := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" \\\n  -H ")
		b.WriteString(shellQuote(k + ": " + r.Headers[k]))
	}
	if r.Body != nil {
		raw, _ := json.Marshal(r.Body)
		b.WriteString(" \\\n  --data-raw ")
		b.WriteString(shellQuote(string(raw)))
	}
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

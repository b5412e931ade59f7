package fakeprovider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
)

func startCloudAPI(t *testing.T, opts fakeprovider.CloudAPIOptions) *fakeprovider.CloudAPI {
	t.Helper()
	if opts.StatusDelay == 0 {
		opts.StatusDelay = time.Millisecond
	}
	c := fakeprovider.NewCloudAPI(opts)
	if err := c.Listen(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// call makes one HTTP request and decodes a JSON answer.
func call(t *testing.T, method, url, token, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

func errorCode(out map[string]any) float64 {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(float64)
	return code
}

func TestCloudAPISignatureKnownValue(t *testing.T) {
	// HMAC-SHA256 of "test" keyed with "secret".
	const want = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
	if got := fakeprovider.CloudAPISignature("secret", []byte("test")); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCloudAPISend(t *testing.T) {
	c := startCloudAPI(t, fakeprovider.CloudAPIOptions{})
	o := c.Options()
	endpoint := c.URL() + "/" + o.APIVersion + "/" + o.PhoneNumberID + "/messages"
	tests := []struct {
		name     string
		url      string
		token    string
		body     string
		status   int
		wantCode float64
	}{
		{name: "text", url: endpoint, token: o.AccessToken, status: 200,
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"15551234567","type":"text","text":{"preview_url":false,"body":"hi"}}`},
		{name: "image by link", url: endpoint, token: o.AccessToken, status: 200,
			body: `{"messaging_product":"whatsapp","to":"+15551234567","type":"image","image":{"link":"https://example.com/a.png","caption":"look"}}`},
		{name: "no token", url: endpoint, status: 401, wantCode: 190,
			body: `{"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{"body":"hi"}}`},
		{name: "wrong token", url: endpoint, token: "nope", status: 401, wantCode: 190,
			body: `{"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{"body":"hi"}}`},
		{name: "other phone number ID", url: c.URL() + "/v21.0/999/messages", token: o.AccessToken, status: 400, wantCode: 100,
			body: `{"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{"body":"hi"}}`},
		{name: "missing messaging_product", url: endpoint, token: o.AccessToken, status: 400, wantCode: 100,
			body: `{"to":"15551234567","type":"text","text":{"body":"hi"}}`},
		{name: "recipient not a number", url: endpoint, token: o.AccessToken, status: 400, wantCode: 100,
			body: `{"messaging_product":"whatsapp","to":"ann","type":"text","text":{"body":"hi"}}`},
		{name: "empty text", url: endpoint, token: o.AccessToken, status: 400, wantCode: 100,
			body: `{"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{"body":" "}}`},
		{name: "text too long", url: endpoint, token: o.AccessToken, status: 400, wantCode: 100,
			body: `{"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{"body":"` + strings.Repeat("é", 4097) + `"}}`},
		{name: "image without link", url: endpoint, token: o.AccessToken, status: 400, wantCode: 100,
			body: `{"messaging_product":"whatsapp","to":"15551234567","type":"image","image":{}}`},
		{name: "not JSON", url: endpoint, token: o.AccessToken, status: 400, wantCode: 100, body: `{`},
		{name: "bad version", url: c.URL() + "/latest/" + o.PhoneNumberID + "/messages", token: o.AccessToken, status: 400, wantCode: 100, body: `{}`},
	}
	accepted := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, out := call(t, http.MethodPost, tt.url, tt.token, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, out)
			}
			if tt.status != 200 {
				if got := errorCode(out); got != tt.wantCode {
					t.Errorf("error code %v, want %v (%v)", got, tt.wantCode, out)
				}
				return
			}
			accepted++
			msgs, _ := out["messages"].([]any)
			if len(msgs) != 1 || !strings.HasPrefix(msgs[0].(map[string]any)["id"].(string), "wamid.") {
				t.Errorf("answer %v has no wamid", out)
			}
		})
	}
	got := c.Messages()
	if len(got) != accepted {
		t.Fatalf("recorded %d messages, want %d", len(got), accepted)
	}
	if got[0].Text != "hi" || got[0].Authorization != "Bearer "+o.AccessToken || got[1].MediaLink != "https://example.com/a.png" || got[1].Caption != "look" {
		t.Errorf("recorded %+v", got)
	}
}

func TestCloudAPIMedia(t *testing.T) {
	c := startCloudAPI(t, fakeprovider.CloudAPIOptions{})
	o := c.Options()
	c.AddMedia("4455", "image/png", []byte("png bytes"))

	status, _, out := call(t, http.MethodGet, c.URL()+"/v21.0/4455?phone_number_id="+o.PhoneNumberID, o.AccessToken, "")
	if status != 200 || out["mime_type"] != "image/png" || out["id"] != "4455" {
		t.Fatalf("lookup: %d %v", status, out)
	}
	mediaURL := out["url"].(string)
	if status, _, _ := call(t, http.MethodGet, mediaURL, "", ""); status != 401 {
		t.Errorf("download without the token: %d, want 401", status)
	}
	req, _ := http.NewRequest(http.MethodGet, mediaURL, nil)
	req.Header.Set("Authorization", "Bearer "+o.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(data) != "png bytes" || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("download: %q %s", data, resp.Header.Get("Content-Type"))
	}

	for name, url := range map[string]string{
		"unknown media":       c.URL() + "/v21.0/777",
		"other phone number":  c.URL() + "/v21.0/4455?phone_number_id=1",
		"without a token too": c.URL() + "/v21.0/4455",
	} {
		token := o.AccessToken
		if name == "without a token too" {
			token = ""
		}
		if status, _, out := call(t, http.MethodGet, url, token, ""); status < 400 || errorCode(out) == 0 {
			t.Errorf("%s: %d %v", name, status, out)
		}
	}
}

func TestCloudAPIFailNext(t *testing.T) {
	c := startCloudAPI(t, fakeprovider.CloudAPIOptions{})
	o := c.Options()
	endpoint := c.URL() + "/" + o.APIVersion + "/" + o.PhoneNumberID + "/messages"
	body := `{"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{"body":"hi"}}`

	c.FailNextRetryAfter(429, 2, 1500*time.Millisecond)
	for i := range 2 {
		status, h, out := call(t, http.MethodPost, endpoint, o.AccessToken, body)
		if status != 429 || h.Get("Retry-After") != "2" || errorCode(out) != 130429 {
			t.Fatalf("call %d: %d Retry-After %q %v", i, status, h.Get("Retry-After"), out)
		}
	}
	if status, _, _ := call(t, http.MethodPost, endpoint, o.AccessToken, body); status != 200 {
		t.Fatalf("after the failures: %d", status)
	}
	c.FailNext(500, 1)
	if status, h, out := call(t, http.MethodPost, endpoint, o.AccessToken, body); status != 500 || h.Get("Retry-After") != "" || errorCode(out) != 131000 {
		t.Fatalf("500: %d %v", status, out)
	}
	if n := len(c.Messages()); n != 1 {
		t.Errorf("recorded %d messages, want only the one accepted", n)
	}
}

// receiver records signed webhook posts and answers a handshake with token.
type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
}

func (rc *receiver) serve(t *testing.T, token string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			q := r.URL.Query()
			if q.Get("hub.mode") == "subscribe" && q.Get("hub.verify_token") == token {
				io.WriteString(w, q.Get("hub.challenge"))
				return
			}
			io.WriteString(w, "ok")
			return
		}
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, b)
		rc.sigs = append(rc.sigs, r.Header.Get("X-Hub-Signature-256"))
		rc.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCloudAPIWebhooks(t *testing.T) {
	c := startCloudAPI(t, fakeprovider.CloudAPIOptions{AppSecret: "app-secret-1"})
	o := c.Options()
	var rc receiver
	srv := rc.serve(t, "vt")

	if ok, err := c.Subscribe(t.Context(), srv.URL+"/hook?x=1", "vt"); !ok || err != nil {
		t.Fatalf("subscribe: %v %v", ok, err)
	}
	if ok, err := c.Subscribe(t.Context(), srv.URL+"/hook", "wrong"); ok || err != nil {
		t.Fatalf("subscribe with a wrong token: %v %v", ok, err)
	}
	if _, err := c.SendInboundText(t.Context(), "15551234567", "Ann", "hi"); err != fakeprovider.ErrCloudAPINoWebhook {
		t.Fatalf("inbound without a webhook: %v", err)
	}
	c.SetWebhook(srv.URL + "/hook")
	if status, err := c.SendInboundText(t.Context(), "15551234567", "Ann", "hi"); status != 200 || err != nil {
		t.Fatalf("inbound: %d %v", status, err)
	}
	c.AddMedia("123", "application/pdf", []byte("%PDF"))
	if status, err := c.SendInboundMedia(t.Context(), "15551234567", "Ann", "123", "", "the file"); status != 200 || err != nil {
		t.Fatalf("inbound media: %d %v", status, err)
	}

	// A send makes the fake report "sent", then "failed".
	c.SetFinalStatus("failed")
	endpoint := c.URL() + "/" + o.APIVersion + "/" + o.PhoneNumberID + "/messages"
	call(t, http.MethodPost, endpoint, o.AccessToken, `{"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{"body":"hi"}}`)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	hooks, err := c.WaitWebhooks(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if hooks[2].Status != "sent" || hooks[3].Status != "failed" || hooks[3].MessageID != c.Messages()[0].ID {
		t.Errorf("status posts %+v", hooks[2:])
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, b := range rc.bodies {
		if rc.sigs[i] != fakeprovider.CloudAPISignature("app-secret-1", b) {
			t.Errorf("post %d is not signed over its body", i)
		}
	}
	var media struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Metadata struct {
						PhoneNumberID string `json:"phone_number_id"`
					} `json:"metadata"`
					Messages []struct {
						Type     string `json:"type"`
						Document struct {
							ID      string `json:"id"`
							Caption string `json:"caption"`
						} `json:"document"`
					} `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(rc.bodies[1], &media); err != nil {
		t.Fatal(err)
	}
	v := media.Entry[0].Changes[0].Value
	if v.Metadata.PhoneNumberID != o.PhoneNumberID || v.Messages[0].Type != "document" || v.Messages[0].Document.ID != "123" || v.Messages[0].Document.Caption != "the file" {
		t.Errorf("media post: %s", rc.bodies[1])
	}
	if !bytes.Contains(rc.bodies[3], []byte(`"code":131026`)) {
		t.Errorf("failed status without its error: %s", rc.bodies[3])
	}
}

func TestCloudAPIControl(t *testing.T) {
	c := startCloudAPI(t, fakeprovider.CloudAPIOptions{})
	var rc receiver
	srv := rc.serve(t, "vt")

	if status, _, out := call(t, http.MethodPost, c.URL()+"/fake/inbound", "", `{"from":"15551234567","text":"hi"}`); status != 409 {
		t.Fatalf("inbound before a webhook: %d %v", status, out)
	}
	if _, _, out := call(t, http.MethodPost, c.URL()+"/fake/webhook", "", `{"url":"`+srv.URL+`","verifyToken":"bad"}`); out["verified"] != false {
		t.Fatalf("webhook with a wrong token: %v", out)
	}
	if _, _, out := call(t, http.MethodPost, c.URL()+"/fake/webhook", "", `{"url":"`+srv.URL+`","verifyToken":"vt"}`); out["verified"] != true {
		t.Fatalf("webhook: %v", out)
	}
	if status, _, out := call(t, http.MethodPost, c.URL()+"/fake/inbound", "", `{"from":"15551234567","name":"Ann","text":"hi"}`); status != 200 || out["status"] != float64(200) {
		t.Fatalf("inbound: %d %v", status, out)
	}
	for _, bad := range []string{`{"from":"ann","text":"hi"}`, `{"from":"1555"}`, `{"from":"1555","txt":"typo"}`, `[`} {
		if status, _, _ := call(t, http.MethodPost, c.URL()+"/fake/inbound", "", bad); status != 400 {
			t.Errorf("%s: %d, want 400", bad, status)
		}
	}
	big := `{"from":"15551234567","text":"` + strings.Repeat("x", 70<<10) + `"}`
	if status, _, _ := call(t, http.MethodPost, c.URL()+"/fake/inbound", "", big); status != 413 {
		t.Errorf("oversized control body: %d, want 413", status)
	}
	if status, _, _ := call(t, http.MethodPost, c.URL()+"/fake/fail", "", `{"status":503,"count":1,"retryAfterSeconds":3}`); status != 200 {
		t.Errorf("fail: %d", status)
	}
	if status, _, _ := call(t, http.MethodPost, c.URL()+"/fake/media", "", `{"id":"9","mimeType":"image/jpeg","data":"aGk="}`); status != 200 {
		t.Errorf("media: %d", status)
	}

	resp, err := http.Get(c.URL() + "/fake/messages")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(raw)) != "[]" {
		t.Errorf("messages before any send: %s", raw)
	}
}

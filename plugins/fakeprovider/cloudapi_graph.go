package fakeprovider

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits the fake holds senders to, as WhatsApp does.
const (
	cloudAPIMaxSendBody     = 1 << 20
	cloudAPIMaxBodyChars    = 4096
	cloudAPIMaxCaptionChars = 1024
)

var (
	cloudAPIVersionPattern   = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	cloudAPIRecipientPattern = regexp.MustCompile(`^\+?[0-9]{1,32}$`)
)

func (c *CloudAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/{phoneNumberID}/messages", c.handleSend)
	mux.HandleFunc("GET /{version}/{mediaID}", c.handleMediaLookup)
	mux.HandleFunc("GET /media/{mediaID}", c.handleMediaDownload)
	mux.HandleFunc("POST /fake/inbound", c.handleFakeInbound)
	mux.HandleFunc("POST /fake/webhook", c.handleFakeWebhook)
	mux.HandleFunc("POST /fake/media", c.handleFakeMedia)
	mux.HandleFunc("POST /fake/fail", c.handleFakeFail)
	mux.HandleFunc("GET /fake/messages", c.handleFakeMessages)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		cloudAPIWriteError(w, http.StatusBadRequest, 100, "Unknown path components: "+r.URL.Path, "")
	})
	return mux
}

// cloudAPISendBody is what the messages endpoint reads.
type cloudAPISendBody struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Text             *struct {
		PreviewURL bool   `json:"preview_url"`
		Body       string `json:"body"`
	} `json:"text"`
	Image    *cloudAPISendMedia `json:"image"`
	Video    *cloudAPISendMedia `json:"video"`
	Audio    *cloudAPISendMedia `json:"audio"`
	Document *cloudAPISendMedia `json:"document"`
	Sticker  *cloudAPISendMedia `json:"sticker"`
}

type cloudAPISendMedia struct {
	ID       string `json:"id"`
	Link     string `json:"link"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

// handleSend is POST /{version}/{phoneNumberId}/messages.
func (c *CloudAPI) handleSend(w http.ResponseWriter, r *http.Request) {
	if !c.graphPreamble(w, r) {
		return
	}
	if id := r.PathValue("phoneNumberID"); id != c.opts.PhoneNumberID {
		cloudAPIWriteError(w, http.StatusBadRequest, 100, cloudAPIMissingObject("post", id), "")
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cloudAPIMaxSendBody))
	if err != nil {
		cloudAPIWriteError(w, http.StatusRequestEntityTooLarge, 100, "(#100) Request body is too large", "")
		return
	}
	var b cloudAPISendBody
	if err := json.Unmarshal(raw, &b); err != nil {
		cloudAPIWriteError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "the body is not a JSON message object")
		return
	}
	msg, problem := cloudAPIReadSend(&b)
	if problem != "" {
		cloudAPIWriteError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", problem)
		return
	}
	msg.ID = cloudAPIMessageID()
	msg.Authorization = r.Header.Get("Authorization")
	msg.Body = raw
	msg.At = time.Now().UTC()

	c.mu.Lock()
	c.messages = append(c.messages, msg)
	c.notifyLocked()
	final := c.finalStatus
	report := c.webhookURL != "" && !c.closed
	if report {
		c.wg.Add(1)
	}
	c.mu.Unlock()
	if report {
		go c.reportStatuses(msg.ID, msg.To, final)
	}

	cloudAPIWriteJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": b.To, "wa_id": strings.TrimPrefix(b.To, "+")}},
		"messages":          []map[string]string{{"id": msg.ID}},
	})
}

// cloudAPIReadSend checks a send as the Cloud API would, and returns the
// message to record or what is wrong with it.
func cloudAPIReadSend(b *cloudAPISendBody) (CloudAPIMessage, string) {
	m := CloudAPIMessage{To: b.To, Type: b.Type}
	if m.Type == "" {
		m.Type = "text"
	}
	switch {
	case b.MessagingProduct != "whatsapp":
		return m, `messaging_product must be "whatsapp"`
	case b.RecipientType != "" && b.RecipientType != "individual":
		return m, `recipient_type must be "individual"`
	case !cloudAPIRecipientPattern.MatchString(b.To):
		return m, "to must be a phone number in international format"
	}
	if m.Type == "text" {
		if b.Text == nil || strings.TrimSpace(b.Text.Body) == "" {
			return m, "text.body is required"
		}
		if utf8.RuneCountInString(b.Text.Body) > cloudAPIMaxBodyChars {
			return m, fmt.Sprintf("text.body is longer than %d characters", cloudAPIMaxBodyChars)
		}
		m.Text, m.PreviewURL = b.Text.Body, b.Text.PreviewURL
		return m, ""
	}
	media := map[string]*cloudAPISendMedia{"image": b.Image, "video": b.Video, "audio": b.Audio, "document": b.Document, "sticker": b.Sticker}
	obj, known := media[m.Type]
	switch {
	case !known:
		return m, fmt.Sprintf("type %q is not one this fake accepts (text, image, video, audio, document, sticker)", m.Type)
	case obj == nil:
		return m, m.Type + " is required"
	case obj.ID == "" && obj.Link == "":
		return m, m.Type + ".link or " + m.Type + ".id is required"
	case obj.Caption != "" && (m.Type == "audio" || m.Type == "sticker"):
		return m, m.Type + " messages take no caption"
	case utf8.RuneCountInString(obj.Caption) > cloudAPIMaxCaptionChars:
		return m, fmt.Sprintf("%s.caption is longer than %d characters", m.Type, cloudAPIMaxCaptionChars)
	}
	if obj.Link != "" {
		u, err := url.Parse(obj.Link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return m, m.Type + ".link must be an http or https URL"
		}
	}
	m.MediaLink, m.Caption, m.Filename = obj.Link, obj.Caption, obj.Filename
	return m, ""
}

// handleMediaLookup is GET /{version}/{mediaId}: the media's URL and facts.
func (c *CloudAPI) handleMediaLookup(w http.ResponseWriter, r *http.Request) {
	if !c.graphPreamble(w, r) {
		return
	}
	id := r.PathValue("mediaID")
	if pn := r.URL.Query().Get("phone_number_id"); pn != "" && pn != c.opts.PhoneNumberID {
		cloudAPIWriteError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter", "the media does not belong to phone number "+pn)
		return
	}
	c.mu.Lock()
	m, ok := c.media[id]
	c.mu.Unlock()
	if !ok {
		cloudAPIWriteError(w, http.StatusBadRequest, 100, cloudAPIMissingObject("get", id), "")
		return
	}
	sum := sha256.Sum256(m.data)
	cloudAPIWriteJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"url":               "http://" + r.Host + "/media/" + url.PathEscape(id),
		"mime_type":         m.mimeType,
		"sha256":            hex.EncodeToString(sum[:]),
		"file_size":         len(m.data),
		"id":                id,
	})
}

// handleMediaDownload is GET /media/{mediaId}: the bytes, for a caller
// with the access token, as Meta's media URLs require.
func (c *CloudAPI) handleMediaDownload(w http.ResponseWriter, r *http.Request) {
	if !c.authorized(r) {
		cloudAPIWriteError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return
	}
	c.mu.Lock()
	m, ok := c.media[r.PathValue("mediaID")]
	c.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.mimeType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
	w.Write(m.data)
}

// graphPreamble does what every Graph call begins with: the version, the
// bearer token, then any failure the test asked for. It answers and
// returns false when the call ends there.
func (c *CloudAPI) graphPreamble(w http.ResponseWriter, r *http.Request) bool {
	if !cloudAPIVersionPattern.MatchString(r.PathValue("version")) {
		cloudAPIWriteError(w, http.StatusBadRequest, 100, "Unknown path components: "+r.URL.Path, "")
		return false
	}
	if !c.authorized(r) {
		cloudAPIWriteError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return false
	}
	c.mu.Lock()
	status, retryAfter := 0, time.Duration(0)
	if c.failLeft > 0 {
		c.failLeft--
		status, retryAfter = c.failStatus, c.failRetryAfter
	}
	c.mu.Unlock()
	if status == 0 {
		return true
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	code, message := cloudAPIFailure(status)
	cloudAPIWriteError(w, status, code, message, "failure programmed with FailNext")
	return false
}

// authorized checks "Authorization: Bearer <access token>".
func (c *CloudAPI) authorized(r *http.Request) bool {
	got := r.Header.Get("Authorization")
	want := "Bearer " + c.opts.AccessToken
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// cloudAPIFailure is the Cloud API error code and message a status most
// often comes with.
func cloudAPIFailure(status int) (int, string) {
	switch status {
	case http.StatusBadRequest:
		return 100, "(#100) Invalid parameter"
	case http.StatusUnauthorized:
		return 190, "Invalid OAuth access token - Cannot parse access token"
	case http.StatusForbidden:
		return 200, "(#200) Permissions error"
	case http.StatusNotFound:
		return 100, "(#100) The requested object does not exist"
	case http.StatusTooManyRequests:
		return 130429, "(#130429) Rate limit hit"
	case http.StatusInternalServerError:
		return 131000, "(#131000) Something went wrong"
	case http.StatusServiceUnavailable:
		return 131016, "(#131016) Service unavailable"
	}
	return 1, "(#1) An unknown error occurred"
}

func cloudAPIMissingObject(verb, id string) string {
	return fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", verb, id)
}

// cloudAPIWriteError writes a Graph API error body.
func cloudAPIWriteError(w http.ResponseWriter, status, code int, message, details string) {
	e := map[string]any{
		"message":    message,
		"type":       "OAuthException",
		"code":       code,
		"fbtrace_id": cloudAPITraceID(),
	}
	if details != "" {
		e["error_data"] = map[string]string{"messaging_product": "whatsapp", "details": details}
	}
	cloudAPIWriteJSON(w, status, map[string]any{"error": e})
}

func cloudAPIWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Limits on one webhook post. The hub bounds the body's size; these bound
// the work done on it and the size of what is stored.
const (
	maxChanges    = 1000 // changes, over all entries
	maxItems      = 1000 // messages and statuses, over all changes
	maxContacts   = 1000 // contacts of one change
	maxIDLen      = 256
	maxFromLen    = 64
	maxNameLen    = 256
	maxTextLen    = 64 << 10 // WhatsApp itself stops at 4096 characters
	maxSmallLen   = 1024     // file names, MIME types, error titles
	maxErrorLen   = 1024     // a status's error, as stored
	maxLatestUnix = 253402300799
)

// objectBusinessAccount is the only object WhatsApp webhooks carry.
const objectBusinessAccount = "whatsapp_business_account"

// handleNotification turns a verified webhook post into messages and
// statuses. Changes for another phone number are skipped: an app's webhook
// receives every number the app serves, and only this connection's number
// belongs here. A post with nothing for this number at all is refused, so
// that misrouted traffic shows in the event log.
func handleNotification(ctx context.Context, cfg *config, req *sdk.InboundRequest, media *mediaResolver) (*sdk.InboundResult, error) {
	n, err := decodeNotification(req.Body)
	if err != nil {
		return nil, err
	}
	if n.Object != objectBusinessAccount {
		return nil, sdk.Reject(sdk.ReasonUnsupported, "object %s is not %s", sdk.Quote(n.Object), objectBusinessAccount)
	}
	res := &sdk.InboundResult{Reply: &sdk.HTTPReply{Status: http.StatusOK}}
	var changes, items, ours int
	var foreign []string // the other phone number IDs seen
	for i, e := range n.Entry {
		for j, c := range e.Changes {
			if changes++; changes > maxChanges {
				return nil, sdk.InvalidField("entry", "entry: more than %d changes in one post", maxChanges)
			}
			if c.Field != "messages" || len(c.Value) == 0 {
				continue
			}
			path := fmt.Sprintf("entry[%d].changes[%d].value", i, j)
			v, err := decodeValue(path, c.Value)
			if err != nil {
				return nil, err
			}
			if v.Metadata.PhoneNumberID != cfg.PhoneNumberID {
				foreign = append(foreign, v.Metadata.PhoneNumberID)
				continue
			}
			ours++
			if items += len(v.Messages) + len(v.Statuses); items > maxItems {
				return nil, sdk.InvalidField(path+".messages", "%s: more than %d messages and statuses in one post", path, maxItems)
			}
			if len(v.Contacts) > maxContacts {
				return nil, sdk.InvalidField(path+".contacts", "%s.contacts: more than %d contacts", path, maxContacts)
			}
			p := &changeParser{path: path, value: v, receivedAt: req.ReceivedAt, media: media}
			if err := p.parse(ctx, res); err != nil {
				return nil, err
			}
		}
	}
	if ours == 0 && len(foreign) > 0 {
		return nil, sdk.Reject(sdk.ReasonUnsupported, "the post is for phone number ID %s, not this connection's", sdk.Quote(foreign[0]))
	}
	return res, nil
}

func decodeNotification(body []byte) (*notification, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, sdk.InvalidField("body", "body must be a JSON object")
	}
	if err := sdk.CheckJSONText(body); err != nil {
		return nil, err
	}
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, decodeError("", err)
	}
	return &n, nil
}

func decodeValue(path string, raw json.RawMessage) (*changeValue, error) {
	var v changeValue
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, decodeError(path, err)
	}
	return &v, nil
}

// decodeError names the field a decoding error is about, as far as the
// decoder says (it gives the path without array indexes).
func decodeError(prefix string, err error) error {
	join := func(field string) string {
		switch {
		case prefix == "":
			return field
		case field == "":
			return prefix
		}
		return prefix + "." + field
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := join(typeErr.Field)
		if field == "" {
			field = "body"
		}
		return sdk.InvalidField(field, "%s must not be a JSON %s", field, typeErr.Value)
	}
	if errors.Is(err, errNotScalar) {
		field := join("")
		if field == "" {
			field = "body"
		}
		return sdk.InvalidField(field, "%s: a timestamp must be a string or a number", field)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return sdk.InvalidField(join("body"), "%s is not valid JSON at byte %d", join("body"), syntaxErr.Offset)
	}
	return sdk.InvalidField(join("body"), "%s is not a WhatsApp notification", join("body"))
}

// changeParser turns one change's messages and statuses into results.
type changeParser struct {
	path       string
	value      *changeValue
	receivedAt time.Time
	media      *mediaResolver
}

func (p *changeParser) parse(ctx context.Context, res *sdk.InboundResult) error {
	sender, err := textField(p.path+".metadata.display_phone_number", p.value.Metadata.DisplayPhoneNumber, maxFromLen)
	if err != nil {
		return err
	}
	sender = digits(sender)
	for k := range p.value.Messages {
		m, ok, err := p.message(ctx, k)
		if err != nil {
			return err
		}
		if ok {
			m.Sender = sender
			res.Messages = append(res.Messages, m)
		}
	}
	for k := range p.value.Statuses {
		st, ok, err := p.status(k)
		if err != nil {
			return err
		}
		if ok {
			res.Statuses = append(res.Statuses, st)
		}
	}
	return nil
}

// message normalises one contact message. ok is false for one that carries
// nothing for a conversation (a system notice, a withdrawn reaction).
func (p *changeParser) message(ctx context.Context, k int) (m sdk.InboundMessage, ok bool, err error) {
	wm := &p.value.Messages[k]
	path := fmt.Sprintf("%s.messages[%d]", p.path, k)
	if m.ExternalID, err = idField(path+".id", wm.ID, maxIDLen); err != nil {
		return m, false, err
	}
	from, err := idField(path+".from", wm.From, maxFromLen)
	if err != nil {
		return m, false, err
	}
	m.ThreadExternalID = from
	m.From = sdk.Contact{ExternalID: from}
	if digits(from) == from {
		m.From.Phone = from
	}
	if i := p.contactOf(from); i >= 0 {
		field := fmt.Sprintf("%s.contacts[%d].profile.name", p.path, i)
		if m.From.Name, err = textField(field, p.value.Contacts[i].Profile.Name, maxNameLen); err != nil {
			return m, false, err
		}
	}
	if m.SentAt, err = unixField(path+".timestamp", wm.Timestamp, p.receivedAt); err != nil {
		return m, false, err
	}
	m.ContentType = "text"
	m.Event = sdk.EventMessage

	typ, err := textField(path+".type", wm.Type, 64)
	if err != nil {
		return m, false, err
	}
	switch typ {
	case "text":
		if wm.Text == nil {
			return m, false, sdk.InvalidField(path+".text.body", "%s.text.body is required for a text message", path)
		}
		if m.Content, err = textField(path+".text.body", wm.Text.Body, maxTextLen); err != nil {
			return m, false, err
		}
	case "image", "video", "audio", "document", "sticker":
		if err := p.mediaMessage(ctx, &m, path, typ, wm); err != nil {
			return m, false, err
		}
	case "system":
		return m, false, nil
	default:
		content, keep, err := describe(path, typ, wm)
		if err != nil || !keep {
			return m, false, err
		}
		m.Content = content
	}
	return m, true, nil
}

// contactOf is the index of the message sender's entry in the change's
// contacts, which holds their profile name: the one with the sender's
// wa_id, or the only one; -1 when there is none.
func (p *changeParser) contactOf(from string) int {
	for i, c := range p.value.Contacts {
		if c.WaID == from {
			return i
		}
	}
	if len(p.value.Contacts) == 1 {
		return 0
	}
	return -1
}

// mediaMessage fills in a media message: its caption as content (or a short
// description when there is none) and the media's URL, looked up by its ID.
func (p *changeParser) mediaMessage(ctx context.Context, m *sdk.InboundMessage, path, typ string, wm *waMessage) error {
	obj := map[string]*waMedia{"image": wm.Image, "video": wm.Video, "audio": wm.Audio, "document": wm.Document, "sticker": wm.Sticker}[typ]
	if obj == nil {
		return sdk.InvalidField(path+"."+typ, "%s.%s is required for a %s message", path, typ, typ)
	}
	mpath := path + "." + typ
	id, err := idField(mpath+".id", obj.ID, maxIDLen)
	if err != nil {
		return err
	}
	caption, err := textField(mpath+".caption", obj.Caption, maxTextLen)
	if err != nil {
		return err
	}
	filename, err := textField(mpath+".filename", obj.Filename, maxSmallLen)
	if err != nil {
		return err
	}
	if _, err := textField(mpath+".mime_type", obj.MimeType, maxSmallLen); err != nil {
		return err
	}
	m.MediaCaption = caption
	m.Content = caption
	if caption == "" {
		m.Content = "[" + typ + "]"
		if filename != "" {
			m.Content = "[" + typ + ": " + filename + "]"
		}
	}
	m.MediaURL, err = p.media.resolve(ctx, mpath+".id", id)
	return err
}

// describe words a message type the hub has no field for, so that agents
// see that something arrived. keep is false for a withdrawn reaction.
func describe(path, typ string, wm *waMessage) (content string, keep bool, err error) {
	var parts []string
	switch {
	case typ == "location" && wm.Location != nil:
		l := wm.Location
		parts = append(parts, "[location]", l.Name, l.Address,
			"("+strconv.FormatFloat(l.Latitude, 'f', -1, 64)+", "+strconv.FormatFloat(l.Longitude, 'f', -1, 64)+")")
	case typ == "contacts":
		parts = append(parts, "[contact]")
		for i, c := range wm.Contacts {
			if i == 5 {
				parts = append(parts, "…")
				break
			}
			parts = append(parts, c.Name.FormattedName)
			for _, ph := range c.Phones {
				parts = append(parts, ph.Phone)
			}
		}
	case typ == "interactive" && wm.Interactive != nil:
		switch r := wm.Interactive; {
		case r.ButtonReply != nil:
			parts = append(parts, r.ButtonReply.Title)
		case r.ListReply != nil:
			parts = append(parts, r.ListReply.Title)
		default:
			parts = append(parts, "[interactive reply]")
		}
	case typ == "button" && wm.Button != nil:
		parts = append(parts, wm.Button.Text)
	case typ == "reaction" && wm.Reaction != nil:
		if wm.Reaction.Emoji == "" {
			return "", false, nil
		}
		parts = append(parts, "[reaction]", wm.Reaction.Emoji)
	case typ == "order" && wm.Order != nil:
		parts = append(parts, "[order]", wm.Order.Text)
	default:
		parts = append(parts, "["+typeLabel(typ)+" message]")
	}
	var kept []string
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			kept = append(kept, s)
		}
	}
	content = strings.Join(kept, " ")
	if content == "" {
		content = "[" + typeLabel(typ) + " message]"
	}
	if content, err = textField(path, content, maxTextLen); err != nil {
		return "", false, err
	}
	return content, true, nil
}

// typeLabel is a message type as it may appear in content: lower-case
// letters and underscores, or "unknown".
func typeLabel(typ string) string {
	if typ == "" || len(typ) > 32 {
		return "unknown"
	}
	for i := 0; i < len(typ); i++ {
		if c := typ[i]; (c < 'a' || c > 'z') && c != '_' {
			return "unknown"
		}
	}
	return typ
}

// Statuses WhatsApp reports, and the hub's names for them. "read" is
// delivered as far as the hub is concerned; others ("deleted", "warning")
// say nothing about delivery and are skipped.
var statusMap = map[string]string{
	"sent":      sdk.StatusSent,
	"delivered": sdk.StatusDelivered,
	"read":      sdk.StatusDelivered,
	"failed":    sdk.StatusFailed,
}

func (p *changeParser) status(k int) (st sdk.StatusUpdate, ok bool, err error) {
	ws := &p.value.Statuses[k]
	path := fmt.Sprintf("%s.statuses[%d]", p.path, k)
	if st.ExternalID, err = idField(path+".id", ws.ID, maxIDLen); err != nil {
		return st, false, err
	}
	if st.At, err = unixField(path+".timestamp", ws.Timestamp, p.receivedAt); err != nil {
		return st, false, err
	}
	name, err := textField(path+".status", ws.Status, 64)
	if err != nil {
		return st, false, err
	}
	if st.Status, ok = statusMap[name]; !ok {
		return st, false, nil
	}
	if st.Status == sdk.StatusFailed {
		st.Error = "failed without a reason"
		if len(ws.Errors) > 0 {
			e := ws.Errors[0]
			epath := path + ".errors[0]"
			for _, f := range []struct{ name, v string }{{"title", e.Title}, {"message", e.Message}, {"error_data.details", e.ErrorData.Details}} {
				if err := sdk.CheckText(epath+"."+f.name, f.v); err != nil {
					return st, false, err
				}
			}
			st.Error = statusError(e)
		}
	}
	return st, true, nil
}

// statusError is "<code>: <title>", with the details when there are some,
// cut to a bounded length.
func statusError(e waError) string {
	reason := strings.TrimSpace(e.Title)
	if reason == "" {
		reason = strings.TrimSpace(e.Message)
	}
	if reason == "" {
		reason = "no reason given"
	}
	s := strconv.Itoa(e.Code) + ": " + reason
	if d := strings.TrimSpace(e.ErrorData.Details); d != "" && d != reason {
		s += " (" + d + ")"
	}
	return clip(s, maxErrorLen)
}

// idField is a required identifier: printable ASCII without spaces.
func idField(field, v string, max int) (string, error) {
	if err := sdk.CheckText(field, v); err != nil {
		return "", err
	}
	switch {
	case v == "":
		return "", sdk.InvalidField(field, "%s is required", field)
	case len(v) > max:
		return "", sdk.InvalidField(field, "%s is longer than %d bytes", field, max)
	case !printableASCII(v):
		return "", sdk.InvalidField(field, "%s %s must be printable ASCII without spaces", field, sdk.Quote(v))
	}
	return v, nil
}

// textField is an optional text: valid UTF-8 without NUL, bounded.
func textField(field, v string, max int) (string, error) {
	if err := sdk.CheckText(field, v); err != nil {
		return "", err
	}
	if len(v) > max {
		return "", sdk.InvalidField(field, "%s is longer than %d bytes", field, max)
	}
	return v, nil
}

// unixField reads a timestamp in Unix seconds; a missing one is the time
// the hub received the post.
func unixField(field string, v scalar, receivedAt time.Time) (time.Time, error) {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return receivedAt.UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > maxLatestUnix {
		return time.Time{}, sdk.InvalidField(field, "%s %s is not a Unix time in seconds", field, sdk.Quote(s))
	}
	return time.Unix(n, 0).UTC(), nil
}

// digits keeps the digits of a phone number: "+1 555-0100" is "15550100".
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

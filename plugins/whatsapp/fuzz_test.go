package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// FuzzHandleInbound feeds arbitrary bodies, signed or not, to the plugin,
// with a fake Cloud API behind it for media lookups. It never panics; an
// unsigned body is always refused as a bad signature; a signed one is
// refused with a message, fails only on a media lookup, or gives messages
// and statuses whose fields are valid text within their limits. No answer
// repeats a secret.
func FuzzHandleInbound(f *testing.F) {
	fake := fakeprovider.NewCloudAPI(fakeprovider.CloudAPIOptions{})
	if err := fake.Listen(""); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { fake.Close() })
	fake.AddMedia("42", "image/jpeg", []byte("jpeg"))
	o := fake.Options()
	config, _ := json.Marshal(map[string]string{
		"phoneNumberId": o.PhoneNumberID, "accessToken": o.AccessToken, "appSecret": o.AppSecret,
		"verifyToken": testVerifyToken, "baseUrl": fake.URL(),
	})
	secrets := []string{o.AccessToken, o.AppSecret, testVerifyToken}

	head := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"+1 555 0100","phone_number_id":"` + o.PhoneNumberID + `"},`
	tail := `}}]}]}`
	for _, seed := range []string{
		head + `"contacts":[{"profile":{"name":"Ann"},"wa_id":"15551234567"}],"messages":[{"from":"15551234567","id":"wamid.1","timestamp":"1750857384","type":"text","text":{"body":"hi"}}]` + tail,
		head + `"messages":[{"from":"1","id":"wamid.2","timestamp":1,"type":"image","image":{"id":"42","caption":"c"}},{"from":"1","id":"wamid.3","timestamp":"1","type":"document","document":{"id":"7","filename":"a.pdf"}}]` + tail,
		head + `"statuses":[{"id":"wamid.4","status":"failed","timestamp":"1","errors":[{"code":131026,"title":"Message undeliverable","error_data":{"details":"d"}}]},{"id":"wamid.5","status":"read","timestamp":"2"}]` + tail,
		head + `"messages":[{"from":"1","id":"wamid.6","type":"location","location":{"latitude":1.5,"longitude":-2,"name":"N"}},{"from":"1","id":"wamid.7","type":"reaction","reaction":{"emoji":""}}]` + tail,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"9"},"messages":[{}]}}]}]}`,
		`{"object":"page","entry":[]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":[]}]}]}`,
		`[]`,
		"",
	} {
		f.Add([]byte(seed), true)
	}
	f.Add([]byte(`{"object":"whatsapp_business_account"}`), false)

	w := &WhatsApp{}
	f.Fuzz(func(t *testing.T, body []byte, sign bool) {
		h := http.Header{}
		if sign {
			h.Set(SignatureHeader, fakeprovider.CloudAPISignature(o.AppSecret, body))
		} else {
			h.Set(SignatureHeader, fakeprovider.CloudAPISignature("not the app secret", body))
		}
		res, err := w.HandleInbound(t.Context(), &sdk.InboundRequest{
			Method: http.MethodPost, URL: "https://hub.example/api/webhooks/whatsapp/c", Header: h, Body: body,
			Config: config, ReceivedAt: testReceivedAt, AllowPrivate: true,
		})
		if err != nil {
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error repeats a secret: %v", err)
				}
			}
			var rej *sdk.RejectError
			switch {
			case errors.As(err, &rej):
				if rej.Message == "" || !utf8.ValidString(rej.Message) || !utf8.ValidString(rej.Field) {
					t.Fatalf("rejection without a valid message: %+v", rej)
				}
				if !sign && rej.Reason != sdk.ReasonBadSignature {
					t.Fatalf("unsigned body refused for %v, not its signature", rej.Reason)
				}
			case !strings.Contains(err.Error(), "look up media"):
				t.Fatalf("plugin failure that is not a media lookup: %v", err)
			}
			return
		}
		if !sign {
			t.Fatal("a body with a wrong signature was accepted")
		}
		if res.Reply == nil || res.Reply.Status != http.StatusOK {
			t.Fatalf("reply %+v", res.Reply)
		}
		if len(res.Messages)+len(res.Statuses) > maxItems {
			t.Fatalf("%d messages and %d statuses", len(res.Messages), len(res.Statuses))
		}
		for _, m := range res.Messages {
			for name, v := range map[string]string{
				"id": m.ExternalID, "thread": m.ThreadExternalID, "from": m.From.ExternalID, "name": m.From.Name,
				"phone": m.From.Phone, "content": m.Content, "caption": m.MediaCaption, "url": m.MediaURL, "sender": m.Sender,
			} {
				if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
					t.Fatalf("%s is not valid text: %q", name, v)
				}
			}
			if m.ExternalID == "" || m.ThreadExternalID == "" || len(m.ExternalID) > maxIDLen || len(m.ThreadExternalID) > maxFromLen ||
				len(m.From.Name) > maxNameLen || len(m.Content) > maxTextLen {
				t.Fatalf("message out of bounds: %+v", m)
			}
			if m.ContentType != "text" || m.Event != sdk.EventMessage || m.SentAt.IsZero() || m.SentAt.Location() != time.UTC {
				t.Fatalf("message %+v", m)
			}
			if m.MediaURL != "" {
				if u, err := url.Parse(m.MediaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
					t.Fatalf("media URL %q", m.MediaURL)
				}
			}
		}
		for _, st := range res.Statuses {
			if st.ExternalID == "" || !utf8.ValidString(st.Error) || len(st.Error) > maxErrorLen+len("…") {
				t.Fatalf("status %+v", st)
			}
			switch st.Status {
			case sdk.StatusSent, sdk.StatusDelivered, sdk.StatusFailed:
			default:
				t.Fatalf("status %q", st.Status)
			}
		}
	})
}

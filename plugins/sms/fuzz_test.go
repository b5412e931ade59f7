package main

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// FuzzHandleInbound feeds arbitrary form bodies, content types and URLs to
// the plugin. It never panics; an unsigned request is always refused; a
// signed one is either refused as the sender's fault or yields at most one
// message or status update, whose fields are valid text within their limits.
func FuzzHandleInbound(f *testing.F) {
	f.Add([]byte("MessageSid=SM1&From=%2B15550001111&To=%2B15550002222&Body=hi&NumMedia=0&SmsStatus=received"),
		"application/x-www-form-urlencoded", "", true)
	f.Add([]byte("MessageSid=MM1&From=%2B1&To=%2B2&Body=&NumMedia=1&MediaUrl0=https%3A%2F%2Fm.example%2F1"),
		"application/x-www-form-urlencoded; charset=utf-8", "?a=1&b=2", true)
	f.Add([]byte("MessageSid=SM1&MessageStatus=undelivered&SmsStatus=undelivered&ErrorCode=30003"),
		"application/x-www-form-urlencoded", "", true)
	f.Add([]byte("MessageSid=SM1&From=%2B1&To=%2B2&Body=a%00b"), "application/x-www-form-urlencoded", "", true)
	f.Add([]byte("MessageSid=SM1&From=%2B1&To=%2B2&Body=%FF&NumMedia=99"), "application/x-www-form-urlencoded", "", true)
	f.Add([]byte("%zz&;;=="), "application/x-www-form-urlencoded", "", true)
	f.Add([]byte("MessageSid=SM1&From=%2B1&To=%2B2&Body=hi"), "application/x-www-form-urlencoded", "", false)
	f.Add([]byte(`{"Body":"hi"}`), "application/json", "", true)

	f.Fuzz(func(t *testing.T, body []byte, contentType, query string, sign bool) {
		target := testHookURL + query
		header := http.Header{"Content-Type": {contentType}}
		if sign {
			if form, err := url.ParseQuery(string(body)); err == nil {
				header.Set(signatureHeader, signature(testAuthToken, target, form))
			}
		}
		res, err := (&SMS{}).HandleInbound(t.Context(), &sdk.InboundRequest{
			Method: http.MethodPost, URL: target, Header: header, Body: body,
			Config: providerConfig(t, testAccountSID, testAuthToken, ""), ReceivedAt: received,
		})
		if err != nil {
			var rej *sdk.RejectError
			if !errors.As(err, &rej) {
				t.Fatalf("error %T %v is not a rejection", err, err)
			}
			if rej.Message == "" || !utf8.ValidString(rej.Message) || strings.Contains(rej.Message, testAuthToken) {
				t.Fatalf("rejection message %q", rej.Message)
			}
			if rej.Reason == sdk.ReasonInvalidPayload && rej.Field == "" {
				t.Fatalf("invalid payload without a field: %q", rej.Message)
			}
			return
		}
		if header.Get(signatureHeader) == "" {
			t.Fatal("an unsigned request was accepted")
		}
		if len(res.Messages)+len(res.Statuses) > 1 || res.Reply == nil {
			t.Fatalf("result %+v", res)
		}
		for _, m := range res.Messages {
			for name, v := range map[string]string{"MessageSid": m.ExternalID, "From": m.From.ExternalID, "To": m.Sender,
				"Body": m.Content, "MediaUrl0": m.MediaURL} {
				if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
					t.Fatalf("%s is not valid text: %q", name, v)
				}
			}
			if strings.TrimSpace(m.ExternalID) == "" || strings.TrimSpace(m.From.ExternalID) == "" || strings.TrimSpace(m.Sender) == "" {
				t.Fatalf("a required field is blank: %+v", m)
			}
			if utf8.RuneCountInString(m.Content) > maxBodyChars || len(m.ExternalID) > maxSIDLen*4 || m.Content == "" && m.MediaURL == "" {
				t.Fatalf("message out of bounds: %+v", m)
			}
		}
		for _, s := range res.Statuses {
			switch s.Status {
			case sdk.StatusQueued, sdk.StatusSent, sdk.StatusDelivered, sdk.StatusFailed:
			default:
				t.Fatalf("status %q", s.Status)
			}
			if !utf8.ValidString(s.Error) || strings.IndexByte(s.Error, 0) >= 0 || (s.Status == sdk.StatusFailed) != (s.Error != "") {
				t.Fatalf("status update %+v", s)
			}
		}
	})
}

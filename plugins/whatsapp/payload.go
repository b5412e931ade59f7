package main

import (
	"bytes"
	"encoding/json"
	"errors"
)

// The webhook body, as far as the plugin reads it. Meta adds fields over
// time; unknown ones are ignored.

type notification struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID      string   `json:"id"`
	Changes []change `json:"changes"`
}

// change keeps its value raw: only "messages" changes are decoded, since
// other fields (account updates, template reviews) have other shapes.
type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type changeValue struct {
	MessagingProduct string `json:"messaging_product"`
	Metadata         struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []waContact `json:"contacts"`
	Messages []waMessage `json:"messages"`
	Statuses []waStatus  `json:"statuses"`
}

type waContact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}

type waMessage struct {
	From      string   `json:"from"`
	ID        string   `json:"id"`
	Timestamp scalar   `json:"timestamp"`
	Type      string   `json:"type"`
	Text      *waText  `json:"text"`
	Image     *waMedia `json:"image"`
	Video     *waMedia `json:"video"`
	Audio     *waMedia `json:"audio"`
	Document  *waMedia `json:"document"`
	Sticker   *waMedia `json:"sticker"`
	Location  *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
	Contacts []struct {
		Name struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
		Phones []struct {
			Phone string `json:"phone"`
		} `json:"phones"`
	} `json:"contacts"`
	Interactive *struct {
		Type        string   `json:"type"`
		ButtonReply *waReply `json:"button_reply"`
		ListReply   *waReply `json:"list_reply"`
	} `json:"interactive"`
	Button *struct {
		Text string `json:"text"`
	} `json:"button"`
	Reaction *struct {
		Emoji string `json:"emoji"`
	} `json:"reaction"`
	Order *struct {
		Text string `json:"text"`
	} `json:"order"`
}

type waText struct {
	Body string `json:"body"`
}

type waMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type waReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type waStatus struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	Timestamp   scalar    `json:"timestamp"`
	RecipientID string    `json:"recipient_id"`
	Errors      []waError `json:"errors"`
}

type waError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// scalar is a JSON string or number kept as its text: Meta writes
// timestamps as strings, some relays as numbers.
type scalar string

var errNotScalar = errors.New("must be a string or a number")

// UnmarshalJSON accepts a string, a number or null.
func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errNotScalar
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*s = scalar(b)
	default:
		return errNotScalar
	}
	return nil
}

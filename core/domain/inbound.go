package domain

import "time"

// InboundMessage is a message a plugin normalised, ready to be threaded.
type InboundMessage struct {
	ExternalID       string
	ThreadExternalID string
	From             Contact
	Content          string
	ContentType      string
	Subject          string
	SentAt           time.Time
	Event            string
	MediaURL         string
	MediaCaption     string
	Sender           string
}

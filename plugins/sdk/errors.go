package sdk

import (
	"fmt"
	"time"
)

// Reason says why a plugin refused an inbound request.
type Reason int

// Reasons for refusing an inbound request.
const (
	ReasonInvalidPayload Reason = iota + 1
	ReasonBadSignature
	ReasonUnsupported
	// ReasonBadConfig: the integration's or connection's configuration is
	// not one the plugin can use. The request is refused, not kept for
	// another try: trying again would fail the same way.
	ReasonBadConfig
)

func (r Reason) String() string {
	switch r {
	case ReasonInvalidPayload:
		return "invalid payload"
	case ReasonBadSignature:
		return "bad signature"
	case ReasonUnsupported:
		return "unsupported"
	case ReasonBadConfig:
		return "bad config"
	}
	return "unknown"
}

// RejectError is a refusal caused by the request, not a plugin failure.
// The hub records it in the integration's event log.
type RejectError struct {
	Reason Reason
	// Field names the offending field in the payload's own notation.
	Field   string
	Message string
}

func (e *RejectError) Error() string { return e.Message }

// Reject refuses an inbound request.
func Reject(reason Reason, format string, args ...any) error {
	return &RejectError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// InvalidField refuses an inbound request because of one field. The message
// should name the field, e.g. InvalidField("content", "content is required").
func InvalidField(field, format string, args ...any) error {
	return &RejectError{Reason: ReasonInvalidPayload, Field: field, Message: fmt.Sprintf(format, args...)}
}

// BadConfig refuses a request, or a send, because the configuration the hub
// passed cannot be used. Say which setting, never its value.
func BadConfig(format string, args ...any) error {
	return &RejectError{Reason: ReasonBadConfig, Message: fmt.Sprintf(format, args...)}
}

// BadSetting refuses settings because of one of them; field is its path in
// the settings, e.g. "token". Say what is wrong, never the value.
func BadSetting(field, format string, args ...any) error {
	return &RejectError{Reason: ReasonBadConfig, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ProviderError is a failure reported by the provider a plugin talks to, as
// opposed to a failure of the plugin itself.
type ProviderError struct {
	StatusCode int
	// Retryable says whether sending again later may succeed.
	Retryable bool
	Message   string
	// RetryAfter is how long the provider asked to wait, if it said.
	RetryAfter time.Duration
}

func (e *ProviderError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("provider answered %d: %s", e.StatusCode, e.Message)
	}
	return "provider: " + e.Message
}

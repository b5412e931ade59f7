package sdk

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"code.dny.dev/ssrf"
)

// ProviderTimeout bounds one call a ProviderClient makes.
const ProviderTimeout = 15 * time.Second

// ErrPrivateAddress refuses a provider call to a loopback, private or other
// special-purpose address: an admin's baseUrl must not reach the hub's own
// network unless the hub allows it (--allow-private-targets).
var ErrPrivateAddress = errors.New("provider address is loopback, private or special-purpose; start the hub with --allow-private-targets to allow it")

// ProviderClient returns an HTTP client for calling a provider. It never
// follows redirects and, unless allowPrivate (the request's AllowPrivate),
// refuses to connect to any address outside the public internet, checked
// at dial time so a name that resolves inward is refused too.
func ProviderClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		guard := ssrf.New(ssrf.WithAnyPort())
		dialer.Control = func(network, address string, c syscall.RawConn) error {
			if err := guard.Safe(network, address, c); err != nil {
				return ErrPrivateAddress
			}
			return nil
		}
	}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   ProviderTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// maxProviderMessage bounds the provider's words kept in an error.
const maxProviderMessage = 512

// ProviderResponseError turns a provider's non-2xx answer into a
// *ProviderError: retryable for 429 and 5xx, with Retry-After honoured;
// permanent otherwise. reason is the provider's own explanation, taken
// from its body by the caller; it is cut to a bounded length.
func ProviderResponseError(resp *http.Response, reason string) *ProviderError {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = http.StatusText(resp.StatusCode)
	}
	if len(reason) > maxProviderMessage {
		n := maxProviderMessage
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n] + "…"
	}
	e := &ProviderError{StatusCode: resp.StatusCode, Message: reason}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		e.Retryable = true
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// ProviderNetworkError is a call that never got an answer: retryable,
// unless the address was refused.
func ProviderNetworkError(err error) *ProviderError {
	if errors.Is(err, ErrPrivateAddress) {
		return &ProviderError{Message: ErrPrivateAddress.Error()}
	}
	var uerr interface{ Unwrap() error }
	if errors.As(err, &uerr) {
		if inner := uerr.Unwrap(); inner != nil {
			err = inner
		}
	}
	return &ProviderError{Retryable: true, Message: fmt.Sprintf("request failed: %v", err)}
}

// ReadProviderBody reads at most limit bytes of a provider's answer and
// discards the rest.
func ReadProviderBody(r io.Reader, limit int64) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, limit))
	io.Copy(io.Discard, io.LimitReader(r, 1<<20))
	return b
}

// maxRetryAfter caps how long a provider may ask the hub to wait.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		return min(time.Duration(n)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d <= 0 {
			return 0
		}
		return min(d, maxRetryAfter)
	}
	return 0
}

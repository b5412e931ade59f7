package delivery

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrPrivateTarget refuses a delivery to a loopback, private or link-local address.
var ErrPrivateTarget = errors.New("target address is private, loopback or link-local; start the hub with --allow-private-targets to allow it")

// NewHTTPClient returns the client deliveries are sent with. Unless
// allowPrivate, it refuses private addresses at connect time, which covers
// DNS answers and every redirect, not just the URL as written.
func NewHTTPClient(allowPrivate bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return err
			}
			if IsPrivate(ip) {
				return ErrPrivateTarget
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			return CheckURL(req.URL, allowPrivate)
		},
	}
}

// IsPrivate reports addresses deliveries may not reach by default.
func IsPrivate(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() ||
		cgnat.Contains(ip)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// CheckURL validates a target URL before any connection: an absolute http(s)
// URL, https unless private targets are allowed, and no literal private IP.
func CheckURL(u *url.URL, allowPrivate bool) error {
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("url scheme must be https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("url has no host")
	}
	if allowPrivate {
		return nil
	}
	if u.Scheme != "https" {
		return errors.New("url must use https; plain http is allowed only with --allow-private-targets")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && IsPrivate(ip) {
		return ErrPrivateTarget
	}
	if u.Hostname() == "localhost" {
		return ErrPrivateTarget
	}
	return nil
}

// ValidateTarget parses and checks a target URL as an admin typed it.
func ValidateTarget(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	return CheckURL(u, allowPrivate)
}

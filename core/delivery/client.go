package delivery

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// NewHTTPClient returns the client deliveries are sent with. The guard runs
// on every address it connects to, which covers DNS answers, not just the URL
// as written. It never follows a redirect: a 3xx answer is returned as it is,
// and the attempt fails (see Worker), so no request, nor any header the
// target's auth put on it, goes where the admin did not point it.
func NewHTTPClient(g *Guard, timeout time.Duration) *http.Client {
	return newHTTPClient(g, timeout, nil)
}

// newHTTPClient is NewHTTPClient with a resolver of the test's own.
func newHTTPClient(g *Guard, timeout time.Duration, resolver *net.Resolver) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Resolver: resolver}
	if !g.AllowsPrivate() {
		dialer.Control = g.control
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
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// withoutResolver drops the name server from a DNS error ("lookup x on
// 10.0.0.53:53: no such host" becomes "lookup x: no such host"): an
// attempt's error is shown to the workspace, the hub's network is not.
func withoutResolver(err error) error {
	var de *net.DNSError
	if !errors.As(err, &de) || de.Server == "" {
		return err
	}
	clean := *de
	clean.Server = ""
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err == error(de) {
		op := *oe
		op.Err = &clean
		return &op
	}
	return &clean
}

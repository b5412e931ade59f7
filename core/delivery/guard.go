package delivery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// ErrPrivateTarget refuses a delivery to an address outside the public
// internet: loopback, private, link-local, any other special-purpose range,
// or an address of the hub's own host.
var ErrPrivateTarget = errors.New("target address is loopback, private, special-purpose or the hub's own; start the hub with --allow-private-targets to allow it")

// localAddrsMaxAge is how long the host's own addresses are trusted before
// they are read again, so an address gained after start is refused too.
const localAddrsMaxAge = time.Minute

// Guard decides which addresses deliveries may reach. It is asked twice:
// when a target URL is saved (the URL as written) and when a connection is
// made (every address the name resolves to, at that moment), so a name that
// later resolves elsewhere is refused as surely as a literal address.
//
// The special-purpose ranges are those of the IANA IPv4 and IPv6
// special-purpose registries, kept by code.dny.dev/ssrf: for IPv6, anything
// outside global unicast 2000::/3 (which takes in IPv4-mapped and
// IPv4-compatible addresses, NAT64 64:ff9b::/96, fec0::/10, fc00::/7,
// fe80::/10, multicast) and the special ranges inside it, such as 6to4
// 2002::/16 and documentation.
type Guard struct {
	allowPrivate bool
	special      *ssrf.Guardian

	local      atomic.Pointer[localAddrs]
	refreshing sync.Mutex
	// interfaceAddrs lists the host's addresses; tests replace it.
	interfaceAddrs func() ([]net.Addr, error)
}

type localAddrs struct {
	set  map[netip.Addr]bool
	read time.Time
}

// NewGuard returns a guard; with allowPrivate it lets every address through
// (the --allow-private-targets switch). It reads the host's addresses once
// now and again when they are older than a minute.
func NewGuard(allowPrivate bool) *Guard {
	g := &Guard{
		allowPrivate:   allowPrivate,
		special:        ssrf.New(ssrf.WithAnyPort()),
		interfaceAddrs: net.InterfaceAddrs,
	}
	if !allowPrivate {
		g.RefreshLocalAddrs()
	}
	return g
}

// AllowsPrivate reports whether the guard lets every address through.
func (g *Guard) AllowsPrivate() bool { return g.allowPrivate }

// RefreshLocalAddrs reads the host's interface addresses again. On failure
// the addresses read before stay in force.
func (g *Guard) RefreshLocalAddrs() error {
	addrs, err := g.interfaceAddrs()
	if err != nil {
		return fmt.Errorf("delivery: read interface addresses: %w", err)
	}
	set := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		}
		if addr, ok := netip.AddrFromSlice(ip); ok {
			set[addr.Unmap()] = true
		}
	}
	g.local.Store(&localAddrs{set: set, read: time.Now()})
	return nil
}

// isLocal reports whether ip is one of the host's own addresses, reading
// them again when they are old. Only one caller reads at a time; the others
// use the addresses already read.
func (g *Guard) isLocal(ip netip.Addr) bool {
	if cur := g.local.Load(); cur == nil || time.Since(cur.read) > localAddrsMaxAge {
		if g.refreshing.TryLock() {
			g.RefreshLocalAddrs() // on error the old addresses stay
			g.refreshing.Unlock()
		}
	}
	cur := g.local.Load()
	return cur != nil && cur.set[ip.WithZone("").Unmap()]
}

// CheckAddr refuses an address deliveries may not reach.
func (g *Guard) CheckAddr(ip netip.Addr) error {
	if g.allowPrivate {
		return nil
	}
	if err := g.special.SafeAddr(ip); err != nil {
		return fmt.Errorf("%w (%s)", ErrPrivateTarget, ip)
	}
	if g.isLocal(ip) {
		return fmt.Errorf("%w (%s)", ErrPrivateTarget, ip)
	}
	return nil
}

// control is the dialer's hook: it runs on the address actually dialled,
// after the name was resolved and before any packet is sent.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("delivery: dial %s: %w", address, err)
	}
	return g.CheckAddr(ap.Addr())
}

// CheckURL validates a target URL before any connection: an absolute http(s)
// URL with a host; unless private targets are allowed, https, and neither a
// refused literal address nor a name reserved for this host (localhost).
// Names are checked again when they are dialled.
func (g *Guard) CheckURL(u *url.URL) error {
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("url scheme must be https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("url has no host")
	}
	if g == nil || g.allowPrivate {
		return nil
	}
	if u.Scheme != "https" {
		return errors.New("url must use https; plain http is allowed only with --allow-private-targets")
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return g.CheckAddr(ip)
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return ErrPrivateTarget
	}
	return nil
}

// ValidateURL parses and checks a target URL as an admin typed it. A nil
// guard checks only its form.
func (g *Guard) ValidateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	return g.CheckURL(u)
}

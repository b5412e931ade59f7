package delivery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"code.dny.dev/ssrf"
	"golang.org/x/net/idna"
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
func (g *Guard) AllowsPrivate() bool { return g != nil && g.allowPrivate }

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
// URL with a host that is a canonical IP address or a valid host name (IDNA,
// strictly), and a port, if any, in 1–65535; unless private targets are
// allowed, https, and neither a refused literal address nor a name reserved
// for this host (localhost). Names are checked again when they are dialled.
func (g *Guard) CheckURL(u *url.URL) error {
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("url scheme must be https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("url has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %s is outside 1–65535", p)
		}
	}
	ip, name, err := parseHost(u.Hostname(), strings.HasPrefix(u.Host, "["))
	if err != nil {
		return err
	}
	if g == nil || g.allowPrivate {
		return nil
	}
	if u.Scheme != "https" {
		return errors.New("url must use https; plain http is allowed only with --allow-private-targets")
	}
	if ip.IsValid() {
		return g.CheckAddr(ip)
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return ErrPrivateTarget
	}
	return nil
}

// parseHost reads a URL's host as an IP address or as a host name, in
// lower-case ASCII without one trailing dot. It refuses what a resolver
// might read as an address other than the one written: a numeric host that
// is not a dotted-quad IPv4 address in canonical form (2130706433,
// 0x7f.0.0.1, 0177.0.0.1, 127.1), and a non-ASCII name IDNA refuses.
// Such names are mapped first, so 127。0。0。1 is read as 127.0.0.1.
func parseHost(host string, bracketed bool) (netip.Addr, string, error) {
	bad := fmt.Errorf("host %s is not a valid host name or IP address", host)
	if bracketed {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return netip.Addr{}, "", bad
		}
		return ip, "", nil
	}
	name := strings.TrimSuffix(host, ".")
	if !isASCII(name) {
		// As net/http does, only names outside ASCII go through IDNA, so
		// an ASCII name such as my_service (a container's) still works.
		var err error
		if name, err = idna.Lookup.ToASCII(name); err != nil {
			return netip.Addr{}, "", bad
		}
	}
	if name == "" {
		return netip.Addr{}, "", bad
	}
	name = strings.ToLower(name)
	if !looksNumeric(name) {
		return netip.Addr{}, name, nil
	}
	ip, err := netip.ParseAddr(name)
	if err != nil || !ip.Is4() || ip.String() != name {
		return netip.Addr{}, "", bad
	}
	return ip, "", nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// looksNumeric reports a host made only of decimal labels and hexadecimal
// 0x labels, which resolvers may take for an IPv4 address in some form.
func looksNumeric(host string) bool {
	for _, label := range strings.Split(host, ".") {
		digits := "0123456789"
		if rest, ok := strings.CutPrefix(label, "0x"); ok {
			label, digits = rest, "0123456789abcdef"
		}
		if strings.Trim(label, digits) != "" {
			return false
		}
	}
	return true
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

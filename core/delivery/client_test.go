package delivery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// refused are addresses of the IANA special-purpose registries, one or more
// per range, that no delivery may reach unless private targets are allowed.
var refused = []struct{ name, addr string }{
	{"this network", "0.1.2.3"},
	{"unspecified v4", "0.0.0.0"},
	{"private 10/8", "10.1.2.3"},
	{"shared CGNAT", "100.64.0.1"},
	{"loopback v4", "127.0.0.1"},
	{"loopback v4 far", "127.255.0.9"},
	{"link-local v4 metadata", "169.254.169.254"},
	{"private 172.16/12", "172.16.5.4"},
	{"IETF protocol assignments", "192.0.0.8"},
	{"TEST-NET-1", "192.0.2.1"},
	{"6to4 relay anycast", "192.88.99.1"},
	{"private 192.168/16", "192.168.1.1"},
	{"benchmarking low", "198.18.0.1"},
	{"benchmarking high", "198.19.255.254"},
	{"TEST-NET-2", "198.51.100.7"},
	{"TEST-NET-3", "203.0.113.9"},
	{"multicast v4", "224.0.0.1"},
	{"reserved 240/4", "240.0.0.1"},
	{"broadcast", "255.255.255.255"},
	{"loopback v6", "::1"},
	{"unspecified v6", "::"},
	{"IPv4-mapped loopback", "::ffff:127.0.0.1"},
	{"IPv4-mapped private", "::ffff:10.0.0.1"},
	{"IPv4-compatible loopback", "::127.0.0.1"},
	{"IPv4-compatible private", "::10.0.0.1"},
	{"NAT64 private", "64:ff9b::a00:1"},
	{"NAT64 public", "64:ff9b::808:808"},
	{"discard-only", "100::1"},
	{"Teredo", "2001::1"},
	{"documentation v6", "2001:db8::1"},
	{"documentation 3fff", "3fff::1"},
	{"6to4 private", "2002:a00:1::1"},
	{"6to4 public", "2002:808:808::1"},
	{"unique local", "fd12:3456::1"},
	{"unique local fc", "fc00::1"},
	{"link-local v6", "fe80::1"},
	{"site-local", "fec0::1"},
	{"multicast v6", "ff02::1"},
}

var public = []string{"93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001::1"}

// fakeResolver answers every DNS question from names, whatever the name
// servers of the machine say: a name can resolve to any address.
func fakeResolver(t *testing.T, names map[string]netip.Addr) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		go serveDNS(t, server, names)
		return client, nil
	}}
}

// serveDNS answers length-prefixed queries, as DNS over a stream has them.
func serveDNS(t *testing.T, conn net.Conn, names map[string]netip.Addr) {
	defer conn.Close()
	for {
		var size uint16
		if err := binary.Read(conn, binary.BigEndian, &size); err != nil {
			return
		}
		query := make([]byte, size)
		if _, err := io.ReadFull(conn, query); err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(query)
		if err != nil {
			t.Errorf("fake DNS: %v", err)
			return
		}
		q, err := p.Question()
		if err != nil {
			t.Errorf("fake DNS: %v", err)
			return
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
		b.EnableCompression()
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		addr, ok := names[strings.TrimSuffix(q.Name.String(), ".")]
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}
		switch {
		case ok && addr.Is4() && q.Type == dnsmessage.TypeA:
			b.AResource(rh, dnsmessage.AResource{A: addr.As4()})
		case ok && addr.Is6() && q.Type == dnsmessage.TypeAAAA:
			b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: addr.As16()})
		}
		answer, err := b.Finish()
		if err != nil {
			t.Errorf("fake DNS: %v", err)
			return
		}
		binary.Write(conn, binary.BigEndian, uint16(len(answer)))
		conn.Write(answer)
	}
}

func TestGuardRefusesSpecialPurposeAddresses(t *testing.T) {
	names := map[string]netip.Addr{}
	for i, tt := range refused {
		names[rebindName(i)] = netip.MustParseAddr(tt.addr)
	}
	g := NewGuard(false)
	client := newHTTPClient(g, 2*time.Second, fakeResolver(t, names))
	for i, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			// When saved: the URL as an admin typed it.
			if err := g.ValidateURL("https://" + net.JoinHostPort(tt.addr, "443") + "/hook"); !errors.Is(err, ErrPrivateTarget) {
				t.Errorf("save https://%s: err = %v, want ErrPrivateTarget", net.JoinHostPort(tt.addr, "443"), err)
			}
			// When dialled: a literal address, and a name resolving to it
			// (as a name rebound after it was saved would).
			for _, u := range []string{"http://" + net.JoinHostPort(tt.addr, "9") + "/", "http://" + rebindName(i) + ":9/"} {
				resp, err := client.Get(u)
				if err == nil {
					resp.Body.Close()
				}
				if !errors.Is(err, ErrPrivateTarget) {
					t.Errorf("dial %s: err = %v, want ErrPrivateTarget", u, err)
				}
			}
		})
	}
}

// rebindName is a name the fake resolver answers with refused[i].
func rebindName(i int) string { return fmt.Sprintf("rebind-%d.test", i) }

func TestGuardAllowsPublicAddresses(t *testing.T) {
	g := NewGuard(false)
	for _, addr := range public {
		if err := g.ValidateURL("https://" + net.JoinHostPort(addr, "8443") + "/hook"); err != nil {
			t.Errorf("save %s: %v", addr, err)
		}
		// The dial hook itself, so the test sends nothing to the internet.
		network := "tcp4"
		if strings.Contains(addr, ":") {
			network = "tcp6"
		}
		if err := g.control(network, net.JoinHostPort(addr, "443"), nil); err != nil {
			t.Errorf("dial %s: %v", addr, err)
		}
	}
}

func TestGuardRefusesTheHostsOwnAddresses(t *testing.T) {
	// Every address of this machine's interfaces.
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	g := NewGuard(false)
	for _, a := range addrs {
		ipNet, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, _ := netip.AddrFromSlice(ipNet.IP)
		if err := g.CheckAddr(ip.Unmap()); !errors.Is(err, ErrPrivateTarget) {
			t.Errorf("interface address %s: err = %v, want ErrPrivateTarget", ip, err)
		}
	}

	// A public address the host holds is refused too, at save and at dial,
	// and one it gains later once the addresses are read again.
	owned := []net.Addr{&net.IPNet{IP: net.ParseIP("93.184.216.34"), Mask: net.CIDRMask(24, 32)}}
	g.interfaceAddrs = func() ([]net.Addr, error) { return owned, nil }
	if err := g.RefreshLocalAddrs(); err != nil {
		t.Fatal(err)
	}
	if err := g.ValidateURL("https://93.184.216.34/hook"); !errors.Is(err, ErrPrivateTarget) {
		t.Errorf("save the host's own address: err = %v, want ErrPrivateTarget", err)
	}
	if err := g.control("tcp4", "93.184.216.34:443", nil); !errors.Is(err, ErrPrivateTarget) {
		t.Errorf("dial the host's own address: err = %v, want ErrPrivateTarget", err)
	}
	if err := g.control("tcp6", "[2606:4700::1111]:443", nil); err != nil {
		t.Fatalf("dial before the host has the address: %v", err)
	}
	owned = append(owned, &net.IPAddr{IP: net.ParseIP("2606:4700::1111")})
	g.RefreshLocalAddrs()
	if err := g.control("tcp6", "[2606:4700::1111]:443", nil); !errors.Is(err, ErrPrivateTarget) {
		t.Errorf("dial an address the host gained: err = %v, want ErrPrivateTarget", err)
	}
	// A failed read keeps the addresses read before.
	g.interfaceAddrs = func() ([]net.Addr, error) { return nil, errors.New("netlink is down") }
	if err := g.RefreshLocalAddrs(); err == nil {
		t.Error("a failed read reports no error")
	}
	if err := g.CheckAddr(netip.MustParseAddr("93.184.216.34")); !errors.Is(err, ErrPrivateTarget) {
		t.Errorf("after a failed read: err = %v, want ErrPrivateTarget", err)
	}
}

func TestAllowPrivateTargetsReachesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	g := NewGuard(true)
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		if err := g.ValidateURL(u); err != nil {
			t.Errorf("save %s with private targets allowed: %v", u, err)
		}
		resp, err := NewHTTPClient(g, 2*time.Second).Get(u)
		if err != nil {
			t.Fatalf("GET %s with private targets allowed: %v", u, err)
		}
		resp.Body.Close()
	}
	// The same receiver is refused without the switch.
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		_, err := NewHTTPClient(NewGuard(false), 2*time.Second).Get(u)
		if !errors.Is(err, ErrPrivateTarget) {
			t.Errorf("GET %s: err = %v, want ErrPrivateTarget", u, err)
		}
	}
}

func TestClientFollowsNoRedirect(t *testing.T) {
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
	}))
	defer elsewhere.Close()
	_, port, _ := net.SplitHostPort(elsewhere.Listener.Addr().String())
	// Another host name for the same kind of receiver: a cross-host redirect.
	otherHost := "http://localhost:" + port + "/steal"

	for _, status := range []int{301, 302, 303, 307, 308} {
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, otherHost, status)
		}))
		req, _ := http.NewRequest("POST", target.URL+"/hook", strings.NewReader(`{}`))
		req.Header.Set("X-Api-Key", "k-secret")
		resp, err := NewHTTPClient(NewGuard(true), 2*time.Second).Do(req)
		target.Close()
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		resp.Body.Close()
		if resp.StatusCode != status || resp.Header.Get("Location") != otherHost {
			t.Errorf("%d: got %d to %q, want the redirect itself", status, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests, want none", n)
	}
}

func TestCheckURL(t *testing.T) {
	for raw, wantOK := range map[string]bool{
		"https://example.com/hook":     true,
		"http://example.com/hook":      false, // plain http only with the flag
		"https://127.0.0.1/hook":       false,
		"https://localhost/hook":       false,
		"https://LocalHost./hook":      false,
		"https://api.localhost/hook":   false,
		"https://[::1]/hook":           false,
		"https://[fe80::1%25eth0]/x":   false,
		"ftp://example.com/x":          false,
		"https:///no-host":             false,
		"https://10.0.0.8:8443/x":      false,
		"https://hooks.example.org":    true,
		"https://93.184.216.34:8443/x": true,
	} {
		err := NewGuard(false).ValidateURL(raw)
		if (err == nil) != wantOK {
			t.Errorf("ValidateURL(%s) = %v, want ok=%v", raw, err, wantOK)
		}
	}
	if err := NewGuard(true).ValidateURL("http://127.0.0.1:9/x"); err != nil {
		t.Errorf("with the flag, loopback http refused: %v", err)
	}
	// A nil guard, for targets validated when saved, checks the form only.
	var unchecked *Guard
	if err := unchecked.ValidateURL("http://127.0.0.1:9/x"); err != nil {
		t.Errorf("nil guard: %v", err)
	}
	if err := unchecked.ValidateURL("ftp://example.com/x"); err == nil {
		t.Error("nil guard took an ftp URL")
	}
}

// TestCheckURLHostForms refuses hosts a resolver may read as an address
// other than the one written, and impossible ports, with or without the
// flag; the refused addresses stay refused once normalised.
func TestCheckURLHostForms(t *testing.T) {
	for _, tt := range []struct {
		name, url string
		want      string // "" for accepted, "private" for ErrPrivateTarget, else a part of the message
	}{
		{"decimal", "https://2130706433/", "host 2130706433 is not a valid host name or IP address"},
		{"hex octet", "https://0x7f.0.0.1/", "not a valid host"},
		{"octal number", "https://017700000001/", "not a valid host"},
		{"short form", "https://127.1/", "not a valid host"},
		{"hex number", "https://0x7f000001/", "not a valid host"},
		{"octal octet", "https://0177.0.0.1/", "not a valid host"},
		{"three parts", "https://127.0.1/", "not a valid host"},
		{"leading zeros", "https://127.000.000.001/", "not a valid host"},
		{"zero", "https://0/", "not a valid host"},
		{"empty label", "https://1..1.1/", "not a valid host"},
		{"trailing dot after an IP", "https://10.0.0.1./", "private"},
		{"ideographic full stops", "https://127。0。0。1/", "private"},
		{"fullwidth localhost", "https://ＬＯＣＡＬＨＯＳＴ/", "private"},
		{"bad IDNA", "https://a\u200db.example/", "not a valid host"},
		{"port zero", "https://1.1.1.1:0/", "port 0 is outside 1–65535"},
		{"port too big", "https://1.1.1.1:99999/", "port 99999 is outside"},
		{"public IP", "https://1.1.1.1/", ""},
		{"public IP trailing dot", "https://1.1.1.1./", ""},
		{"public IP top port", "https://1.1.1.1:65535/", ""},
		{"name with digits", "https://1password.example/", ""},
		{"hex-looking name", "https://0xdead.example/", ""},
		{"IDN", "https://bücher.example/", ""},
		{"underscore", "https://my_service.example/", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := NewGuard(false).ValidateURL(tt.url)
			switch {
			case tt.want == "":
				if err != nil {
					t.Errorf("ValidateURL(%s) = %v, want ok", tt.url, err)
				}
			case tt.want == "private":
				if !errors.Is(err, ErrPrivateTarget) {
					t.Errorf("ValidateURL(%s) = %v, want ErrPrivateTarget", tt.url, err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("ValidateURL(%s) = %v, want %q", tt.url, err, tt.want)
				}
				// The form is refused with the flag too.
				if err := NewGuard(true).ValidateURL(tt.url); err == nil {
					t.Errorf("with the flag, ValidateURL(%s) accepted", tt.url)
				}
			}
		})
	}
}

// TestDNSErrorHidesResolver: a failed lookup becomes the attempt's error
// without the hub's name server.
func TestDNSErrorHidesResolver(t *testing.T) {
	client := newHTTPClient(NewGuard(false), 2*time.Second, fakeResolver(t, nil))
	_, err := client.Get("https://hook.switchboard.invalid/x")
	if err == nil {
		t.Fatal("a name that does not resolve was reached")
	}
	msg := unwrapURLError(err).Error()
	if strings.Contains(msg, " on ") || !strings.Contains(msg, "lookup hook.switchboard.invalid: no such host") {
		t.Errorf("error = %q, want the lookup without the name server", msg)
	}
}

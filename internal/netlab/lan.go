package netlab

import (
	"fmt"
	"net/netip"
	"sync"
)

// LAN is an Ethernet segment: a bridge in a namespace of its own, which
// hosts join with veth pairs. The public segment of a lab is a LAN too,
// with public-looking addresses (203.0.113.0/24, TEST-NET-3, say).
type LAN struct {
	lab    *Lab
	Name   string
	NS     string // the namespace of the bridge (the switch)
	Prefix netip.Prefix

	mu    sync.Mutex
	last  netip.Addr // the last address given out
	ports int
}

// LAN makes a LAN for the addresses of prefix (e.g. "10.0.1.0/24"). Hosts
// that attach to it get addresses from .1 upwards, in order.
func (l *Lab) LAN(name, prefix string) *LAN {
	l.t.Helper()
	p, err := netip.ParsePrefix(prefix)
	if err != nil || !p.Addr().Is4() {
		l.t.Fatalf("netlab: LAN %s: %q is not an IPv4 prefix", name, prefix)
	}
	p = p.Masked()
	n := &LAN{lab: l, Name: name, NS: l.newNamespace("sw-" + name), Prefix: p, last: p.Addr()}
	l.ip("-n", n.NS, "link", "add", "name", "br0", "type", "bridge")
	l.ip("-n", n.NS, "link", "set", "br0", "up")
	return n
}

// Link is a host's interface on a LAN: one end of a veth pair in the
// host, the other a port of the LAN's bridge.
type Link struct {
	LAN       *LAN
	Host      *Host
	Interface string     // its name in the host
	Addr      netip.Addr // its address
	port      string     // the bridge's end
}

// Attach joins h to the LAN through a new interface named ifname, with
// the LAN's next address.
func (n *LAN) Attach(h *Host, ifname string) *Link {
	n.lab.t.Helper()
	n.mu.Lock()
	addr := n.last.Next()
	n.last = addr
	n.ports++
	port := fmt.Sprintf("port%d", n.ports)
	n.mu.Unlock()
	if !n.Prefix.Contains(addr) {
		n.lab.t.Fatalf("netlab: LAN %s has no addresses left", n.Name)
	}
	n.lab.ip("-n", h.NS, "link", "add", "name", ifname, "type", "veth", "peer", "name", port, "netns", n.NS)
	n.lab.ip("-n", n.NS, "link", "set", port, "master", "br0", "up")
	h.IP("addr", "add", netip.PrefixFrom(addr, n.Prefix.Bits()).String(), "dev", ifname)
	h.IP("link", "set", ifname, "up")
	return &Link{LAN: n, Host: h, Interface: ifname, Addr: addr, port: port}
}

// Down unplugs the link at the switch: the host's interface stays up but
// loses its carrier, and whatever it sends is lost.
func (k *Link) Down() {
	k.LAN.lab.t.Helper()
	k.LAN.lab.ip("-n", k.LAN.NS, "link", "set", k.port, "down")
}

// Up plugs the link back in.
func (k *Link) Up() {
	k.LAN.lab.t.Helper()
	k.LAN.lab.ip("-n", k.LAN.NS, "link", "set", k.port, "up")
}

package netlab

import "net/netip"

// NAT is how a [Router] translates the addresses of its LAN.
type NAT int

const (
	// NoNAT routes without translating: the LAN's addresses are seen as
	// they are.
	NoNAT NAT = iota
	// EndpointIndependent keeps one mapping per source address and port
	// whatever the destination (iptables MASQUERADE, which keeps the
	// source port when it is free): the address a STUN server reports is
	// the one a peer can reach, once our side has sent to it.
	EndpointIndependent
	// Symmetric maps each new destination from a new random port
	// (MASQUERADE --random-fully): the address a STUN server reports is
	// good for that server only.
	Symmetric
)

func (n NAT) String() string {
	switch n {
	case NoNAT:
		return "no NAT"
	case EndpointIndependent:
		return "endpoint-independent NAT"
	case Symmetric:
		return "symmetric NAT"
	}
	return "unknown NAT"
}

// Router is a host that forwards between a LAN and a WAN (the public
// segment, say).
type Router struct {
	*Host
	WAN *Link // its interface "wan"
	LAN *Link // its interface "lan": the gateway of the LAN's hosts
}

// Router makes a router between lan and wan that translates with nat. As
// a home router does, it drops what arrives on the WAN side unless it
// answers something sent from inside, and it has no default route: the
// lab has no way out. Attach it to lan before lan's hosts, so that it gets
// the LAN's first address, and give the hosts [Host.DefaultRoute] through
// it.
func (l *Lab) Router(name string, wan, lan *LAN, nat NAT) *Router {
	l.t.Helper()
	h := l.Host(name)
	r := &Router{Host: h, WAN: wan.Attach(h, "wan"), LAN: lan.Attach(h, "lan")}
	h.Sysctl("net.ipv4.ip_forward=1")
	switch nat {
	case EndpointIndependent:
		h.IPTables("-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE")
	case Symmetric:
		h.IPTables("-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE", "--random-fully")
	}
	if nat != NoNAT {
		// Dropping new flows in INPUT also keeps conntrack from recording
		// them: an unanswered hole-punching packet from a peer would
		// otherwise hold the very mapping our own host is about to use, and
		// the NAT would pick another port for it.
		h.IPTables("-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP")
		h.IPTables("-A", "FORWARD", "-i", "wan", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP")
	}
	return r
}

// Drop makes r drop the packets of proto ("udp" or "tcp") that its LAN
// sends to addr: a network that blocks, say, UDP to a TURN server.
func (r *Router) Drop(proto string, addr netip.Addr) {
	r.lab.t.Helper()
	r.IPTables("-I", "FORWARD", "-i", "lan", "-p", proto, "-d", addr.String(), "-j", "DROP")
}

package hostnet

import (
	"net"
	"net/netip"
	"strings"
)

// Policy says which addresses host candidates use.
type Policy struct {
	// Interfaces, when set, names the only interfaces to use, of any kind.
	Interfaces []string
	// Loopback uses loopback alone (unless Interfaces are named).
	Loopback bool
	// IPv4Only and IPv6Only keep one address family.
	IPv4Only, IPv6Only bool
}

// Addresses lists the addresses host candidates use: by default every
// interface that is up but loopback and container or VM bridges, without
// link-local addresses (they need a zone a blob does not carry) and without
// what ICE forbids (IPv4-compatible and site-local IPv6); loopback only
// when asked or when there is nothing else.
func (o Policy) Addresses() []netip.Addr {
	named := map[string]bool{}
	for _, n := range o.Interfaces {
		named[n] = true
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ifi := range ifs {
		isLoopback := ifi.Flags&net.FlagLoopback != 0
		switch {
		case ifi.Flags&net.FlagUp == 0:
			continue
		case len(named) > 0 && !named[ifi.Name]:
			continue
		case len(named) == 0 && o.Loopback != isLoopback:
			continue
		case len(named) == 0 && IsVirtual(ifi.Name):
			continue
		}
		for _, p := range InterfacePrefixes(ifi) {
			if o.Usable(p.Addr()) {
				out = append(out, p.Addr())
			}
		}
	}
	return out
}

// Usable reports whether the policy lets a candidate use ip.
func (o Policy) Usable(ip netip.Addr) bool {
	switch {
	case o.IPv4Only && !ip.Is4(), o.IPv6Only && !ip.Is6():
		return false
	case ip.IsLinkLocalUnicast(), ip.IsMulticast(), ip.IsUnspecified():
		return false
	case ip.Is6() && (ip.IsLoopback() || isIPv4Compatible(ip) || isSiteLocal(ip)):
		return false // ICE forbids these (RFC 8445 5.1.1.1); pion skips them too
	}
	return true
}

func isIPv4Compatible(ip netip.Addr) bool {
	b := ip.As16()
	for _, x := range b[:12] {
		if x != 0 {
			return false
		}
	}
	return true
}

func isSiteLocal(ip netip.Addr) bool {
	b := ip.As16()
	return b[0] == 0xfe && b[1]&0xc0 == 0xc0
}

// virtualPrefixes name the interfaces of container and virtual-machine
// bridges: a peer on another computer cannot reach their addresses, so they
// only lengthen the blob and reveal more about this machine.
var virtualPrefixes = []string{
	"docker", "br-", "veth", "virbr", "vboxnet", "vmnet", "cni", "flannel",
	"cali", "podman", "lxcbr", "lxdbr", "vnet", "kube",
}

// IsVirtual reports whether the interface is a container or VM bridge.
func IsVirtual(name string) bool {
	for _, p := range virtualPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// HasNetwork reports whether an interface that is up, other than loopback
// and container or VM bridges, has an address that is not link-local.
func HasNetwork() bool {
	ifs, err := net.Interfaces()
	if err != nil {
		return true
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagLoopback != 0 || IsVirtual(ifi.Name) {
			continue
		}
		for _, p := range InterfacePrefixes(ifi) {
			if !p.Addr().IsLinkLocalUnicast() && !p.Addr().IsLoopback() {
				return true
			}
		}
	}
	return false
}

// InterfacePrefixes lists an interface's addresses with their subnets,
// IPv4 ones unmapped.
func InterfacePrefixes(ifi net.Interface) []netip.Prefix {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if p, ok := PrefixOf(a); ok {
			out = append(out, p)
		}
	}
	return out
}

// PrefixOf turns an interface address into a prefix, IPv4 unmapped.
func PrefixOf(a net.Addr) (netip.Prefix, bool) {
	n, ok := a.(*net.IPNet)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	if ip.Is4In6() && ones > 32 {
		ones -= 96
	}
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

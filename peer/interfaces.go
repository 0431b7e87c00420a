package peer

import (
	"net"
	"net/netip"
	"strings"

	"github.com/pion/webrtc/v4"
)

// virtualPrefixes name the interfaces of container and virtual-machine
// bridges: a peer on another computer cannot reach their addresses, so they
// only lengthen the blob and reveal more about this machine.
var virtualPrefixes = []string{
	"docker", "br-", "veth", "virbr", "vboxnet", "vmnet", "cni", "flannel",
	"cali", "podman", "lxcbr", "lxdbr", "vnet", "kube",
}

// isVirtual reports whether the interface is a container or VM bridge.
func isVirtual(name string) bool {
	for _, p := range virtualPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// loopbackOnly reports whether candidates come from loopback alone: when
// asked, or on a machine with no network, where the other end can only be
// this machine.
func loopbackOnly(o Options) bool {
	return o.Loopback || (len(o.Interfaces) == 0 && !hasNetwork())
}

// applyInterfaces sets where pion gathers its own candidates (server
// reflexive and relayed; host candidates come from [listenHost]) by the same
// policy as [hostAddresses]: by default every interface but loopback and
// container or VM bridges, only [usable] addresses; naming interfaces
// overrides the default.
func applyInterfaces(se *webrtc.SettingEngine, o Options, loopOnly bool) {
	if len(o.Interfaces) > 0 {
		names := map[string]bool{}
		for _, n := range o.Interfaces {
			names[n] = true
			if isLoopbackInterface(n) {
				se.SetIncludeLoopbackCandidate(true)
			}
		}
		se.SetInterfaceFilter(func(name string) bool { return names[name] })
	} else {
		se.SetInterfaceFilter(func(name string) bool { return !isVirtual(name) })
	}
	if loopOnly {
		se.SetIncludeLoopbackCandidate(true)
	}
	se.SetIPFilter(func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return false
		}
		a = a.Unmap()
		return (!loopOnly || a.IsLoopback()) && usable(a, o)
	})
}

func isLoopbackInterface(name string) bool {
	ifi, err := net.InterfaceByName(name)
	return err == nil && ifi.Flags&net.FlagLoopback != 0
}

// hasNetwork reports whether an interface that is up, other than loopback
// and container or VM bridges, has an address that is not link-local.
func hasNetwork() bool {
	ifs, err := net.Interfaces()
	if err != nil {
		return true
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagLoopback != 0 || isVirtual(ifi.Name) {
			continue
		}
		for _, p := range interfacePrefixes(ifi) {
			if !p.Addr().IsLinkLocalUnicast() && !p.Addr().IsLoopback() {
				return true
			}
		}
	}
	return false
}

// interfacePrefixes lists an interface's addresses with their subnets,
// IPv4 ones unmapped.
func interfacePrefixes(ifi net.Interface) []netip.Prefix {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if p, ok := prefixOf(a); ok {
			out = append(out, p)
		}
	}
	return out
}

// prefixOf turns an interface address into a prefix, IPv4 unmapped.
func prefixOf(a net.Addr) (netip.Prefix, bool) {
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

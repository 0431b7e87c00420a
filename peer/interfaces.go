package peer

import (
	"net"
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

// applyInterfaces sets where candidates are gathered. By default: every
// interface but loopback and container or VM bridges, and no link-local
// addresses (they need an interface zone that a blob does not carry).
// Naming interfaces overrides the default.
func applyInterfaces(se *webrtc.SettingEngine, o Options) {
	loopbackOnly := o.Loopback
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
		if !o.Loopback && !hasNetwork() {
			// A machine with no network: the other end can only be here.
			loopbackOnly = true
		}
	}
	if loopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
	}
	se.SetIPFilter(func(ip net.IP) bool {
		switch {
		case o.IPv4Only && ip.To4() == nil, o.IPv6Only && ip.To4() != nil:
			return false
		case loopbackOnly:
			return ip.IsLoopback()
		}
		return !ip.IsLinkLocalUnicast()
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
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() && !n.IP.IsLoopback() {
				return true
			}
		}
	}
	return false
}

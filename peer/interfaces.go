package peer

import (
	"net"
	"net/netip"

	"github.com/pion/webrtc/v4"

	"pigeon/peer/internal/hostnet"
)

// policy is where host candidates come from, as o asks.
func (o Options) policy(loopOnly bool) hostnet.Policy {
	return hostnet.Policy{Interfaces: o.Interfaces, Loopback: loopOnly, IPv4Only: o.IPv4Only, IPv6Only: o.IPv6Only}
}

// loopbackOnly reports whether candidates come from loopback alone: when
// asked, or on a machine with no network, where the other end can only be
// this machine.
func loopbackOnly(o Options) bool {
	return o.Loopback || (len(o.Interfaces) == 0 && !hostnet.HasNetwork())
}

// applyInterfaces sets where pion gathers its own candidates (server
// reflexive and relayed; host candidates come from [hostnet.Listen]) by the
// same policy: by default every interface but loopback and container or VM
// bridges, only usable addresses; naming interfaces
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
		se.SetInterfaceFilter(func(name string) bool { return !hostnet.IsVirtual(name) })
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
		return (!loopOnly || a.IsLoopback()) && o.policy(loopOnly).Usable(a)
	})
}

func isLoopbackInterface(name string) bool {
	ifi, err := net.InterfaceByName(name)
	return err == nil && ifi.Flags&net.FlagLoopback != 0
}

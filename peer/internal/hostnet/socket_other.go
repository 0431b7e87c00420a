//go:build !linux

package hostnet

import (
	"net"
	"net/netip"
)

func gsoSupported(*net.UDPConn) bool { return false }

func gsoControl(int) []byte { return nil }

func isGSOError(error) bool { return true }

const groControlSize = 0

func enableGRO(*net.UDPConn) bool { return false }

func groSize([]byte) int { return 0 }

// PathMTU is the MTU of the interface that holds local; 0 if none does.
func PathMTU(local netip.Addr, _ netip.AddrPort) int {
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, ifi := range ifs {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == local {
					return ifi.MTU
				}
			}
		}
	}
	return 0
}

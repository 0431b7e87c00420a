package peer

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/ice/v4"
)

// socketBuffer is the size asked of the kernel for each UDP socket's send
// and receive buffers. The default (about 200 KiB) drops packets even on
// loopback once a transfer runs at full speed; the kernel caps the size at
// net.core.rmem_max and wmem_max.
const socketBuffer = 4 << 20

// hostSockets listens on one UDP socket per address a host candidate may
// use, all on the same port when it is free everywhere (so a blob carries
// the port once), with large buffers. pion multiplexes them.
type hostSockets struct {
	mux   *ice.MultiUDPMuxDefault
	conns []net.PacketConn
}

func (h *hostSockets) Close() error {
	return h.mux.Close()
}

// listenHost opens the host sockets for the options' candidate policy.
func listenHost(o Options, loopOnly bool) (*hostSockets, error) {
	addrs := hostAddresses(o, loopOnly)
	if len(addrs) == 0 {
		return nil, errNoAddresses
	}
	var conns []net.PacketConn
	var err error
	for range 5 {
		conns, err = listenSamePort(addrs)
		if err == nil {
			break
		}
	}
	if err != nil {
		// No port free on every address: one port each.
		conns = conns[:0]
		for _, a := range addrs {
			c, lerr := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
			if lerr != nil {
				closeAll(conns)
				return nil, fmt.Errorf("listening on %s: %w", a, lerr)
			}
			conns = append(conns, c)
		}
	}
	muxes := make([]ice.UDPMux, len(conns))
	for i, c := range conns {
		uc := c.(*net.UDPConn)
		_ = uc.SetReadBuffer(socketBuffer)
		_ = uc.SetWriteBuffer(socketBuffer)
		muxes[i] = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: c})
	}
	return &hostSockets{mux: ice.NewMultiUDPMuxDefault(muxes...), conns: conns}, nil
}

var errNoAddresses = errors.New("no network address to use: is this computer on a network?")

func listenSamePort(addrs []netip.Addr) ([]net.PacketConn, error) {
	var conns []net.PacketConn
	port := 0
	for _, a := range addrs {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, uint16(port))))
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		if port == 0 {
			port = c.LocalAddr().(*net.UDPAddr).Port
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []net.PacketConn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// hostAddresses lists the addresses host candidates use: by default every
// interface that is up but loopback and container or VM bridges, without
// link-local addresses (they need a zone a blob does not carry) and without
// what ICE forbids (IPv4-compatible and site-local IPv6); loopback only
// when asked or when there is nothing else.
func hostAddresses(o Options, loopbackOnly bool) []netip.Addr {
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
		case len(named) == 0 && loopbackOnly != isLoopback:
			continue
		case len(named) == 0 && isVirtual(ifi.Name):
			continue
		}
		for _, p := range interfacePrefixes(ifi) {
			if usable(p.Addr(), o) {
				out = append(out, p.Addr())
			}
		}
	}
	return out
}

func usable(ip netip.Addr, o Options) bool {
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

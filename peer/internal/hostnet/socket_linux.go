package hostnet

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// Linux's UDP_SEGMENT and UDP_GRO socket options and control messages.
const (
	udpSegment = 103
	udpGRO     = 104
)

// groControlSize is room for the control message of UDP_GRO (an int).
var groControlSize = syscall.CmsgSpace(4)

// enableGRO asks the kernel to join packets of a run into one datagram for
// c, and says whether it will.
func enableGRO(c *net.UDPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_UDP, udpGRO, 1)
	}); err != nil {
		return false
	}
	return serr == nil
}

// groSize is the size of the packets of a joined datagram, from its
// control messages, or 0.
func groSize(oob []byte) int {
	for len(oob) >= syscall.CmsgLen(0) {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		n := int(h.Len)
		if n < syscall.CmsgLen(0) || n > len(oob) {
			return 0
		}
		if h.Level == syscall.IPPROTO_UDP && h.Type == udpGRO && n >= syscall.CmsgLen(4) {
			return int(binary.NativeEndian.Uint32(oob[syscall.CmsgLen(0):]))
		}
		oob = oob[min(len(oob), syscall.CmsgSpace(n-syscall.CmsgLen(0))):]
	}
	return 0
}

// gsoSupported says whether the kernel segments UDP for c.
func gsoSupported(c *net.UDPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		_, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_UDP, udpSegment)
	}); err != nil {
		return false
	}
	return serr == nil
}

// gsoControl is the control message that has the kernel cut a buffer into
// packets of seg bytes.
func gsoControl(seg int) []byte {
	b := make([]byte, syscall.CmsgSpace(2))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = syscall.IPPROTO_UDP
	h.Type = udpSegment
	h.SetLen(syscall.CmsgLen(2))
	binary.NativeEndian.PutUint16(b[syscall.CmsgLen(0):], uint16(seg))
	return b
}

// isGSOError says whether err means that the path cannot segment (a
// device without checksum offload, say).
func isGSOError(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOPROTOOPT)
}

// PathMTU is the largest IP packet the system sends from local to remote
// whole, as its route (and what it learnt of the path) says; 0 if it cannot
// tell.
func PathMTU(local netip.Addr, remote netip.AddrPort) int {
	c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)), net.UDPAddrFromAddrPort(remote))
	if err != nil {
		return 0
	}
	defer c.Close()
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	mtu := 0
	_ = rc.Control(func(fd uintptr) {
		if remote.Addr().Is4() {
			mtu, err = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_MTU)
		} else {
			mtu, err = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_MTU)
		}
	})
	if err != nil {
		return 0
	}
	return mtu
}

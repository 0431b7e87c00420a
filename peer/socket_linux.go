package peer

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// udpSegment is Linux's UDP_SEGMENT socket option and control message.
const udpSegment = 103

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

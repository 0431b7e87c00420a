package sdpcodec

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// CandidateType is the ICE candidate type (RFC 8445 §5.1.1).
type CandidateType uint8

// Candidate types, as 2-bit values of the candidate tag.
const (
	Host  CandidateType = 0
	Srflx CandidateType = 1
	Prflx CandidateType = 2
	Relay CandidateType = 3
)

func (t CandidateType) String() string {
	switch t {
	case Host:
		return "host"
	case Srflx:
		return "srflx"
	case Prflx:
		return "prflx"
	case Relay:
		return "relay"
	}
	return "type " + strconv.Itoa(int(t))
}

// Transport is the transport protocol of a candidate, with the TCP candidate
// type of RFC 6544 for TCP.
type Transport uint8

// Transports, as 2-bit values of the candidate tag.
const (
	UDP        Transport = 0
	TCPActive  Transport = 1
	TCPPassive Transport = 2
	TCPSO      Transport = 3
)

func (t Transport) String() string {
	switch t {
	case UDP:
		return "udp"
	case TCPActive:
		return "tcp-active"
	case TCPPassive:
		return "tcp-passive"
	case TCPSO:
		return "tcp-so"
	}
	return "transport " + strconv.Itoa(int(t))
}

// Candidate is one ICE candidate of component 1, reduced to what the blob keeps.
type Candidate struct {
	Type      CandidateType
	Transport Transport
	// Addr is an IPv4 or IPv6 address (never IPv4 mapped into IPv6, never with a
	// zone). It is the zero netip.Addr when Hostname is set.
	Addr netip.Addr
	// Hostname is an mDNS name "<uuid>.local" with a lower-case canonical UUID,
	// else "".
	Hostname string
	Port     uint16
}

// String returns the candidate in a form for people, e.g.
// "host udp 192.0.2.1:5000" or "host udp [2001:db8::1]:5000".
func (c Candidate) String() string {
	host := c.Hostname
	if host == "" {
		host = c.Addr.String()
	}
	return c.Type.String() + " " + c.Transport.String() + " " + net.JoinHostPort(host, strconv.Itoa(int(c.Port)))
}

// Address families of the candidate tag (bits 5-4).
const (
	familyIPv4     = 0
	familyIPv6     = 1
	familyMDNS     = 2
	familyReserved = 3
)

// Bits of the candidate tag.
const (
	tagLast     = 0x80
	tagSamePort = 0x40
)

// familyLen is the length of the address for each family. The reserved family
// has none (it only appears in the empty list's tag).
var familyLen = [4]int{4, 16, 16, 0}

var errNoAddress = errors.New("no address and no mDNS name")

// appendTo appends the candidate's tag, address and port (unless samePort).
func (c Candidate) appendTo(buf []byte, last, samePort bool) ([]byte, error) {
	if c.Type > Relay {
		return nil, fmt.Errorf("unknown candidate type %d", c.Type)
	}
	if c.Transport > TCPSO {
		return nil, fmt.Errorf("unknown transport %d", c.Transport)
	}
	tag := byte(c.Type)<<2 | byte(c.Transport)
	if last {
		tag |= tagLast
	}
	if samePort {
		tag |= tagSamePort
	}
	switch {
	case c.Hostname != "":
		if c.Addr.IsValid() {
			return nil, fmt.Errorf("has both address %s and mDNS name %q", c.Addr, c.Hostname)
		}
		id, ok := parseMDNSName(c.Hostname)
		if !ok {
			return nil, fmt.Errorf("mDNS name %q is not \"<uuid>.local\" with a lower-case UUID", c.Hostname)
		}
		buf = append(buf, tag|familyMDNS<<4)
		buf = append(buf, id[:]...)
	case !c.Addr.IsValid():
		return nil, errNoAddress
	case c.Addr.Zone() != "":
		return nil, fmt.Errorf("address %s has a zone", c.Addr)
	case c.Addr.Unmap().Is4():
		a := c.Addr.Unmap().As4()
		buf = append(buf, tag|familyIPv4<<4)
		buf = append(buf, a[:]...)
	default:
		a := c.Addr.As16()
		buf = append(buf, tag|familyIPv6<<4)
		buf = append(buf, a[:]...)
	}
	if !samePort {
		buf = append(buf, byte(c.Port>>8), byte(c.Port))
	}
	return buf, nil
}

const mdnsSuffix = ".local"

// parseMDNSName parses "<uuid>.local" where uuid is the canonical lower-case
// 8-4-4-4-12 form, as browsers and pion generate them.
func parseMDNSName(name string) (id [16]byte, ok bool) {
	if len(name) != 36+len(mdnsSuffix) || name[36:] != mdnsSuffix {
		return id, false
	}
	u := name[:36]
	if u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' {
		return id, false
	}
	var digits [32]byte
	n := 0
	for i := 0; i < 36; i++ {
		switch ch := u[i]; {
		case i == 8 || i == 13 || i == 18 || i == 23:
		case ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f':
			digits[n] = ch
			n++
		default:
			return id, false
		}
	}
	if _, err := hex.Decode(id[:], digits[:]); err != nil {
		return id, false
	}
	return id, true
}

// mdnsName is the inverse of [parseMDNSName].
func mdnsName(id []byte) string {
	h := hex.EncodeToString(id)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32] + mdnsSuffix
}

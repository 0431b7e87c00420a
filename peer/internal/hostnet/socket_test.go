package hostnet

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/logging"
)

// TestSocketOrder: packets of one size, a shorter one, packets to another
// address, all written faster than they leave, arrive whole and in order,
// whether the kernel segments runs of them or not and whether the reader
// gets runs joined or not; Close sends what is queued first, and writes
// after it fail.
func TestSocketOrder(t *testing.T) {
	for _, gso := range []bool{true, false} {
		t.Run(fmt.Sprintf("gso=%v", gso), func(t *testing.T) {
			loop := netip.MustParseAddr("127.0.0.1")
			listen := func() *net.UDPConn {
				c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loop, 0)))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				_ = c.SetReadBuffer(socketBuffer)
				return c
			}
			a, b := listen(), listen()
			c := listen()
			s := newSocket(c)
			s.gso = s.gso && gso

			type packet struct {
				to   *net.UDPConn
				data []byte
			}
			var sent []packet
			for i := range 300 {
				size := 1200
				switch {
				case i%50 == 49:
					size = 700 // ends a run
				case i%70 == 69:
					size = 1300 // longer: starts a new run
				}
				to := a
				if i%90 >= 80 {
					to = b
				}
				p := packet{to, bytes.Repeat([]byte{byte(i)}, size)}
				p.data[0] = byte(i >> 8)
				sent = append(sent, p)
				if _, err := s.WriteToAddrPort(p.data, to.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if gso && gsoSupported(c) && s.runs == 0 {
				t.Error("no run of packets was sent in one call")
			}
			if _, err := s.WriteToAddrPort([]byte("late"), a.LocalAddr().(*net.UDPAddr).AddrPort()); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("write after Close: %v, want net.ErrClosed", err)
			}
			joined := 0
			buf := make([]byte, 8192) // as pion's mux reads
			for _, to := range []*net.UDPConn{a, b} {
				r := newSocket(to) // joins runs where the kernel can
				for i, p := range sent {
					if p.to != to {
						continue
					}
					_ = to.SetReadDeadline(time.Now().Add(5 * time.Second))
					n, _, err := r.ReadFromAddrPort(buf)
					if err != nil {
						t.Fatalf("packet %d: %v", i, err)
					}
					if !bytes.Equal(buf[:n], p.data) {
						t.Fatalf("packet %d: got %d bytes starting %x, want %d starting %x", i, n, buf[:2], len(p.data), p.data[:2])
					}
				}
				joined += r.joined
				r.Close()
			}
			if s.runs > 0 && enableGRO(a) && joined == 0 {
				t.Error("runs were sent, and none arrived as one datagram")
			}
		})
	}
}

// TestUfragConnDropsAfterClose: an ICE agent's connection on a host socket
// keeps pion's allocation-free reads and writes, and a packet written after
// ICE closed it (as a restart does, with a packet on its way out) is
// dropped instead of failing, which would end DTLS and SCTP above.
func TestUfragConnDropsAfterClose(t *testing.T) {
	h, err := Listen(Policy{Loopback: true}, logging.NewDefaultLoggerFactory())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addrs := h.GetListenAddresses()
	if len(addrs) == 0 {
		t.Fatal("no host socket")
	}
	c, err := h.GetConn("ufrag", addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	uc, ok := c.(ufragConn)
	if !ok {
		t.Fatalf("GetConn gave a %T, want a ufragConn: pion's mux connection lost ReadFromAddrPort or WriteToAddrPort", c)
	}
	to := netip.MustParseAddrPort("127.0.0.1:9")
	if err := uc.Close(); err != nil {
		t.Fatal(err)
	}
	msg := []byte("after the restart")
	if n, err := uc.WriteToAddrPort(msg, to); n != len(msg) || err != nil {
		t.Errorf("WriteToAddrPort after Close = %d, %v; want %d, nil", n, err, len(msg))
	}
	if n, err := uc.WriteTo(msg, net.UDPAddrFromAddrPort(to)); n != len(msg) || err != nil {
		t.Errorf("WriteTo after Close = %d, %v; want %d, nil", n, err, len(msg))
	}
	if _, _, err := uc.ReadFromAddrPort(make([]byte, 16)); err == nil {
		t.Error("ReadFromAddrPort after Close succeeded; want an error")
	}
}

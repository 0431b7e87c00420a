package hostnet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/stun/v4"
)

// socketBuffer is the size asked of the kernel for each UDP socket's send
// and receive buffers. The default (about 200 KiB) drops packets even on
// loopback once a transfer runs at full speed; the kernel caps the size at
// net.core.rmem_max and wmem_max.
const socketBuffer = 4 << 20

// Sockets listens on one UDP socket per address a host candidate may
// use, all on the same port when it is free everywhere (so a blob carries
// the port once), with large buffers, and gives them to pion as one
// [ice.UDPMux]. Pion lists its addresses at every gathering, so when the
// network changes and ICE restarts, the new addresses get sockets (on the
// same port when it is free) and sockets on addresses that went away are
// closed.
type Sockets struct {
	policy Policy
	log    logging.LeveledLogger

	mu     sync.Mutex
	port   int // the port of the first socket, tried first for new ones
	muxes  map[netip.Addr]muxed
	closed bool

	// requests is shown the STUN binding requests every socket reads,
	// once set; errorResponses the binding error responses; responses the
	// binding success responses (see [Sockets.Mapped]).
	requests, errorResponses, responses atomic.Pointer[func(Request)]

	asking asking // the questions of Mapped under way
}

// muxed is one socket and pion's mux over it.
type muxed struct {
	*ice.UDPMuxDefault
	sock *socket
}

var _ ice.UDPMux = (*Sockets)(nil)

// Request is a STUN binding request one of the sockets read, decoded.
type Request struct {
	Message *stun.Message
	From    netip.AddrPort
	socket  *socket
}

// Reply sends b to where the message came from, from the socket that
// read it.
func (r Request) Reply(b []byte) error {
	_, err := r.socket.WriteToAddrPort(b, r.From)
	return err
}

// Listen opens the host sockets for the policy's addresses.
func Listen(policy Policy, lf logging.LoggerFactory) (*Sockets, error) {
	h := &Sockets{
		policy: policy,
		log:    lf.NewLogger("ice"),
		muxes:  map[netip.Addr]muxed{},
	}
	answered := h.asking.heard
	h.responses.Store(&answered)
	addrs := policy.Addresses()
	if len(addrs) == 0 {
		return nil, ErrNoAddresses
	}
	var conns []*net.UDPConn
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
			c, lerr := listenUDP(a, 0)
			if lerr != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return nil, fmt.Errorf("listening on %s: %w", a, lerr)
			}
			conns = append(conns, c)
		}
	}
	h.port = conns[0].LocalAddr().(*net.UDPAddr).Port
	for i, c := range conns {
		h.muxes[addrs[i]] = h.mux(c)
	}
	return h, nil
}

// OnRequest shows f every STUN binding request the sockets read from then
// on, instead of the function shown them before (nil: none). f runs on
// pion's reading goroutine: it must not wait.
func (h *Sockets) OnRequest(f func(Request)) {
	if f == nil {
		h.requests.Store(nil)
		return
	}
	h.requests.Store(&f)
}

// OnFirstRequest is [Sockets.OnRequest] unless a function is shown the
// requests already.
func (h *Sockets) OnFirstRequest(f func(Request)) {
	h.requests.CompareAndSwap(nil, &f)
}

// OnErrorResponse shows f every STUN binding error response the sockets
// read from then on (nil: none), as [Sockets.OnRequest] shows requests.
func (h *Sockets) OnErrorResponse(f func(Request)) {
	if f == nil {
		h.errorResponses.Store(nil)
		return
	}
	h.errorResponses.Store(&f)
}

// Addresses lists the addresses the policy gives now.
func (h *Sockets) Addresses() []netip.Addr { return h.policy.Addresses() }

// mux gives c to pion as one of our sockets.
func (h *Sockets) mux(c *net.UDPConn) muxed {
	s := newSocket(c)
	s.requests, s.errorResponses, s.responses = &h.requests, &h.errorResponses, &h.responses
	return muxed{ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: s, Logger: h.log}), s}
}

// GetListenAddresses lists the sockets' addresses after bringing them up to
// date with the network: pion calls it each time it gathers.
func (h *Sockets) GetListenAddresses() []net.Addr {
	want := h.policy.Addresses()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	keep := map[netip.Addr]bool{}
	var out []net.Addr
	for _, a := range want {
		keep[a] = true
		m, ok := h.muxes[a]
		if !ok {
			c, err := listenUDP(a, h.port)
			if err != nil {
				c, err = listenUDP(a, 0)
			}
			if err != nil {
				continue // the address went away again, or is not ours yet
			}
			m = h.mux(c)
			h.muxes[a] = m
		}
		out = append(out, m.LocalAddr())
	}
	for a, m := range h.muxes {
		if !keep[a] {
			_ = m.Close()
			delete(h.muxes, a)
		}
	}
	return out
}

// GetConn returns the connection for ufrag on the socket of addr.
func (h *Sockets) GetConn(ufrag string, addr net.Addr) (net.PacketConn, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("no host socket for %v", addr)
	}
	ip, _ := netip.AddrFromSlice(ua.IP)
	h.mu.Lock()
	m, ok := h.muxes[ip.Unmap()]
	h.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no host socket for %v", addr)
	}
	c, err := m.GetConn(ufrag, addr)
	if err != nil {
		return nil, err
	}
	if uc, ok := c.(addrPortConn); ok {
		return ufragConn{uc}, nil
	}
	return c, nil // a pion that changed its type: TestUfragConnDropsAfterClose fails
}

// addrPortConn is the connection pion's mux gives each ICE username
// fragment on a socket.
type addrPortConn interface {
	net.PacketConn
	ice.AddrPortReaderWriter
}

// ufragConn is an ICE agent's connection on a host socket, as pion's mux
// makes it, except that a packet written after the connection closed is
// dropped, as UDP may drop it, instead of failing.
//
// An ICE restart closes the connections of the generation it leaves while
// a packet may be on its way out through them: pion's ice.Conn.Write takes
// the selected pair, then writes to its local candidate, and Restart, in
// between, clears the selected pair and closes every candidate. The write
// then fails with io.ErrClosedPipe, which DTLS calls fatal; SCTP stops
// sending for good and pion closes the peer connection, so the other side
// reads "the peer closed the connection" (the same race as
// github.com/pion/ice/pull/612, there on ICE failing). pion drops a packet
// written while no pair is selected; one written to the pair it just
// closed is lost the same way here, and SCTP sends it again over the new
// generation's pair. (pion's watchdog for a write stuck in the kernel as
// a candidate closes goes through an unexported method the wrapper cannot
// pass on; our sockets queue writes for a goroutine of their own.)
type ufragConn struct{ addrPortConn }

func (c ufragConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := c.addrPortConn.WriteTo(b, addr)
	return dropClosed(len(b), n, err)
}

func (c ufragConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	n, err := c.addrPortConn.WriteToAddrPort(b, addr)
	return dropClosed(len(b), n, err)
}

// dropClosed reports a write of size bytes that failed because the
// connection closed as written.
func dropClosed(size, n int, err error) (int, error) {
	if errors.Is(err, io.ErrClosedPipe) {
		return size, nil
	}
	return n, err
}

// RemoveConnByUfrag drops the connections for ufrag on every socket.
func (h *Sockets) RemoveConnByUfrag(ufrag string) {
	h.mu.Lock()
	muxes := make([]muxed, 0, len(h.muxes))
	for _, m := range h.muxes {
		muxes = append(muxes, m)
	}
	h.mu.Unlock()
	for _, m := range muxes {
		m.RemoveConnByUfrag(ufrag)
	}
}

// Close closes every socket.
func (h *Sockets) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for a, m := range h.muxes {
		_ = m.Close()
		delete(h.muxes, a)
	}
	return nil
}

// ErrNoAddresses means the policy gives no address to listen on.
var ErrNoAddresses = errors.New("no network address to use: is this computer on a network?")

// listenUDP listens on a and port (0: any) with large buffers.
func listenUDP(a netip.Addr, port int) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, uint16(port))))
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(socketBuffer)
	_ = c.SetWriteBuffer(socketBuffer)
	return c, nil
}

func listenSamePort(addrs []netip.Addr) ([]*net.UDPConn, error) {
	var conns []*net.UDPConn
	port := 0
	for _, a := range addrs {
		c, err := listenUDP(a, port)
		if err != nil {
			for _, c := range conns {
				_ = c.Close()
			}
			return nil, err
		}
		if port == 0 {
			port = c.LocalAddr().(*net.UDPAddr).Port
		}
		conns = append(conns, c)
	}
	return conns, nil
}

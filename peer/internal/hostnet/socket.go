package hostnet

import (
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pion/stun/v4"
)

// socket is one host UDP socket as pion's mux sees it. Its writes are
// queued and sent by a goroutine of its own. Pion's SCTP sends every packet
// of about 1,200 bytes with its own system call, from the one goroutine
// that also builds and encrypts them: at full speed that goroutine is the
// bottleneck of a transfer, and a fifth of its time went to those calls.
// Where the system segments UDP (Linux's UDP_SEGMENT), consecutive packets
// of one size to one address leave in one call, as one buffer the kernel
// cuts into packets: most of a transfer's packets are of SCTP's full size.
// Where the system joins such runs on arrival (UDP_GRO), a run that reaches
// us whole is read with one call and handed to pion packet by packet.
//
// A queued packet counts as sent: UDP promises no more, and SCTP above
// retransmits what does not arrive. A writer waits while the queue is full.
type socket struct {
	*net.UDPConn

	mu       sync.Mutex
	notEmpty sync.Cond
	notFull  sync.Cond
	queue    []*run
	free     []*run // sent, for reuse
	closed   bool
	gso      bool          // segment runs of packets in the kernel
	done     chan struct{} // closed when the sending goroutine has returned
	runs     int           // runs of several packets sent in one call

	// Reading, by pion's one reading goroutine. With gro the kernel may
	// join consecutive packets of one size from one address (sent as a
	// run) into one datagram: in holds it, and reads return its packets.
	gro    bool
	inBuf  []byte
	in     []byte // what is left of inBuf to read
	inSeg  int    // size of its packets
	inAddr netip.AddrPort
	inOOB  []byte
	joined int // datagrams of several packets received

	// requests, when it holds a function, is shown each STUN binding
	// request read (see [Sockets.OnRequest]); errorResponses each
	// binding error response; responses each binding success response.
	requests, errorResponses, responses *atomic.Pointer[func(Request)]
}

// run is packets for one address that leave in one call: all of size seg
// but the last, which may be shorter (then the run takes no more).
type run struct {
	addr netip.AddrPort
	buf  []byte
	seg  int
	n    int
	full bool
}

const (
	// maxQueued bounds the runs waiting to be sent.
	maxQueued = 32
	// maxRunBytes and maxRunPackets bound a run: a UDP datagram's payload
	// limit, and the kernel's limit on segments per call.
	maxRunBytes   = 65000
	maxRunPackets = 64
)

func newSocket(c *net.UDPConn) *socket {
	s := &socket{UDPConn: c, gso: gsoSupported(c), gro: enableGRO(c), done: make(chan struct{})}
	if s.gro {
		s.inBuf = make([]byte, 1<<16)
		s.inOOB = make([]byte, groControlSize)
	}
	s.notEmpty.L = &s.mu
	s.notFull.L = &s.mu
	go s.sendLoop()
	return s
}

// ReadFromAddrPort reads one packet (pion's mux prefers it to ReadFrom).
func (s *socket) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	if !s.gro {
		n, addr, err := s.ReadFromUDPAddrPort(b)
		if err == nil {
			s.inspect(b[:n], addr)
		}
		return n, addr, err
	}
	if len(s.in) == 0 {
		n, oobn, _, addr, err := s.ReadMsgUDPAddrPort(s.inBuf, s.inOOB)
		if err != nil {
			return 0, addr, err
		}
		s.in, s.inAddr, s.inSeg = s.inBuf[:n], addr, n
		if seg := groSize(s.inOOB[:oobn]); seg > 0 && seg < n {
			s.inSeg = seg
			s.joined++
		}
		if n == 0 {
			return 0, addr, nil
		}
	}
	n := copy(b, s.in[:min(len(s.in), s.inSeg)])
	s.in = s.in[min(len(s.in), s.inSeg):]
	s.inspect(b[:n], s.inAddr)
	return n, s.inAddr, nil
}

// inspect shows b to the requests function if b is a STUN binding
// request, and to the errorResponses function if it is a binding error
// response. Those are a few a second: the data in between (DTLS records)
// costs a comparison of its first two bytes.
func (s *socket) inspect(b []byte, from netip.AddrPort) {
	if s.requests == nil || len(b) < 2 {
		return
	}
	var hook *atomic.Pointer[func(Request)]
	switch {
	case b[0] == 0 && b[1] == 1: // 0x0001, a binding request
		hook = s.requests
	case b[0] == 1 && b[1] == 0x11: // 0x0111, a binding error response
		hook = s.errorResponses
	case b[0] == 1 && b[1] == 1: // 0x0101, a binding success response
		hook = s.responses
	default:
		return
	}
	if hook == nil {
		return
	}
	f := hook.Load()
	if f == nil || !stun.IsMessage(b) {
		return
	}
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if m.Decode() == nil {
		(*f)(Request{Message: m, From: from, socket: s})
	}
}

// ReadFrom reads one packet.
func (s *socket) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := s.ReadFromAddrPort(b)
	if !addr.IsValid() {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(addr), err
}

// WriteToAddrPort queues a copy of b for addr.
func (s *socket) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	if n := len(s.queue); n > 0 && s.gso {
		r := s.queue[n-1]
		if !r.full && r.addr == addr && len(b) <= r.seg && r.n < maxRunPackets && len(r.buf)+len(b) <= maxRunBytes {
			r.buf = append(r.buf, b...)
			r.n++
			r.full = len(b) < r.seg
			return len(b), nil
		}
	}
	for len(s.queue) >= maxQueued && !s.closed {
		s.notFull.Wait()
	}
	if s.closed {
		return 0, net.ErrClosed
	}
	var r *run
	if n := len(s.free); n > 0 {
		r, s.free = s.free[n-1], s.free[:n-1]
	} else {
		r = &run{}
	}
	*r = run{addr: addr, buf: append(r.buf[:0], b...), seg: len(b), n: 1}
	s.queue = append(s.queue, r)
	if len(s.queue) == 1 {
		s.notEmpty.Signal()
	}
	return len(b), nil
}

// WriteTo queues a copy of b for addr.
func (s *socket) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: net.UnknownNetworkError(addr.Network())}
	}
	return s.WriteToAddrPort(b, ua.AddrPort())
}

// sendLoop sends what is queued until the socket is closed and the queue
// empty.
func (s *socket) sendLoop() {
	defer close(s.done)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.notEmpty.Wait()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		if len(s.queue) == 1 && !s.closed && s.gso {
			// The run may still grow: let a writer on another thread
			// add to it first. Without this the loop took nearly every
			// packet alone on an idle machine.
			s.mu.Unlock()
			runtime.Gosched()
			s.mu.Lock()
		}
		// Take the first run; the last one may still grow.
		r := s.queue[0]
		s.queue = s.queue[1:]
		r.full = true
		s.notFull.Signal()
		s.mu.Unlock()

		s.send(r)

		s.mu.Lock()
		if len(s.free) < maxQueued {
			s.free = append(s.free, r)
		}
		s.mu.Unlock()
	}
}

// send sends a run. A packet the system refuses (an unreachable address,
// say) is lost, as UDP may lose it.
func (s *socket) send(r *run) {
	if r.n > 1 {
		_, _, err := s.WriteMsgUDPAddrPort(r.buf, gsoControl(r.seg), r.addr)
		if err == nil {
			s.runs++
		}
		if err == nil || !isGSOError(err) {
			return
		}
		// This path does not segment after all: one packet per call
		// from now on.
		s.mu.Lock()
		s.gso = false
		s.mu.Unlock()
	}
	for b := r.buf; len(b) > 0; {
		p := b[:min(len(b), r.seg)]
		_, _ = s.WriteToUDPAddrPort(p, r.addr)
		b = b[len(p):]
	}
}

// Close sends what is queued, then closes the socket.
func (s *socket) Close() error {
	s.mu.Lock()
	s.closed = true
	s.notEmpty.Signal()
	s.notFull.Broadcast()
	s.mu.Unlock()
	<-s.done
	return s.UDPConn.Close()
}

package hostnet

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v4"
)

// Mapping is the address a STUN server saw one of the sockets at.
type Mapping struct {
	Local  netip.AddrPort // the socket's address
	Mapped netip.AddrPort // where the server saw it: behind a NAT, the NAT's
}

// mappedRetry is how often Mapped asks again a server that did not answer.
const mappedRetry = 250 * time.Millisecond

// Mapped asks each STUN server, from each socket of the server's address
// family, at what address it sees that socket, until every one answered or
// ctx ends, and returns the answers. pion's gathering asks from sockets of
// its own, which live as long as the connection that gathered: connections
// that share these sockets (an open room's, peer/room.go) need addresses
// that lead to the sockets themselves.
func (h *Sockets) Mapped(ctx context.Context, servers []netip.AddrPort) []Mapping {
	type question struct {
		sock   *socket
		local  netip.AddrPort
		server netip.AddrPort
		raw    []byte
		id     [stun.TransactionIDSize]byte
	}
	var qs []*question
	h.mu.Lock()
	for a, m := range h.muxes {
		local := netip.AddrPortFrom(a, uint16(m.sock.LocalAddr().(*net.UDPAddr).Port))
		for _, srv := range servers {
			if srv.Addr().Unmap().Is4() != a.Is4() {
				continue
			}
			msg, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
			if err != nil {
				continue
			}
			qs = append(qs, &question{sock: m.sock, local: local, server: srv, raw: msg.Raw, id: msg.TransactionID})
		}
	}
	h.mu.Unlock()
	if len(qs) == 0 {
		return nil
	}
	answers := make(chan answer, len(qs))
	for _, q := range qs {
		h.asking.ask(q.id, answers)
		defer h.asking.forget(q.id)
	}
	got := map[[stun.TransactionIDSize]byte]netip.AddrPort{}
	tick := time.NewTicker(mappedRetry)
	defer tick.Stop()
	for {
		for _, q := range qs {
			if _, ok := got[q.id]; !ok {
				_, _ = q.sock.WriteToAddrPort(q.raw, q.server)
			}
		}
		select {
		case a := <-answers:
			got[a.id] = a.mapped
		case <-tick.C:
		case <-ctx.Done():
		}
		// Take every answer in already.
		for more := true; more; {
			select {
			case a := <-answers:
				got[a.id] = a.mapped
			default:
				more = false
			}
		}
		if len(got) == len(qs) || ctx.Err() != nil {
			break
		}
	}
	var out []Mapping
	for _, q := range qs {
		if m, ok := got[q.id]; ok {
			out = append(out, Mapping{Local: q.local, Mapped: m})
		}
	}
	return out
}

// answer is a STUN server's answer to one of Mapped's questions.
type answer struct {
	id     [stun.TransactionIDSize]byte
	mapped netip.AddrPort
}

// asking keeps the questions Mapped has sent, by transaction ID.
type asking struct {
	mu      sync.Mutex
	pending map[[stun.TransactionIDSize]byte]chan<- answer
}

func (a *asking) ask(id [stun.TransactionIDSize]byte, to chan<- answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[[stun.TransactionIDSize]byte]chan<- answer{}
	}
	a.pending[id] = to
}

func (a *asking) forget(id [stun.TransactionIDSize]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.pending, id)
}

// heard is a binding success response one of the sockets read (on pion's
// reading goroutine: it does not wait). Responses to pion's own checks
// are none of ours.
func (a *asking) heard(r Request) {
	a.mu.Lock()
	to, ok := a.pending[r.Message.TransactionID]
	a.mu.Unlock()
	if !ok {
		return
	}
	var xa stun.XORMappedAddress
	if xa.GetFrom(r.Message) != nil {
		return
	}
	ip, ok := netip.AddrFromSlice(xa.IP)
	if !ok {
		return
	}
	select {
	case to <- answer{id: r.Message.TransactionID, mapped: netip.AddrPortFrom(ip.Unmap(), uint16(xa.Port))}:
	default:
	}
}

package peer

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/peer/internal/hostnet"
)

// Endpoint is one end of the path the connection took.
type Endpoint struct {
	Type     string // host, srflx, prflx or relay
	Protocol string // udp or tcp
	Address  string
	Port     uint16
	// Name is the mDNS name (.local) the other side's description gave
	// for Address, when it gave one and it was resolved on the LAN.
	Name string
}

func (e Endpoint) String() string {
	return e.Type + " " + net.JoinHostPort(e.Address, strconv.Itoa(int(e.Port)))
}

// Path is the candidate pair the connection uses, how long it took to open
// and how long the answer took to arrive before that.
type Path struct {
	Local, Remote Endpoint
	// Setup is how long the connection took to open once its attempt
	// began on this side: from the answer applied (offerer), or from the
	// offerer's first check heard (answerer; the answer made if none was
	// seen).
	Setup time.Duration
	// Waited is how long the answer took to arrive: from our offer made
	// to the answer applied (offerer), or from our answer made to the
	// offerer's first check (answerer). That is the time the person took
	// to carry it.
	Waited time.Duration
	// SameMachine reports that the other side's address is one of this
	// machine's: both ends run here and share its cores.
	SameMachine bool
	// Opened is when the connection opened.
	Opened time.Time
}

func (p Path) String() string {
	return fmt.Sprintf("%s <-> %s over %s", p.Local, p.Remote, p.Local.Protocol)
}

// selectedPair is the candidate pair ICE selected, with both candidates.
func (p *Peer) selectedPair() (*webrtc.ICECandidatePair, error) {
	pair, err := p.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil {
		return nil, fmt.Errorf("reading the selected path: %w", err)
	}
	if pair == nil || pair.Local == nil || pair.Remote == nil {
		return nil, errors.New("reading the selected path: no path selected yet")
	}
	return pair, nil
}

// Path reports the path of an open connection.
func (p *Peer) Path() (Path, error) {
	pair, err := p.selectedPair()
	if err != nil {
		return Path{}, err
	}
	p.mu.Lock()
	began := p.started
	if at := p.checkedAt.Load(); at != 0 && time.Unix(0, at).Before(p.openedAt) {
		began = time.Unix(0, at)
	}
	setup, waited, opened := p.openedAt.Sub(began), began.Sub(p.madeAt), p.openedAt
	p.mu.Unlock()
	remote := Endpoint{Type: pair.Remote.Typ.String(), Protocol: pair.Remote.Protocol.String(), Address: pair.Remote.Address, Port: pair.Remote.Port}
	for name, addr := range p.names {
		if addr.String() == remote.Address {
			remote.Name = name
		}
	}
	return Path{
		Local:       Endpoint{Type: pair.Local.Typ.String(), Protocol: pair.Local.Protocol.String(), Address: pair.Local.Address, Port: pair.Local.Port},
		Remote:      remote,
		Setup:       setup,
		Waited:      waited,
		SameMachine: pair.Remote.Typ == webrtc.ICECandidateTypeHost && isLocalAddress(pair.Remote.Address),
		Opened:      opened,
	}, nil
}

// isLocalAddress reports whether addr is loopback or an address of one of
// this machine's interfaces.
func isLocalAddress(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if local, ok := netip.AddrFromSlice(n.IP); ok && local.Unmap() == ip.Unmap() {
				return true
			}
		}
	}
	return false
}

// watchFirstCheck notes when the first STUN binding request arrives
// (answerer): the offerer checks the path once it has applied the answer,
// so that is when the connection attempt began. Once the channel opens the
// requests go to [Peer.heardRequest] instead.
func (p *Peer) watchFirstCheck() {
	p.host.OnFirstRequest(func(hostnet.Request) { p.checkedAt.CompareAndSwap(0, time.Now().UnixNano()) })
}

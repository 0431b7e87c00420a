package peer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"pigeon/peer/internal/hostnet"
	"pigeon/sdpcodec"
)

// Open rooms: one offer, many joiners, one connection each.
//
// An open room offer is an open offer (open.go) for app room. Every
// joiner's connection to the host is a peer of its own, and all of them
// use the room's certificate (the offer's fingerprint) and the room's host
// sockets (the offer's candidates). The sockets tell the connections apart
// by the host's ICE username fragment, which differs for each joiner:
// [sdpcodec.RoomCredentials] derives it, and its password, from the
// offer's secret and both fingerprints, so the joiner knows it from the
// offer and its own certificate, and no one without the offer does.
//
// When a joiner's first check reaches the room's sockets, naming a
// fragment and a joiner that the room has no connection for yet and
// signed with the password of that pair, the room makes the host's peer
// for that joiner (with those credentials), applies the answer the check
// stands for, and hands the peer out. Connections that share one
// certificate and one set of sockets cannot restart ICE apart from each
// other (restarts derive their credentials from the certificate), so an
// open room's connections do not restart: a member whose network changes
// leaves the room and joins again.

// ErrRoomFull means the room admits no more members.
var ErrRoomFull = errors.New("the room is full; ask its host to make room")

// RoomOffer is the host's side of an open room offer.
type RoomOffer struct {
	opts   Options
	base   *base
	local  *sdpcodec.Blob
	secret [sdpcodec.SecretLen]byte
	state  *openState // for reporting refusals
	guests chan *Peer

	mu      sync.Mutex
	admit   int                 // how many more joiners it admits
	known   map[[32]byte]string // joiners admitted or being admitted: the host's ufrag for each
	closed  bool
	pending sync.WaitGroup
}

// OfferRoom makes an open room offer that admits up to max joiners, each
// handed out on [RoomOffer.Guests] as the host's peer for it, its answer
// applied: [Peer.Connect] waits for it to open. The offer expires as an
// open offer does; [Options.OnJoinRefused] hears of joiners turned away
// (the room full or the offer expired).
func OfferRoom(ctx context.Context, opts Options, max int) (*RoomOffer, error) {
	opts = opts.withDefaults()
	r := &RoomOffer{opts: opts, guests: make(chan *Peer, max), admit: max, known: map[[32]byte]string{}}
	if _, err := rand.Read(r.secret[:]); err != nil {
		return nil, fmt.Errorf("making the offer's secret: %w", err)
	}
	b, err := newBase(opts)
	if err != nil {
		return nil, err
	}
	b.owned = false // the room's: its peers share it
	r.base = b
	// The offer is the description of a peer on the room's base, which
	// then goes: each joiner gets a peer of its own.
	lobby, err := offer(ctx, opts, sdpcodec.AppRoom, func(fp [32]byte) (string, string) { return sdpcodec.OpenCredentials(fp, r.secret) }, b)
	if err != nil {
		b.host.Close()
		return nil, err
	}
	r.local = lobby.Local()
	_ = lobby.Close()
	r.local.Candidates = r.candidates(ctx, r.local.Candidates)
	expires := time.Now().Add(opts.AnswerWait).Truncate(time.Minute).Add(time.Minute)
	r.local.Open = &sdpcodec.Open{Secret: r.secret, Expires: expires}
	r.state = &openState{offer: b.fp, secret: r.secret, expires: expires, refused: map[[32]byte]time.Time{}}
	b.host.OnRequest(r.heard)
	return r, nil
}

// candidates are the room's candidates: the lobby's host candidates, and
// the addresses STUN servers see the room's own sockets at. The lobby's
// server-reflexive and relayed candidates came from sockets of its own
// (pion gathers them so), closed with it: a joiner checking them would
// reach nothing.
func (r *RoomOffer) candidates(ctx context.Context, lobby []sdpcodec.Candidate) []sdpcodec.Candidate {
	var out []sdpcodec.Candidate
	seen := map[netip.AddrPort]bool{}
	for _, c := range lobby {
		if c.Type == sdpcodec.Host {
			out = append(out, c)
			if c.Hostname == "" {
				seen[netip.AddrPortFrom(c.Addr, c.Port)] = true
			}
		}
	}
	servers := stunServers(ctx, r.opts.ICEServers)
	if len(servers) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.GatherTimeout)
	defer cancel()
	for _, m := range r.base.host.Mapped(ctx, servers) {
		a := netip.AddrPortFrom(m.Mapped.Addr().Unmap(), m.Mapped.Port())
		if seen[a] {
			continue // no NAT between: the host candidate says it
		}
		seen[a] = true
		out = append(out, sdpcodec.Candidate{Type: sdpcodec.Srflx, Transport: sdpcodec.UDP, Addr: a.Addr(), Port: a.Port()})
	}
	return out
}

// stunServers are the addresses of the STUN servers among servers.
func stunServers(ctx context.Context, servers []webrtc.ICEServer) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range servers {
		for _, u := range s.URLs {
			uri, err := stun.ParseURI(u)
			if err != nil || uri.Scheme != stun.SchemeTypeSTUN {
				continue
			}
			addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", uri.Host)
			if err != nil {
				continue
			}
			for _, a := range addrs {
				out = append(out, netip.AddrPortFrom(a.Unmap(), uint16(uri.Port)))
			}
		}
	}
	return out
}

// Local is the room's offer.
func (r *RoomOffer) Local() *sdpcodec.Blob { return r.local }

// Guests hands out the host's peer for each joiner admitted.
func (r *RoomOffer) Guests() <-chan *Peer { return r.guests }

// Admit gives the room room for n more joiners (a member left), or takes
// it back (n < 0).
func (r *RoomOffer) Admit(n int) {
	r.mu.Lock()
	r.admit += n
	r.mu.Unlock()
}

// Close stops admitting joiners and closes the room's sockets: call it
// once every peer the room handed out is closed.
func (r *RoomOffer) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.pending.Wait()
	r.base.host.Close()
}

// heard looks at a binding request the room's sockets read (on pion's
// reading goroutine: it must not wait).
func (r *RoomOffer) heard(req hostnet.Request) {
	var u stun.Username
	if u.GetFrom(req.Message) != nil {
		return
	}
	ours, theirs, _ := strings.Cut(u.String(), ":")
	fp, ok := sdpcodec.JoinerFingerprint(theirs)
	if !ok {
		return
	}
	ufrag, pwd := sdpcodec.RoomCredentials(r.base.fp, r.secret, fp)
	if ours != ufrag || stun.NewShortTermIntegrity(pwd).Check(req.Message) != nil {
		return // not from someone who read the offer
	}
	r.mu.Lock()
	_, known := r.known[fp]
	reason := ""
	switch {
	case known || r.closed:
		r.mu.Unlock()
		return // its peer answers its checks
	case r.state.expired(time.Now()):
		reason = reasonExpired
	case r.admit <= 0:
		reason = reasonFull
	default:
		r.known[fp] = ufrag
		r.admit--
		r.pending.Add(1)
	}
	r.mu.Unlock()
	if reason != "" {
		refuse(req, pwd, reason)
		if r.state.report(fp) && r.opts.OnJoinRefused != nil {
			r.opts.OnJoinRefused(JoinRefusal{From: req.From, Expired: reason == reasonExpired, Full: reason == reasonFull})
		}
		return
	}
	from := req.From.Addr().Unmap()
	answer := &sdpcodec.Blob{
		Kind:        sdpcodec.Answer,
		Binding:     sdpcodec.BindingOf(r.local),
		Fingerprint: fp,
		Candidates:  []sdpcodec.Candidate{{Type: sdpcodec.Host, Transport: sdpcodec.UDP, Addr: from, Port: req.From.Port()}},
	}
	go func() { _ = r.admitJoiner(answer, ufrag, pwd, true) }()
}

// Accept admits the joiner whose answer was carried by hand: one that
// could not reach the room directly, and showed its answer. The host's
// peer for it is handed out on [RoomOffer.Guests] as for any joiner. It
// fails as [Peer.Accept] does, or with [ErrRoomFull] or [ErrOfferExpired].
func (r *RoomOffer) Accept(answer *sdpcodec.Blob) error {
	switch {
	case answer.Kind == sdpcodec.Offer && answer.Fingerprint == r.local.Fingerprint:
		return ErrOwnOffer
	case answer.Kind == sdpcodec.Offer:
		return ErrNotAnswer
	case answer.Kind == sdpcodec.Reconnect:
		return ErrReconnectBlob
	case !answer.Answers(r.local):
		return ErrOtherOffer
	case answer.CarriesCredentials():
		return ErrPageOpen
	}
	fp := answer.Fingerprint
	ufrag, pwd := sdpcodec.RoomCredentials(r.base.fp, r.secret, fp)
	r.mu.Lock()
	_, known := r.known[fp]
	switch {
	case known:
		r.mu.Unlock()
		return ErrAnswerApplied
	case r.closed:
		r.mu.Unlock()
		return ErrClosed
	case r.state.expired(time.Now()):
		r.mu.Unlock()
		return ErrOfferExpired
	case r.admit <= 0:
		r.mu.Unlock()
		return ErrRoomFull
	}
	r.known[fp] = ufrag
	r.admit--
	r.pending.Add(1)
	r.mu.Unlock()
	return r.admitJoiner(answer, ufrag, pwd, false)
}

// admitJoiner makes the host's peer for the joiner of answer, with the
// host's credentials for it, applies the answer and hands the peer out.
// joined says the answer is the one a joiner's check stood for. The
// joiner is known, its place taken, and one pending admission counted.
func (r *RoomOffer) admitJoiner(answer *sdpcodec.Blob, ufrag, pwd string, joined bool) error {
	defer r.pending.Done()
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.GatherTimeout+time.Second)
	defer cancel()
	forget := func() {
		r.mu.Lock()
		delete(r.known, answer.Fingerprint)
		r.admit++
		r.mu.Unlock()
	}
	p, err := offer(ctx, r.opts, sdpcodec.AppRoom, func([32]byte) (string, string) { return ufrag, pwd }, r.base)
	if err != nil {
		forget()
		return err
	}
	p.inRoom = true
	p.open = &openState{offer: r.base.fp, secret: r.secret, refused: map[[32]byte]time.Time{}}
	a := *answer
	a.Binding = sdpcodec.BindingOf(p.local) // the peer's own description: the room's offer, its credentials aside
	if err := p.accept(&a, p.joinerSDP(&a), false); err != nil {
		_ = p.Close()
		forget()
		return err
	}
	p.open.joined.Store(joined)
	r.guests <- p
	return nil
}

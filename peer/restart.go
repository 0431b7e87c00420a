package peer

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"pigeon/peer/internal/hostnet"
	"pigeon/sdpcodec"
)

// ICE restarts. See doc/reconnect.md for the design; in short:
//
//   - Generation g of a session uses the ICE credentials
//     sdpcodec.CredentialsAt(fingerprint, g) on both sides, so a restart
//     needs only g and, at most, new candidates: 0 is the session's first
//     connection, and every restart moves both sides to a higher one.
//   - A peer restarts when its addresses change (after telling the other
//     side over the control channel while it still can), when the
//     connection went silent (ICE disconnected: the other side may have
//     moved), and when the other side asks, in band or through a reconnect
//     blob a person carried.
//   - The roles of the first exchange never change: the offerer always makes
//     the restart's offer and the answerer its answer. Each side completes
//     the exchange at once, with the other side's description rebuilt from
//     what it knows, so no offer is ever outstanding and pion, which cannot
//     roll back, never has to: two requests that cross resolve by their
//     generations, the higher one winning and an equal one adding
//     candidates.

// controlLabel names the control channel, which the offerer opens as soon
// as the connection is up when the other side is pigeon too.
const controlLabel = "pigeon-control"

// networkPoll is how often a connected peer looks at its addresses.
const networkPoll = time.Second

// inBandWait bounds how long a peer whose addresses changed waits for the
// other side to acknowledge its restart request before restarting anyway.
const inBandWait = time.Second

// Errors from [Peer.Reconnect] when a person brings the wrong reconnect
// blob. None of them harms the session.
var (
	ErrOwnReconnect    = errors.New("this is this computer's own reconnect blob; paste it on the other computer")
	ErrOtherSession    = errors.New("this reconnect blob belongs to another session")
	ErrStaleReconnect  = errors.New("this reconnect blob is older than the connection it would restart; use the newest one")
	ErrCannotReconnect = errors.New("this session cannot restart: the other side is a browser or another program, not pigeon")
	ErrNotReconnect    = errors.New("this is not a reconnect blob")
)

// NetworkChange reports that this computer's addresses changed during the
// session and the connection restarted ICE for them.
type NetworkChange struct {
	// Generation is the ICE generation the connection moved to.
	Generation uint16
	// Told reports whether the other side acknowledged the request sent
	// over the connection within a second. Unacknowledged, it may still
	// arrive; and the other side restarts too when the connection goes
	// silent.
	Told bool
	// Reconnected reports whether the connection came back within the lost
	// timeout, time for the other side to notice the silence and restart
	// too. If it did not, Blob must be carried to the other side
	// (see [Peer.Reconnect]): it cannot reach this side's new addresses.
	Reconnected bool
	// Blob is this side's reconnect blob for the new generation.
	Blob *sdpcodec.Blob
}

// settingEngineOf returns the SettingEngine api keeps. pion copies the one
// it is given and reads the local ICE credentials from that copy at every
// ICE restart; ours are set per generation, so we need the copy itself.
// The field is not exported: reflection finds it, and [newPeer] fails
// loudly (a test covers it) if a pion upgrade renames it.
func settingEngineOf(api *webrtc.API) (*webrtc.SettingEngine, error) {
	f := reflect.ValueOf(api).Elem().FieldByName("settingEngine")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*webrtc.SettingEngine]() || f.IsNil() {
		return nil, errors.New("pion's API has no settingEngine field: ICE restarts need updating for this pion version")
	}
	return (*webrtc.SettingEngine)(f.UnsafePointer()), nil
}

// session returns the session value reconnect blobs of p's session carry.
func (p *Peer) session() (uint16, bool) {
	remote := p.Remote()
	if remote == nil {
		return 0, false
	}
	if p.kind == sdpcodec.Offer {
		return sdpcodec.SessionOf(p.local.Fingerprint, remote.Fingerprint), true
	}
	return sdpcodec.SessionOf(remote.Fingerprint, p.local.Fingerprint), true
}

// Generation is the ICE generation the connection is in: 0 until the first
// restart.
func (p *Peer) Generation() uint16 {
	p.restartMu.Lock()
	defer p.restartMu.Unlock()
	return p.gen
}

// Reconnect applies a reconnect blob the other side made (see
// [NetworkChange]): ICE restarts towards its candidates, or, if it is for
// the generation already in use, they are added. A wrong blob returns
// [ErrNotReconnect], [ErrOwnReconnect], [ErrOtherSession],
// [ErrStaleReconnect] or [ErrCannotReconnect] and changes nothing.
func (p *Peer) Reconnect(b *sdpcodec.Blob) error {
	if b.Kind != sdpcodec.Reconnect {
		return ErrNotReconnect
	}
	session, ok := p.session()
	switch {
	case !ok || !p.restarts():
		return ErrCannotReconnect
	case b.Session != session:
		return ErrOtherSession
	case b.FromOfferer == (p.kind == sdpcodec.Offer):
		return ErrOwnReconnect
	}
	select {
	case <-p.opened:
	default:
		return errors.New("the connection has not opened yet: a reconnect blob is for a session that was connected")
	}
	return p.restartTo(b.Generation, b.Candidates, true)
}

// restartTo moves ICE to generation gen with the other side's candidates
// cands (nil: the last ones known). A generation already in use only adds
// cands; an older one is refused when stale is set and ignored otherwise.
func (p *Peer) restartTo(gen uint16, cands []sdpcodec.Candidate, stale bool) error {
	p.restartMu.Lock()
	defer p.restartMu.Unlock()
	select {
	case <-p.done:
		return p.Err()
	default:
	}
	switch {
	case gen < p.gen && stale:
		return ErrStaleReconnect
	case gen < p.gen:
		return nil
	case gen == p.gen:
		return p.addCandidates(cands)
	}
	if cands == nil {
		cands = p.knownCandidates()
	}
	p.restarting()
	p.armLost(p.opts.LostTimeout)
	p.se.SetICECredentials(sdpcodec.CredentialsAt(p.local.Fingerprint, gen))
	remote := &sdpcodec.Blob{Fingerprint: p.Remote().Fingerprint, Generation: gen, Candidates: cands}
	var err error
	if p.kind == sdpcodec.Offer {
		remote.Kind = sdpcodec.Answer
		var offer webrtc.SessionDescription
		offer, err = p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
		if err == nil {
			err = p.pc.SetLocalDescription(offer)
		}
		if err == nil {
			err = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: remote.SDP()})
		}
	} else {
		remote.Kind = sdpcodec.Offer
		err = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: remote.SDP()})
		var answer webrtc.SessionDescription
		if err == nil {
			answer, err = p.pc.CreateAnswer(nil)
		}
		if err == nil {
			err = p.pc.SetLocalDescription(answer)
		}
	}
	if err != nil {
		err = fmt.Errorf("restarting the connection: %w", err)
		p.end(err)
		return err
	}
	p.gen = gen
	p.remoteCands = cands
	raise(&p.followed, uint32(gen))
	if p.kind == sdpcodec.Offer {
		go p.restartLanes()
	}
	return nil
}

// restarting records and reports that ICE restarts. Recorded, it makes
// the next Connected a change: pion may be connected again before it
// reports connecting.
func (p *Peer) restarting() {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	p.mu.Lock()
	p.state = StateRestarting
	p.mu.Unlock()
	if p.opts.OnState != nil {
		p.opts.OnState(StateRestarting)
	}
}

// raise sets v to n unless it holds more already.
func raise(v *atomic.Uint32, n uint32) {
	for old := v.Load(); old < n; old = v.Load() {
		if v.CompareAndSwap(old, n) {
			return
		}
	}
}

// followAhead is how many generations past ours [Peer.heardRequest] looks
// for in the other side's checks.
const followAhead = 4

// heardRequest follows the other side's ICE restart as soon as its checks
// reach one of our host sockets. A side restarts on its own when the
// connection went silent for it; when the link came back just before, the
// other side was not silent long enough to restart too, and it would
// discard the new generation's checks until the first side gave up. The
// checks name our credentials of their generation in their USERNAME and
// are signed with our password of it: a valid one of a later generation
// is the other side's restart request.
func (p *Peer) heardRequest(r hostnet.Request) {
	if p.open != nil && p.kind == sdpcodec.Offer && p.heardJoiner(r) {
		return
	}
	m := r.Message
	var u stun.Username
	if u.GetFrom(m) != nil {
		return
	}
	ufrag, _, _ := strings.Cut(u.String(), ":")
	// This runs on pion's reading goroutine: it must not wait for a
	// restart under way.
	gen := uint16(p.followed.Load())
	for g := gen + 1; g != gen+1+followAhead; g++ {
		want, pwd := sdpcodec.CredentialsAt(p.local.Fingerprint, g)
		if ufrag != want {
			continue
		}
		if stun.NewShortTermIntegrity(pwd).Check(m) != nil {
			return
		}
		// Checks come several a second until we restart: follow each
		// generation once.
		if p.followed.CompareAndSwap(uint32(gen), uint32(g)) {
			go func() { _ = p.restartTo(g, nil, false) }()
		}
		return
	}
}

// restartNext restarts ICE in the next generation, towards the other
// side's candidates as last known.
func (p *Peer) restartNext() {
	p.restartMu.Lock()
	gen := p.gen + 1
	p.restartMu.Unlock()
	_ = p.restartTo(gen, nil, false)
}

// knownCandidates returns the other side's candidates as last known: from
// its last blob, plus the address the connection last reached it at (a
// peer-reflexive one, say, learned from its checks through a NAT).
func (p *Peer) knownCandidates() []sdpcodec.Candidate {
	cands := p.remoteCands
	if p.gen == 0 {
		cands = p.Remote().Candidates
	}
	cands = slices.Clone(cands)
	pair, err := p.selectedPair()
	if err != nil || pair.Remote.Protocol != webrtc.ICEProtocolUDP {
		return cands
	}
	addr, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return cands // an mDNS name: already among the candidates
	}
	c := sdpcodec.Candidate{Type: sdpcodec.Prflx, Addr: addr.Unmap(), Port: pair.Remote.Port}
	for _, k := range cands {
		if k.Addr == c.Addr && k.Port == c.Port && k.Transport == sdpcodec.UDP {
			return cands
		}
	}
	if len(cands) < sdpcodec.MaxCandidates {
		cands = append(cands, c)
	}
	return cands
}

// addCandidates adds the other side's candidates to the current generation.
func (p *Peer) addCandidates(cands []sdpcodec.Candidate) error {
	remote := &sdpcodec.Blob{Kind: sdpcodec.Answer, Candidates: cands}
	for i, c := range cands {
		if slices.Contains(p.remoteCands, c) {
			continue
		}
		line := remote.CandidateLine(i)
		if err := p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: line}); err != nil {
			return fmt.Errorf("adding the peer's candidate %s: %w", c, err)
		}
		p.remoteCands = append(p.remoteCands, c)
	}
	return nil
}

// reconnectBlob returns our reconnect blob for the current generation,
// once gathering is over (or after the gather timeout).
func (p *Peer) reconnectBlob() (*sdpcodec.Blob, error) {
	deadline := time.Now().Add(p.opts.GatherTimeout)
	for p.pc.ICEGatheringState() != webrtc.ICEGatheringStateComplete && time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, p.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	cands, err := sdpcodec.CandidatesOf(p.pc.LocalDescription().SDP)
	if err != nil {
		return nil, err
	}
	session, _ := p.session()
	return &sdpcodec.Blob{
		Kind:        sdpcodec.Reconnect,
		Session:     session,
		FromOfferer: p.kind == sdpcodec.Offer,
		Generation:  p.Generation(),
		Candidates:  cands,
	}, nil
}

// networkChanged restarts ICE for our new addresses: it tells the other
// side first, over the control channel, if the connection still carries
// it, then restarts and reports the change with our reconnect blob.
func (p *Peer) networkChanged() {
	p.restartMu.Lock()
	gen := p.gen + 1
	p.restartMu.Unlock()
	told := p.tell(gen)
	if err := p.restartTo(gen, nil, false); err != nil {
		return
	}
	blob, err := p.reconnectBlob()
	if err != nil || p.opts.OnNetworkChange == nil {
		return
	}
	back := p.waitConnected(p.opts.LostTimeout)
	select {
	case <-p.done:
		return
	default:
	}
	p.opts.OnNetworkChange(NetworkChange{Generation: blob.Generation, Told: told, Reconnected: back, Blob: blob})
}

// waitConnected reports whether the connection is up within d.
func (p *Peer) waitConnected(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		p.mu.Lock()
		up := p.state == StateConnected
		p.mu.Unlock()
		if up || time.Now().After(deadline) {
			return up
		}
		select {
		case <-p.done:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Control messages: a request is the text of a reconnect blob (for the
// generation to move to, usually without candidates); its receiver
// answers with ackPrefix and the same text, then restarts.
const ackPrefix = "ack "

// maxControlMessage bounds a message on the control channel: a lane's
// description (link.Desc) is the largest.
const maxControlMessage = 64 << 10

// ackFlush is how long the receiver of a request lets its acknowledgement
// leave before it restarts ICE, which drops the path it would leave by.
const ackFlush = 50 * time.Millisecond

// tell asks the other side over the control channel to move to generation
// gen, and reports whether it acknowledged within [inBandWait].
func (p *Peer) tell(gen uint16) bool {
	p.mu.Lock()
	rw, acks := p.controlRW, p.acks
	p.mu.Unlock()
	session, ok := p.session()
	if rw == nil || !ok {
		return false
	}
	req := &sdpcodec.Blob{Kind: sdpcodec.Reconnect, Session: session, FromOfferer: p.kind == sdpcodec.Offer, Generation: gen}
	text, err := req.Encode()
	if err != nil {
		return false
	}
	if _, err := rw.Write([]byte(text)); err != nil {
		return false
	}
	deadline := time.NewTimer(inBandWait)
	defer deadline.Stop()
	for {
		select {
		case acked := <-acks:
			if acked == gen {
				return true
			}
		case <-deadline.C:
			return false
		case <-p.done:
			return false
		}
	}
}

// openControl opens the control channel (offerer).
func (p *Peer) openControl() {
	dc, err := p.pc.CreateDataChannel(controlLabel, nil)
	if err != nil {
		return // no restarts in band: a reconnect blob still works
	}
	dc.OnOpen(func() { p.onControlOpen(dc) })
}

// onControlOpen detaches the control channel and serves it: requests are
// acknowledged and applied, acknowledgements go to [Peer.tell].
func (p *Peer) onControlOpen(dc *webrtc.DataChannel) {
	rw, err := dc.Detach()
	if err != nil {
		return
	}
	acks := make(chan uint16, 4)
	p.mu.Lock()
	p.controlRW, p.acks = rw, acks
	p.mu.Unlock()
	close(p.control)
	go func() {
		buf := make([]byte, maxControlMessage)
		for {
			n, err := rw.Read(buf)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			if p.onLaneMessage(msg) || p.onVerifyMessage(msg) {
				continue
			}
			text, isAck := strings.CutPrefix(msg, ackPrefix)
			b, err := sdpcodec.Decode(text)
			if err != nil || b.Kind != sdpcodec.Reconnect {
				continue // a newer pigeon's message: nothing to do with it
			}
			if isAck {
				select {
				case acks <- b.Generation:
				default:
				}
				continue
			}
			_, _ = rw.Write([]byte(ackPrefix + text))
			// In its own goroutine: the restart waits on pion, which may
			// wait for this reader.
			go func() {
				time.Sleep(ackFlush)
				_ = p.Reconnect(b)
			}()
		}
	}()
}

// watchNetwork restarts ICE whenever the addresses host candidates would
// use change, until the peer ends.
func (p *Peer) watchNetwork() {
	last := fmt.Sprint(p.host.Addresses())
	t := time.NewTicker(networkPoll)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		now := fmt.Sprint(p.host.Addresses())
		if now == last {
			continue
		}
		// Addresses come and go in bursts (one removed, one added): wait
		// for a poll that sees no further change.
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		if again := fmt.Sprint(p.host.Addresses()); again != now {
			continue
		}
		last = now
		p.networkChanged()
	}
}

package peer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"pigeon/peer/internal/hostnet"
	"pigeon/sdpcodec"
)

// Peer is one end of a connection. Make one with [Offer] or [Answer]; it is
// safe for concurrent use.
type Peer struct {
	opts     Options
	kind     sdpcodec.Kind
	cert     *webrtc.Certificate // also the lanes' (lanes.go)
	loopOnly bool
	host     *hostnet.Sockets // pion does not close a mux it was given
	ownsHost bool             // host is ours to close, not a room's
	local0   [32]byte         // our certificate's fingerprint
	pc       *webrtc.PeerConnection
	main     *Conn // channel 0, pre-negotiated
	local    *sdpcodec.Blob
	relay    *relayLog // why TURN servers gave no relayed candidate
	// gatherErr is what went wrong while gathering, once it has ended.
	gatherErr error

	opened chan struct{} // closed once channel 0 is open and detached
	done   chan struct{} // closed once the peer has ended; err says why

	foreign atomic.Bool // the other side is not pigeon: no restarts
	// page: the other side is pigeon's web page, whose blob carries the ICE
	// credentials its browser chose. It runs pigeon's apps on channel 0,
	// but has neither lanes nor the control channel: no restarts.
	page atomic.Bool
	// announced: our offer announced a channel for other programs
	// (Options.Announce); app is the channel the app runs over with them
	// (foreign.go).
	announced bool
	app       appChannel
	// names are the other side's mDNS names that resolved before its
	// description was applied (mdns.go); set once, before the connection.
	names map[string]netip.Addr
	se    *webrtc.SettingEngine // pion's copy, for restart credentials
	// creds are the first connection's ICE credentials for a fingerprint.
	creds func([32]byte) (string, string)
	// open is set when the offer is open (open.go), on both sides.
	open *openState
	// inRoom: the connection is one of an open room's (room.go), whose
	// host's connections share one certificate and one set of sockets:
	// no ICE restarts, lanes or control channel. Set before it connects.
	inRoom bool

	restartMu   sync.Mutex // serializes ICE restarts; guards the fields below
	gen         uint16
	remoteCands []sdpcodec.Candidate // the other side's, as last known

	// followed is the latest generation in use or being restarted to,
	// read without waiting by heardRequest.
	followed atomic.Uint32

	// checkedAt is when the answerer heard the offerer's first check, in
	// Unix nanoseconds: the connection attempt began (see [Path]).
	checkedAt atomic.Int64

	// stateMu serializes the handling and reporting of state changes
	// (onConnectionState, and a restart's Restarting).
	stateMu sync.Mutex

	mu        sync.Mutex
	remote    *sdpcodec.Blob
	madeAt    time.Time // our blob made
	started   time.Time // answer applied (offerer) or made (answerer)
	openedAt  time.Time
	err       error
	channels  channels // the other channels, opened by either side
	lostTimer *time.Timer
	connTimer *time.Timer
	state     State                       // pion's connection state as last handled, or Restarting
	waiting   bool                        // lost, waiting up to ReconnectWait for a reconnection
	controlRW datachannel.ReadWriteCloser // the control channel, detached, once open
	control   chan struct{}               // closed once controlRW is set
	acks      chan uint16                 // generations the other side acknowledged
	lanes     lanes
}

// Offer makes an offering peer for app and gathers its candidates; its blob
// is [Peer.Local]. It returns within [Options.GatherTimeout] even when a STUN
// or TURN server does not answer, with the candidates gathered so far.
func Offer(ctx context.Context, opts Options, app sdpcodec.App) (*Peer, error) {
	return offer(ctx, opts, app, sdpcodec.Credentials, nil)
}

// offer makes an offering peer whose ICE credentials creds gives for its
// fingerprint, on b (nil: a base of its own).
func offer(ctx context.Context, opts Options, app sdpcodec.App, creds func([32]byte) (string, string), b *base) (*Peer, error) {
	p, err := newPeer(opts, sdpcodec.Offer, creds, b)
	if err != nil {
		return nil, err
	}
	offer, err := p.pc.CreateOffer(nil)
	if err == nil {
		err = p.setLocal(ctx, offer)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("making the offer: %w", err)
	}
	p.local.App = app
	if opts.Announce != "" {
		if err := p.announce(opts.Announce); err != nil {
			p.Close()
			return nil, fmt.Errorf("announcing a data channel: %w", err)
		}
		p.announced = true
	}
	p.mu.Lock()
	p.madeAt = time.Now()
	p.mu.Unlock()
	return p, nil
}

// Answer makes the answering peer for offer; its blob is [Peer.Local]. From
// then on it tries to reach the offerer for [Options.AnswerWait].
func Answer(ctx context.Context, opts Options, offer *sdpcodec.Blob) (*Peer, error) {
	switch offer.Kind {
	case sdpcodec.Offer:
	case sdpcodec.Reconnect:
		return nil, ErrReconnectBlob
	default:
		return nil, ErrNotOffer
	}
	p, err := answer(ctx, opts, offer, offer.SDP(), false)
	if err != nil {
		return nil, err
	}
	p.local.Binding = sdpcodec.BindingOf(offer)
	return p, nil
}

// AnswerForeign makes the answering peer for another program's offer (a
// browser page, say). The program must open a pre-negotiated data channel
// with ID 0. Our answer is [Peer.Local], whose rebuilt SDP the program reads.
func AnswerForeign(ctx context.Context, opts Options, offer *sdpcodec.Foreign) (*Peer, error) {
	if offer.Kind != sdpcodec.Offer {
		return nil, ErrNotOffer
	}
	summary, err := offer.Summary()
	if err != nil {
		return nil, err
	}
	return answer(ctx, opts, summary, offer.SDP, true)
}

// answer makes the answering peer. foreign is set before the offer is
// applied: the data channel can open, and read it, before answer returns.
func answer(ctx context.Context, opts Options, offer *sdpcodec.Blob, sdp string, foreign bool) (*Peer, error) {
	creds := sdpcodec.Credentials
	offerSDP := func([32]byte) string { return sdp }
	if offer.Open != nil {
		if offer.Open.Expired(time.Now()) {
			return nil, ErrOfferExpired
		}
		creds = joinerCredentials(offer)
		if offer.App == sdpcodec.AppRoom {
			// The host's credentials towards us depend on who we are.
			offerSDP = func(fp [32]byte) string {
				return offer.SDPWith(sdpcodec.RoomCredentials(offer.Fingerprint, offer.Open.Secret, fp))
			}
		}
	}
	return answerWith(ctx, opts, offer, offerSDP, foreign, creds)
}

// answerWith is answer with the ICE credentials creds gives for our
// fingerprint.
func answerWith(ctx context.Context, opts Options, offer *sdpcodec.Blob, offerSDP func(fp [32]byte) string, foreign bool, creds func([32]byte) (string, string)) (*Peer, error) {
	p, err := newPeer(opts, sdpcodec.Answer, creds, nil)
	if err != nil {
		return nil, err
	}
	sdp := offerSDP(p.local0)
	if offer.Open != nil {
		p.open = &openState{offer: offer.Fingerprint, secret: offer.Open.Secret}
		_, p.open.refusalPwd = sdpcodec.OpenCredentials(offer.Fingerprint, offer.Open.Secret)
		if offer.App == sdpcodec.AppRoom {
			p.inRoom = true
			_, p.open.refusalPwd = sdpcodec.RoomCredentials(offer.Fingerprint, offer.Open.Secret, p.local0)
		}
		p.host.OnErrorResponse(p.heardRefusal)
	}
	p.foreign.Store(foreign)
	p.page.Store(offer.CarriesCredentials())
	sdp = p.resolveNames(ctx, sdp)
	err = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp})
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("applying the offer: %w", err)
	}
	desc, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.setLocal(ctx, desc)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("making the answer: %w", err)
	}
	p.mu.Lock()
	p.remote = offer
	p.started = time.Now()
	p.madeAt = p.started
	p.mu.Unlock()
	p.watchFirstCheck()
	return p, nil
}

// base is what a connection is built on: the host sockets its ICE agent
// reads and writes through, and its DTLS certificate. A peer made on a
// base of its own owns it and closes its sockets; the connections of a
// room's host share the room's (room.go).
type base struct {
	host     *hostnet.Sockets
	cert     *webrtc.Certificate
	fp       [32]byte
	loopOnly bool
	owned    bool // the peer closes host
}

// newBase makes a base: a fresh certificate, and sockets on the addresses
// opts allows.
func newBase(opts Options) (*base, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("generating a certificate: %w", err)
	}
	fp, err := fingerprintOf(cert)
	if err != nil {
		return nil, err
	}
	loopOnly := loopbackOnly(opts)
	host, err := hostnet.Listen(opts.policy(loopOnly), opts.LoggerFactory)
	if err != nil {
		return nil, err
	}
	return &base{host: host, cert: cert, fp: fp, loopOnly: loopOnly, owned: true}, nil
}

// newPeer makes a peer whose ICE credentials creds gives for its
// certificate's fingerprint, on b (nil: a base of its own).
func newPeer(opts Options, kind sdpcodec.Kind, creds func([32]byte) (string, string), b *base) (*Peer, error) {
	opts = opts.withDefaults()
	if b == nil {
		var err error
		if b, err = newBase(opts); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*Peer, error) {
		if b.owned {
			b.host.Close()
		}
		return nil, err
	}
	cert, fp, loopOnly, host := b.cert, b.fp, b.loopOnly, b.host

	se, err := settingEngine(opts, kind, loopOnly)
	if err != nil {
		return fail(err)
	}
	relay := &relayLog{LoggerFactory: opts.LoggerFactory}
	se.LoggerFactory = relay
	se.SetICECredentials(creds(fp))
	// ICE reports "disconnected" after half the lost timeout; the peer is
	// declared lost if it stays so for the other half. Checking before the
	// first connection may last as long as a human takes (AnswerWait).
	half := opts.LostTimeout / 2
	se.SetICETimeouts(half, opts.AnswerWait, min(time.Second, half/2))
	// pion gives up on a candidate pair after seven checks (1.4 s). The
	// other side may start checking much later: a person carries the answer
	// or a reconnect blob, or it notices our ICE restart only when the
	// connection went silent. A pair that gave up answers the other side's
	// checks but never nominates, so checks go on as long as we wait.
	se.SetICEMaxBindingRequests(math.MaxUint16)
	if opts.MDNS {
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryAndGather)
	}
	se.SetICEUDPMux(host)

	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	apiSE, err := settingEngineOf(api)
	if err != nil {
		return fail(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		ICEServers:   opts.ICEServers,
		Certificates: []webrtc.Certificate{*cert},
	})
	if err != nil {
		return fail(fmt.Errorf("creating the peer connection: %w", err))
	}
	negotiated, id := true, uint16(0)
	dc, err := pc.CreateDataChannel("pigeon", &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id})
	if err != nil {
		_ = pc.Close()
		return fail(fmt.Errorf("creating the data channel: %w", err))
	}
	p := &Peer{
		opts:     opts,
		kind:     kind,
		cert:     cert,
		loopOnly: loopOnly,
		host:     host,
		ownsHost: b.owned,
		local0:   fp,
		pc:       pc,
		relay:    relay,
		opened:   make(chan struct{}),
		done:     make(chan struct{}),
		control:  make(chan struct{}),
		se:       apiSE,
		creds:    creds,
	}
	p.main = newConn(p, dc)
	p.channels.init()
	p.app.init()
	dc.OnOpen(func() { p.onOpen(dc) })
	// Always set: pion closes incoming channels that nobody handles.
	pc.OnDataChannel(p.onDataChannel)
	pc.OnConnectionStateChange(p.onConnectionState)
	return p, nil
}

// settingEngine is the main connection's: detached channels, UDP only on
// the addresses the options allow, the larger SCTP window.
func settingEngine(opts Options, kind sdpcodec.Kind, loopOnly bool) (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	se.SetSTUNGatherTimeout(opts.GatherTimeout)
	se.DetachDataChannels()
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if kind == sdpcodec.Answer {
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
			return se, err
		}
	}
	applyInterfaces(&se, opts, loopOnly)
	se.SetSCTPMaxReceiveBufferSize(sctpReceiveBuffer)
	se.SetSCTPRTOMax(sctpRTOMax)
	// DTLS already authenticates every packet: SCTP's own checksum is
	// skipped when the other side agrees (RFC 9653), as browsers do.
	se.EnableSCTPZeroChecksum(true)
	return se, nil
}

func fingerprintOf(cert *webrtc.Certificate) ([32]byte, error) {
	var fp [32]byte
	fps, err := cert.GetFingerprints()
	if err != nil {
		return fp, fmt.Errorf("fingerprinting the certificate: %w", err)
	}
	for _, f := range fps {
		if f.Algorithm != "sha-256" {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(f.Value, ":", ""))
		if err != nil || len(b) != len(fp) {
			break
		}
		copy(fp[:], b)
		return fp, nil
	}
	return fp, errors.New("fingerprinting the certificate: no sha-256 fingerprint")
}

// setLocal applies our description and waits for gathering to finish, for
// at most the gather timeout.
func (p *Peer) setLocal(ctx context.Context, desc webrtc.SessionDescription) error {
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(desc); err != nil {
		return err
	}
	t := time.NewTimer(p.opts.GatherTimeout)
	defer t.Stop()
	timedOut := false
	select {
	case <-gathered:
	case <-t.C:
		timedOut = true
	case <-ctx.Done():
		return ctx.Err()
	}
	blob, err := sdpcodec.FromSDPWith(p.kind, p.pc.LocalDescription().SDP, p.creds)
	if err != nil {
		return err
	}
	p.local = blob
	p.gatherErr = relayError(p.opts, blob, p.relay, timedOut)
	return nil
}

// Local is our blob, to be carried to the other side.
func (p *Peer) Local() *sdpcodec.Blob { return p.local }

// GatherError says what went wrong while gathering our candidates, or is
// nil: TURN servers that gave no relayed candidate ([*RelayError]). The
// blob is made all the same, with the candidates that were gathered.
func (p *Peer) GatherError() error { return p.gatherErr }

// Remote is the peer's blob once an offer or answer has been applied.
func (p *Peer) Remote() *sdpcodec.Blob {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.remote
}

// Accept applies the answer to our offer. A wrong blob returns one of
// [ErrNotAnswer], [ErrOwnOffer], [ErrOtherOffer], [ErrAnswerApplied] or
// [ErrAlreadyAnswered] and leaves the peer waiting for the right one. Once
// accepted, the connection must open within [Options.ConnectTimeout].
func (p *Peer) Accept(answer *sdpcodec.Blob) error {
	if answer.Kind == sdpcodec.Answer && !answer.Answers(p.local) {
		return ErrOtherOffer
	}
	if p.open != nil {
		if answer.CarriesCredentials() {
			return ErrPageOpen
		}
		return p.accept(answer, p.joinerSDP(answer), false)
	}
	return p.accept(answer, answer.SDP, false)
}

// AcceptForeign applies another program's answer to our offer, as
// [Peer.Accept] does. Such an answer names no offer, so it cannot be told
// from an answer to another one until the connection fails.
func (p *Peer) AcceptForeign(answer *sdpcodec.Foreign) error {
	summary, err := answer.Summary()
	if err != nil {
		return err
	}
	return p.accept(summary, func() string { return answer.SDP }, true)
}

// accept applies an answer; foreign says it is another program's. It is
// set before the answer is applied: the connection may open, and read it,
// before SetRemoteDescription returns.
func (p *Peer) accept(answer *sdpcodec.Blob, sdp func() string, foreign bool) error {
	if p.kind != sdpcodec.Offer {
		return errors.New("only the offering peer accepts an answer")
	}
	switch answer.Kind {
	case sdpcodec.Offer:
		if answer.Fingerprint == p.local.Fingerprint {
			return ErrOwnOffer
		}
		return ErrNotAnswer
	case sdpcodec.Reconnect:
		return ErrReconnectBlob
	}
	p.mu.Lock()
	if p.remote != nil {
		same := p.remote.Fingerprint == answer.Fingerprint
		p.mu.Unlock()
		if same {
			return ErrAnswerApplied
		}
		return ErrAlreadyAnswered
	}
	p.remote = answer // claimed: a concurrent Accept now gets an error
	p.mu.Unlock()

	p.foreign.Store(foreign)
	p.page.Store(answer.CarriesCredentials())
	err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: p.resolveNames(context.Background(), sdp())})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.foreign.Store(false)
		p.page.Store(false)
		p.remote = nil
		return fmt.Errorf("applying the answer: %w", err)
	}
	p.started = time.Now()
	p.connTimer = time.AfterFunc(p.opts.ConnectTimeout, func() {
		select {
		case <-p.opened:
		default:
			p.end(p.connectError(p.opts.ConnectTimeout))
		}
	})
	return nil
}

func (p *Peer) connectError(waited time.Duration) *ConnectError {
	e := &ConnectError{Offerer: p.kind == sdpcodec.Offer, Waited: waited, Local: p.local.Candidates}
	p.mu.Lock()
	if p.remote != nil {
		e.Remote = p.remote.Candidates
	}
	p.mu.Unlock()
	return e
}

// Connect waits until the app's data channel is open and returns it, the
// same [Conn] on every call: channel 0 with another pigeon, the channel
// chosen as foreign.go says with another program ([Peer.Foreign]). It fails
// with a [*ConnectError] when the connection does not form in time, or with
// the reason the peer ended.
func (p *Peer) Connect(ctx context.Context) (*Conn, error) {
	select {
	case <-p.opened:
	case <-p.done:
		return nil, p.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if !p.foreign.Load() {
		return p.main, nil
	}
	select {
	case <-p.app.ready:
		return p.app.conn, nil
	case <-p.done:
		return nil, p.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// restarts reports whether the session can restart ICE: the other side
// is pigeon's command, not another program or pigeon's page.
func (p *Peer) restarts() bool { return !p.foreign.Load() && !p.page.Load() && !p.inRoom }

// Page reports whether the other side is pigeon's web page: it runs
// pigeon's apps, without lanes or ICE restarts. It is known once the other
// side's description was applied.
func (p *Peer) Page() bool { return p.page.Load() }

// Foreign reports whether the other side is another program than pigeon
// (a browser page, pion's examples): its description was not a pigeon's.
// It is known once the other side's description was applied.
func (p *Peer) Foreign() bool { return p.foreign.Load() }

// Opened is closed when the data channel is open.
func (p *Peer) Opened() <-chan struct{} { return p.opened }

// Done is closed when the peer has ended; [Peer.Err] says why.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Err is why the peer ended, or nil while it runs.
func (p *Peer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Close ends the peer and releases its sockets. Messages already written
// get up to [drainTimeout] to reach the peer first. Close returns within
// [closeTimeout] even when pion takes longer to let go (it waits for a
// TURN server that does not answer); the sockets are released later then.
func (p *Peer) Close() error {
	p.drain()
	p.finish(ErrClosed)
	closed := make(chan error, 1)
	go func() { closed <- p.closeConnection() }()
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case err := <-closed:
		return err
	case <-t.C:
		return nil
	}
}

// closeConnection closes the peer connection, then the host sockets.
func (p *Peer) closeConnection() error {
	err := p.pc.Close()
	if p.ownsHost {
		_ = p.host.Close()
	}
	p.closeLanes()
	return err
}

// closeTimeout bounds how long Close waits for pion to close.
const closeTimeout = time.Second

// drainTimeout bounds how long Close waits for sent messages to be
// acknowledged by the peer.
const drainTimeout = 3 * time.Second

// drain waits until the peer has acknowledged every message we wrote, on
// every channel.
func (p *Peer) drain() {
	select {
	case <-p.opened:
	default:
		return
	}
	deadline := time.NewTimer(drainTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for p.pc.SCTP().BufferedAmount() > 0 || p.laneBuffered() > 0 {
		select {
		case <-tick.C:
		case <-p.done:
			return
		case <-deadline.C:
			return
		}
	}
}

func (p *Peer) onOpen(dc *webrtc.DataChannel) {
	rw, err := dc.Detach()
	if err != nil {
		p.end(fmt.Errorf("opening the data channel: %w", err))
		return
	}
	p.mu.Lock()
	p.main.rw = rw
	p.openedAt = time.Now()
	if p.connTimer != nil {
		p.connTimer.Stop()
	}
	p.mu.Unlock()
	close(p.opened)
	switch {
	case p.foreign.Load():
		p.watchForeign()
	case p.page.Load() || p.inRoom:
		// A page has no control channel: nothing to restart or tell.
		// Nor has a connection of an open room (room.go).
	default:
		if p.kind == sdpcodec.Offer {
			p.openControl()
		}
		p.host.OnRequest(p.heardRequest)
		go p.watchNetwork()
	}
}

// onConnectionState follows pion's connection state. pion calls it on a
// goroutine of its own for each change, so calls may run in any order: a
// restart's "connecting" ran after its "connected" under load and left the
// peer checking for good, and a late "disconnected" restarted a connection
// that was back. So each call handles the state pion is in now rather than
// the one it was called with, one call at a time: the last call to run sees
// the last change, and reports never go back (one is skipped when pion
// changed twice before its first call ran).
func (p *Peer) onConnectionState(webrtc.PeerConnectionState) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	var st State
	switch p.pc.ConnectionState() {
	case webrtc.PeerConnectionStateConnecting:
		st = StateChecking
	case webrtc.PeerConnectionStateConnected:
		st = StateConnected
	case webrtc.PeerConnectionStateDisconnected:
		st = StateDisconnected
	case webrtc.PeerConnectionStateFailed:
		st = StateFailed
	case webrtc.PeerConnectionStateClosed:
		st = StateClosed
	default:
		return
	}
	p.mu.Lock()
	switch st {
	case StateConnected:
		if p.lostTimer != nil {
			p.lostTimer.Stop()
			p.lostTimer = nil
		}
		p.waiting = false
	case StateDisconnected:
		p.armLostLocked(p.opts.LostTimeout / 2)
	}
	changed := st != p.state
	p.state = st
	p.mu.Unlock()
	if !changed {
		return // handled by the call before
	}
	if p.opts.OnState != nil {
		p.opts.OnState(st)
	}
	if st == StateDisconnected && p.restarts() {
		// The other side may have moved: restart towards where it may be
		// now, which it does too when it notices.
		go p.restartNext()
	}
	switch st {
	case StateFailed:
		select {
		case <-p.opened:
			p.end(ErrPeerLost)
		default:
			p.end(p.connectError(p.opts.AnswerWait))
		}
	case StateClosed:
		// Unless Close was called (then the peer already ended), the
		// other side closed the connection.
		p.end(ErrPeerClosed)
	}
}

// armLost starts the countdown to declaring the peer lost, unless it runs.
func (p *Peer) armLost(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armLostLocked(d)
}

func (p *Peer) armLostLocked(d time.Duration) {
	if p.lostTimer == nil && p.err == nil {
		p.lostTimer = time.AfterFunc(d, p.onLost)
	}
}

// onLost runs when the connection stayed down for the lost timeout: the
// peer is lost, or, with a ReconnectWait, waits that much longer for it
// to come back.
func (p *Peer) onLost() {
	p.mu.Lock()
	if p.state == StateConnected {
		p.lostTimer = nil
		p.mu.Unlock()
		return
	}
	if p.opts.ReconnectWait > 0 && !p.waiting {
		p.waiting = true
		p.lostTimer = time.AfterFunc(p.opts.ReconnectWait, p.onLost)
		p.mu.Unlock()
		if p.opts.OnState != nil {
			p.opts.OnState(StateWaiting)
		}
		return
	}
	p.mu.Unlock()
	p.end(ErrPeerLost)
}

// end records why the peer ended, the first time, and tears it down.
func (p *Peer) end(err error) {
	if p.finish(err) {
		go func() { _ = p.closeConnection() }()
	}
}

// finish records why the peer ended and wakes its waiters; it reports
// whether this was the first call.
func (p *Peer) finish(err error) bool {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return false
	}
	p.err = err
	if p.connTimer != nil {
		p.connTimer.Stop()
	}
	if p.lostTimer != nil {
		p.lostTimer.Stop()
	}
	rw := p.main.rw
	others := p.channels.takeAll()
	p.mu.Unlock()
	close(p.done)
	if p.app.chosen() && p.app.conn != p.main {
		others = append(others, p.app.conn)
	}
	if rw != nil {
		_ = rw.Close()
	}
	for _, lrw := range p.laneReaders() {
		_ = lrw.Close()
	}
	for _, c := range others {
		_ = c.rw.Close()
	}
	return true
}

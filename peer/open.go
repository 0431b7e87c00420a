package peer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v4"

	"pigeon/peer/internal/hostnet"
	"pigeon/sdpcodec"
)

// Open offers: the joiner connects with nothing carried back.
//
// The offer carries a secret (sdpcodec.Open) from which the offerer's ICE
// password is derived. The joiner takes as its ICE username fragment its
// certificate's fingerprint, and as its password one derived from the
// secret and both fingerprints, and checks the offerer's candidates at
// once. Its first check that reaches the offerer names the offerer's and
// the joiner's fragments in its USERNAME and is signed with the
// offerer's password: before pion sees it, the offerer's host sockets show
// it to heardJoiner, which checks the signature (only someone who read
// the offer can make it), reads the joiner's fingerprint from its
// fragment, and applies an answer made of what the check says: that
// fingerprint, the joiner's credentials, the address the check came from.
// From there it is the connection of an answer carried by hand: ICE,
// DTLS that checks the joiner's certificate against the fingerprint, the
// same verification code on both sides, restarts and lanes.
//
// The first joiner takes the offer. A later joiner's checks, signed as
// well, get a binding error response signed with the offerer's password
// ("offer already used"), which ends that joiner with [ErrOfferUsed]; the
// offerer reports it to [Options.OnJoinRefused]. A joiner that cannot
// reach the offerer makes its answer as usual, for a person to carry: the
// open offerer accepts it with [Peer.Accept] as any offerer does.

// Errors of a joiner of an open offer.
var (
	// ErrOfferUsed means someone else joined the open offer first.
	ErrOfferUsed = errors.New("this offer was already used: someone else joined it first; ask for a new offer")
	// ErrOfferExpired means the open offer admits no one any more.
	ErrOfferExpired = errors.New("this open offer has expired; ask for a new one")
)

// Reasons an offerer gives in its refusals (STUN error reasons).
const (
	reasonUsed    = "offer already used"
	reasonExpired = "offer expired"
	reasonFull    = "room full"
)

// refusalReport bounds how often the offerer reports the same refused
// joiner: its checks come several a second until it gives up.
const refusalReport = 10 * time.Second

// openState is what a peer of an open offer knows of it.
type openState struct {
	offer  [32]byte // the offerer's fingerprint
	secret [sdpcodec.SecretLen]byte
	// expires is when the offer stops admitting joiners (offerer).
	expires time.Time

	// joined: the joiner came in through its checks (offerer).
	joined atomic.Bool

	// refusalPwd signs the offerer's refusals (joiner).
	refusalPwd string

	mu      sync.Mutex
	refused map[[32]byte]time.Time // joiners refused, when last reported
}

// Joined reports whether the other side came in through our open offer,
// with no answer carried back.
func (p *Peer) Joined() bool { return p.open != nil && p.open.joined.Load() }

// OfferOpen makes an open offer for app (see open.go): the first joiner
// that reaches our host candidates connects without an answer carried
// back, until the offer expires after [Options.AnswerWait] (rounded up to
// a minute). An answer carried by hand is accepted as well.
func OfferOpen(ctx context.Context, opts Options, app sdpcodec.App) (*Peer, error) {
	st := &openState{refused: map[[32]byte]time.Time{}}
	if _, err := rand.Read(st.secret[:]); err != nil {
		return nil, fmt.Errorf("making the offer's secret: %w", err)
	}
	opts = opts.withDefaults()
	st.expires = time.Now().Add(opts.AnswerWait).Truncate(time.Minute).Add(time.Minute)
	creds := func(fp [32]byte) (string, string) {
		st.offer = fp
		return sdpcodec.OpenCredentials(fp, st.secret)
	}
	p, err := offer(ctx, opts, app, creds, nil)
	if err != nil {
		return nil, err
	}
	p.local.Open = &sdpcodec.Open{Secret: st.secret, Expires: st.expires}
	p.open = st
	p.host.OnRequest(func(r hostnet.Request) { p.heardJoiner(r) })
	return p, nil
}

// joinerCredentials are the credentials of a joiner of the open offer.
func joinerCredentials(offer *sdpcodec.Blob) func([32]byte) (string, string) {
	return func(fp [32]byte) (string, string) {
		return sdpcodec.JoinerCredentials(offer.Fingerprint, offer.Open.Secret, fp)
	}
}

// joinerSDP is the description an answer to our open offer stands for:
// the joiner's credentials are those of [sdpcodec.JoinerCredentials].
func (p *Peer) joinerSDP(answer *sdpcodec.Blob) func() string {
	return func() string {
		c := *answer
		c.Ufrag, c.Pwd = sdpcodec.JoinerCredentials(p.open.offer, p.open.secret, answer.Fingerprint)
		return c.SDP()
	}
}

// heardJoiner looks at a binding request our host sockets read (offerer of
// an open offer; on pion's reading goroutine, so it must not wait). It
// admits the first joiner whose check is signed with the offer's
// password and refuses later ones. pion sees every request too, and
// discards those that do not name the joiner admitted. It reports whether
// the request was handled here: one of a joiner not admitted (yet).
func (p *Peer) heardJoiner(r hostnet.Request) bool {
	var u stun.Username
	if u.GetFrom(r.Message) != nil {
		return false
	}
	ours, theirs, _ := strings.Cut(u.String(), ":")
	ufrag, pwd := sdpcodec.OpenCredentials(p.open.offer, p.open.secret)
	fp, ok := sdpcodec.JoinerFingerprint(theirs)
	if ours != ufrag || !ok {
		return false
	}
	if stun.NewShortTermIntegrity(pwd).Check(r.Message) != nil {
		return true // not from someone who read the offer
	}
	p.mu.Lock()
	remote := p.remote
	p.mu.Unlock()
	switch {
	case remote != nil && remote.Fingerprint == fp:
		return false // the joiner admitted: pion answers its checks
	case remote != nil:
		p.refuse(r, fp, reasonUsed)
		return true
	case p.open.expired(time.Now()):
		p.refuse(r, fp, reasonExpired)
		return true
	}
	from := r.From.Addr().Unmap()
	answer := &sdpcodec.Blob{
		Kind:        sdpcodec.Answer,
		Binding:     sdpcodec.BindingOf(p.local),
		Fingerprint: fp,
		Candidates:  []sdpcodec.Candidate{{Type: sdpcodec.Host, Transport: sdpcodec.UDP, Addr: from, Port: r.From.Port()}},
	}
	go func() {
		// Checks come several a second: a second one of the same joiner
		// finds the answer applied, one of another joiner finds the offer
		// taken.
		switch err := p.accept(answer, p.joinerSDP(answer), false); {
		case err == nil:
			p.open.joined.Store(true)
		case errors.Is(err, ErrAlreadyAnswered):
			p.refuse(r, fp, reasonUsed)
		}
	}()
	return true
}

func (o *openState) expired(now time.Time) bool { return !now.Before(o.expires) }

// refuse answers a joiner's check with a binding error response signed
// with the offer's password, which tells it why it cannot join, and
// reports the joiner (at most every refusalReport).
func (p *Peer) refuse(r hostnet.Request, fp [32]byte, reason string) {
	_, pwd := sdpcodec.OpenCredentials(p.open.offer, p.open.secret)
	refuse(r, pwd, reason)
	if p.open.report(fp) && p.opts.OnJoinRefused != nil {
		p.opts.OnJoinRefused(JoinRefusal{From: r.From, Expired: reason == reasonExpired})
	}
}

// refuse answers the check r with a binding error response signed with
// pwd, which tells the joiner why it cannot join.
func refuse(r hostnet.Request, pwd, reason string) {
	res, err := stun.Build(
		stun.NewTransactionIDSetter(r.Message.TransactionID),
		stun.BindingError,
		stun.ErrorCodeAttribute{Code: stun.CodeForbidden, Reason: []byte(reason)},
		stun.NewShortTermIntegrity(pwd),
		stun.Fingerprint,
	)
	if err != nil {
		return
	}
	go func() { _ = r.Reply(res.Raw) }()
}

// report reports whether a refusal of joiner fp is news: not reported in
// the last refusalReport.
func (o *openState) report(fp [32]byte) bool {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	last, seen := o.refused[fp]
	if seen && now.Sub(last) < refusalReport {
		return false
	}
	o.refused[fp] = now
	return true
}

// JoinRefusal is a joiner of an open offer that was turned away: someone
// else who read the offer, after the first joiner took it or after it
// expired.
type JoinRefusal struct {
	From    netip.AddrPort
	Expired bool // the offer had expired
	Full    bool // the room was full; else the offer was taken
}

// heardRefusal looks at a binding error response our host sockets read
// (joiner of an open offer): one signed with the offer's password is the
// offerer turning us away, which ends the peer.
func (p *Peer) heardRefusal(r hostnet.Request) {
	var code stun.ErrorCodeAttribute
	if stun.NewShortTermIntegrity(p.open.refusalPwd).Check(r.Message) != nil || code.GetFrom(r.Message) != nil || code.Code != stun.CodeForbidden {
		return
	}
	select {
	case <-p.opened:
		return // connected: a stray response from before
	default:
	}
	err := ErrOfferUsed
	switch string(code.Reason) {
	case reasonExpired:
		err = ErrOfferExpired
	case reasonFull:
		err = ErrRoomFull
	}
	go p.end(err)
}

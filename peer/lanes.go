package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/peer/internal/link"
	"pigeon/sdpcodec"
)

// Lanes. A PeerConnection's SCTP sends packets of at most 1,191 bytes, and
// one association's sending goroutine and the DTLS beneath it handle every
// packet in turn: on a fast path that work, not the path, sets the rate. A
// lane is a further connection between the same two peers, with its own
// sockets, ICE, DTLS and SCTP, set up over the control channel in a few
// milliseconds, whose packets are as large as the path carries
// (peer/internal/link); a transfer can use several at once, each on cores of its
// own (see [Peer.Stripe] and doc/lanes.md).
//
// Lanes are for fast paths only: they are made when the connection runs
// between host candidates (the same LAN, or one machine). Every lane
// authenticates with the certificates of the first connection, which the
// verification code covers. A lane that fails ends the session with
// [ErrLaneLost].

// MaxLanes bounds the lanes a [Striped] stream uses.
const MaxLanes = 4

// laneWait bounds setting up the lanes of a stream.
const laneWait = 5 * time.Second

// Control channel messages for lanes: the offerer's description of a new
// lane, and the answer to it (an empty one refuses the lane).
const (
	laneOfferPrefix  = "lane-offer "
	laneAnswerPrefix = "lane-answer "
	laneLostMessage  = "lane-lost"
)

// laneLostFlush bounds how long a peer whose lane failed waits for the
// other side to be told before it closes the connection.
const laneLostFlush = 500 * time.Millisecond

// laneHeader starts the first message of a striped stream on channel 0:
// the numbers of the lanes it uses, after it.
const laneHeader = "pigeon-lanes"

// ErrLaneLost means one of the connections a striped stream used stopped
// answering; it is an [ErrPeerLost].
var ErrLaneLost = fmt.Errorf("%w: one of its parallel connections stopped answering", ErrPeerLost)

// errLaneRefused means the other side did not take a lane.
var errLaneRefused = errors.New("the other side refused the lane")

// use marks the lane as part of a striped stream.
func (l *lane) use() {
	l.mu.Lock()
	l.used = true
	l.mu.Unlock()
}

// lanes is a peer's lanes; Peer.mu guards it.
type lanes struct {
	all      []*lane             // every lane made, to close with the peer
	answers  map[int]chan string // offerer: lane number -> the answer awaited (to an offer or a restart)
	accepted map[int]*lane       // answerer: lanes the other side offered
	arrived  chan struct{}       // answerer: closed and replaced when one is accepted
	next     int                 // offerer: the last lane number used
}

// Striped is one reliable, ordered message stream each way over the lanes,
// or channel 0 when there are none: the k-th message written goes over
// connection k mod n,
// and the reader takes the k-th message from there, so the order holds
// without numbering and each connection keeps its own flow control. It is
// safe for one reader and one writer at a time.
type Striped struct {
	conns []*Conn

	// LaneErr says why a lane the offerer asked for did not open, if one
	// did not (the answerer's is always nil).
	LaneErr error

	rmu   sync.Mutex
	rnext int
	wmu   sync.Mutex
	wnext int
}

// Lanes is the number of connections the stream uses.
func (s *Striped) Lanes() int { return len(s.conns) }

// ReadMessage reads the next message, as [Conn.ReadMessage] does.
func (s *Striped) ReadMessage(buf []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	n, err := s.conns[s.rnext].ReadMessage(buf)
	if err == nil {
		s.rnext = (s.rnext + 1) % len(s.conns)
	}
	return n, err
}

// WriteMessage sends the next message, as [Conn.WriteMessage] does.
func (s *Striped) WriteMessage(msg []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.conns[s.wnext].WriteMessage(msg); err != nil {
		return err
	}
	s.wnext = (s.wnext + 1) % len(s.conns)
	return nil
}

// Stripe waits for channel 0 and sets up a striped stream. The offerer
// opens up to n lanes (fewer if they do not open within a few seconds, none
// unless the path runs between host candidates) and tells the answerer
// which it uses in the first message on channel 0; the answerer's n is
// ignored. The stream runs over those lanes, or over channel 0 when there
// are none. Both sides of a session must call Stripe before anything else
// is sent on channel 0, or neither.
func (p *Peer) Stripe(ctx context.Context, n int) (*Striped, error) {
	main, err := p.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if p.kind == sdpcodec.Answer {
		return p.stripeAnswer(ctx, main)
	}
	n = min(n, MaxLanes)
	var (
		ls      []*lane
		laneErr error
	)
	if n > 0 && p.fastPath() {
		ls, laneErr = p.openLanes(ctx, n)
	}
	header := laneHeader
	s := &Striped{LaneErr: laneErr}
	for _, l := range ls {
		l.use()
		header += " " + strconv.Itoa(l.id)
		s.conns = append(s.conns, l.conn)
	}
	if len(s.conns) == 0 {
		s.conns = []*Conn{main}
	}
	if err := main.WriteMessage([]byte(header)); err != nil {
		return nil, err
	}
	return s, nil
}

// stripeAnswer reads the offerer's header and takes the lanes it names.
func (p *Peer) stripeAnswer(ctx context.Context, main *Conn) (*Striped, error) {
	buf := make([]byte, MaxMessage)
	n, err := main.ReadMessage(buf)
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(buf[:n]))
	if len(fields) == 0 || fields[0] != laneHeader || len(fields) > MaxLanes+1 {
		return nil, errors.New("the other computer's pigeon speaks another version of the protocol: update both to the same version")
	}
	s := &Striped{}
	if len(fields) == 1 {
		s.conns = []*Conn{main}
	}
	ctx, cancel := context.WithTimeout(ctx, laneWait)
	defer cancel()
	for _, f := range fields[1:] {
		id, err := strconv.Atoi(f)
		if err != nil {
			return nil, errors.New("the other computer's pigeon speaks another version of the protocol: update both to the same version")
		}
		l, err := p.acceptedLane(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("setting up parallel connection %d: %w", id, err)
		}
		l.use()
		s.conns = append(s.conns, l.conn)
	}
	// Lanes the offerer gave up on before they opened on its side are not
	// in the header: they carry nothing.
	p.mu.Lock()
	var unused []*lane
	for _, l := range p.lanes.accepted {
		l.mu.Lock()
		if !l.used {
			unused = append(unused, l)
		}
		l.mu.Unlock()
	}
	p.mu.Unlock()
	for _, l := range unused {
		p.dropLane(l)
	}
	return s, nil
}

// acceptedLane waits until lane id, offered by the other side, is open.
func (p *Peer) acceptedLane(ctx context.Context, id int) (*lane, error) {
	for {
		p.mu.Lock()
		l := p.lanes.accepted[id]
		if p.lanes.arrived == nil {
			p.lanes.arrived = make(chan struct{})
		}
		arrived := p.lanes.arrived
		p.mu.Unlock()
		if l != nil {
			select {
			case <-l.open:
				l.mu.Lock()
				defer l.mu.Unlock()
				return l, l.err
			case <-p.done:
				return nil, p.Err()
			case <-ctx.Done():
				return nil, errors.New("it did not open in time")
			}
		}
		select {
		case <-arrived:
		case <-p.done:
			return nil, p.Err()
		case <-ctx.Done():
			return nil, errors.New("it was not offered in time")
		}
	}
}

// fastPath reports whether the connection runs between host candidates
// of a pigeon on each side: lanes then reach the same addresses.
func (p *Peer) fastPath() bool {
	if !p.restarts() { // lanes are pigeon's own connections
		return false
	}
	pair, err := p.selectedPair()
	return err == nil && pair.Local.Typ == webrtc.ICECandidateTypeHost && pair.Remote.Typ == webrtc.ICECandidateTypeHost
}

// openLanes opens n lanes at once and returns those that opened in time,
// in the order of their numbers, and why one did not, if one did not.
func (p *Peer) openLanes(ctx context.Context, n int) ([]*lane, error) {
	ctx, cancel := context.WithTimeout(ctx, laneWait)
	defer cancel()
	opened := make([]*lane, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			l, err := p.openLane(ctx)
			if err != nil {
				p.dropLane(l)
				errs[i] = err
				return
			}
			opened[i] = l
		})
	}
	wg.Wait()
	opened = slices.DeleteFunc(opened, func(l *lane) bool { return l == nil })
	slices.SortFunc(opened, func(a, b *lane) int { return a.id - b.id })
	for _, err := range errs {
		if err != nil {
			return opened, err
		}
	}
	return opened, nil
}

// openLane offers a lane over the control channel and waits until it is
// open. On an error the lane returned, if any, is for [Peer.dropLane].
func (p *Peer) openLane(ctx context.Context) (*lane, error) {
	select {
	case <-p.control:
	case <-p.done:
		return nil, p.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	p.lanes.next++
	id := p.lanes.next
	answers := make(chan string, 1)
	if p.lanes.answers == nil {
		p.lanes.answers = map[int]chan string{}
	}
	p.lanes.answers[id] = answers
	rw := p.controlRW
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.lanes.answers, id)
		p.mu.Unlock()
	}()

	l, err := p.newLane(id)
	if err != nil {
		return nil, err
	}
	desc, err := l.link.Describe(ctx, p.announcedMTU())
	if err != nil {
		return l, err
	}
	if _, err := rw.Write([]byte(laneOfferPrefix + strconv.Itoa(id) + " " + desc)); err != nil {
		return l, err
	}
	var answer string
	select {
	case answer = <-answers:
	case <-p.done:
		return l, p.Err()
	case <-ctx.Done():
		return l, ctx.Err()
	}
	if answer == "" {
		return l, errLaneRefused
	}
	remote, err := link.ParseDesc(answer)
	if err != nil {
		return l, err
	}
	return l, l.connect(ctx, p, remote, true)
}

// laneLost ends the session because a lane failed, then tells the other
// side why over the control channel (it may notice the loss itself too, or
// see only the connection closing) before closing the connection.
func (p *Peer) laneLost() {
	if !p.finish(ErrLaneLost) {
		return
	}
	p.mu.Lock()
	rw := p.controlRW
	p.mu.Unlock()
	if rw != nil {
		if _, err := rw.Write([]byte(laneLostMessage)); err == nil {
			deadline := time.Now().Add(laneLostFlush)
			for p.pc.SCTP().BufferedAmount() > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			// Delivered; give the other side's reader the time to act
			// on it before the connection closes.
			time.Sleep(ackFlush)
		}
	}
	_ = p.closeConnection()
}

// onLaneMessage handles a lane's message on the control channel, and
// reports whether msg was one.
func (p *Peer) onLaneMessage(msg string) bool {
	if msg == laneLostMessage {
		p.end(ErrLaneLost)
		return true
	}
	if rest, ok := strings.CutPrefix(msg, laneOfferPrefix); ok {
		if p.kind == sdpcodec.Answer {
			go p.answerLane(rest)
		}
		return true
	}
	if rest, ok := strings.CutPrefix(msg, laneRestartPrefix); ok {
		if p.kind == sdpcodec.Answer {
			go p.answerLaneRestart(rest)
		}
		return true
	}
	rest, ok := strings.CutPrefix(msg, laneAnswerPrefix)
	if !ok {
		rest, ok = strings.CutPrefix(msg, laneRestartedPrefix)
	}
	if !ok {
		return false
	}
	idText, sdp, _ := strings.Cut(rest, " ")
	id, err := strconv.Atoi(idText)
	if err != nil {
		return true
	}
	p.mu.Lock()
	answers := p.lanes.answers[id]
	p.mu.Unlock()
	if answers != nil {
		select {
		case answers <- sdp:
		default:
		}
	}
	return true
}

// answerLane answers the other side's offer of a lane ("ID SDP"), or
// refuses it, and keeps it for [Peer.stripeAnswer].
func (p *Peer) answerLane(msg string) {
	idText, offer, _ := strings.Cut(msg, " ")
	id, err := strconv.Atoi(idText)
	if err != nil {
		return
	}
	p.mu.Lock()
	rw := p.controlRW
	full := len(p.lanes.accepted) >= MaxLanes || p.lanes.accepted[id] != nil
	p.mu.Unlock()
	refuse := func() { _, _ = rw.Write([]byte(laneAnswerPrefix + idText)) }
	remote, err := link.ParseDesc(offer)
	if full || !p.fastPath() || err != nil {
		refuse()
		return
	}
	l, err := p.newLane(id)
	if err != nil {
		refuse()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), laneWait)
	defer cancel()
	desc, err := l.link.Describe(ctx, p.announcedMTU())
	if err != nil {
		p.dropLane(l)
		refuse()
		return
	}
	p.mu.Lock()
	if p.lanes.accepted == nil {
		p.lanes.accepted = map[int]*lane{}
	}
	p.lanes.accepted[id] = l
	if p.lanes.arrived != nil {
		close(p.lanes.arrived)
	}
	p.lanes.arrived = make(chan struct{})
	p.mu.Unlock()
	if _, err := rw.Write([]byte(laneAnswerPrefix + idText + " " + desc)); err != nil {
		p.dropLane(l)
		return
	}
	if err := l.connect(ctx, p, remote, false); err != nil {
		// Kept in accepted, so that stripeAnswer reports why.
		l.close()
	}
}

// dropLane closes a lane that did not open or is not used, and forgets it.
func (p *Peer) dropLane(l *lane) {
	if l == nil {
		return
	}
	p.mu.Lock()
	p.lanes.all = slices.DeleteFunc(p.lanes.all, func(x *lane) bool { return x == l })
	if p.lanes.accepted[l.id] == l {
		delete(p.lanes.accepted, l.id)
	}
	p.mu.Unlock()
	l.close()
}

// closeLanes closes every lane (when the peer ends).
func (p *Peer) closeLanes() {
	p.mu.Lock()
	all := p.lanes.all
	p.lanes.all = nil
	p.mu.Unlock()
	for _, l := range all {
		l.close()
	}
}

// laneReaders are the detached channels of the open lanes.
func (p *Peer) laneReaders() []io.Closer {
	p.mu.Lock()
	all := slices.Clone(p.lanes.all)
	p.mu.Unlock()
	var out []io.Closer
	for _, l := range all {
		l.mu.Lock()
		if l.conn != nil {
			out = append(out, l.conn.rw)
		}
		l.mu.Unlock()
	}
	return out
}

// laneBuffered is what the lanes' associations still have to deliver.
func (p *Peer) laneBuffered() uint64 {
	p.mu.Lock()
	all := slices.Clone(p.lanes.all)
	p.mu.Unlock()
	var n uint64
	for _, l := range all {
		n += l.buffered()
	}
	return n
}

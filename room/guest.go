package room

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"pigeon/peer"
	"pigeon/sdpcodec"
	"pigeon/transfer"
)

// pairWait bounds how long two guests try to reach each other directly
// before their lines go through the host for good (until one of them
// negotiates again).
const pairWait = 10 * time.Second

// resendLimit is how many of its last lines a guest keeps for each direct
// link, to send them again through the host if the link fails.
const resendLimit = 256

// Guest is a member of a room that joined it: connected to the host, and
// to each other guest directly when it can be reached.
//
// Each pair of guests negotiates its own connection, the offers and
// answers going through the host. Both sides of a pair start (the newcomer
// towards each member, each member towards the newcomer), so their offers
// cross; so do they when every member negotiates again at once. The roles
// are fixed per pair: the guest that joined first is impolite and ignores
// an offer that crosses its own; the later one is polite and yields: it
// gives up its own offer, whose connection it closes (pion has no
// rollback: a connection that has made an offer cannot go back to making
// none, so yielding is closing it), and answers the other's with a new
// one. See doc/rooms.md.
type Guest struct {
	me     Member
	room   string
	opts   peer.Options
	host   *link
	hostP  *peer.Peer
	events func(Event)
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	members map[int]Member
	pairs   map[int]*pair
	seq     uint64
	started map[int]bool
	in      *inbox
	files   *files
	ended   bool
	done    chan struct{}
}

// pair is a guest's connection to another guest.
type pair struct {
	attempt int        // the negotiation under way; a later one replaces it
	making  bool       // our offer of the attempt under way is being made
	offer   *peer.Peer // our offer of the attempt under way, while unanswered
	answer  *peer.Peer // our answer to their offer, while not connected
	p       *peer.Peer // the connected link's peer
	link    *link
	relayed bool          // said to be reached through the host
	sent    []msg         // the last lines sent over link
	ready   chan struct{} // closed when link is set, for tests
}

// ErrRoomOver means the host ended the room.
var ErrRoomOver = errors.New("the host closed the room")

// ErrHostLost means the connection to the host ended without the host
// saying so.
var ErrHostLost = errors.New("lost the connection to the room's host")

// Join enters the room over hostP, our connected (or connecting) peer to
// the host, as name. opts are the options of our direct connections to
// the other guests. events hears what happens, one call at a time.
func Join(ctx context.Context, hostP *peer.Peer, name string, opts peer.Options, events func(Event)) (*Guest, error) {
	conn, err := hostP.Connect(ctx)
	if err != nil {
		return nil, err
	}
	l := &link{conn: conn}
	if err := l.send(msg{T: tHello, Name: name}); err != nil {
		return nil, err
	}
	ms := l.messages()
	var w msg
	select {
	case m, ok := <-ms:
		if !ok {
			return nil, fmt.Errorf("%w before it welcomed us: %w", ErrHostLost, hostP.Err())
		}
		w = m
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(helloWait):
		return nil, errors.New("the room's host did not welcome us")
	}
	switch w.T {
	case tWelcome:
	case tFull:
		return nil, peer.ErrRoomFull
	default:
		return nil, fmt.Errorf("the room's host sent %q before its welcome", w.T)
	}
	var mu sync.Mutex
	g := &Guest{
		me:    Member{ID: w.ID, Name: w.Name},
		room:  w.Room,
		opts:  opts,
		host:  l,
		hostP: hostP,
		events: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			events(e)
		},
		members: map[int]Member{},
		pairs:   map[int]*pair{},
		started: map[int]bool{},
		in:      newInbox(),
		done:    make(chan struct{}),
	}
	if g.me.Name == "" {
		g.me.Name = name // a host that gave none
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.files = newFiles(g.ctx, g.events, g.memberByID)
	// The host opens channels to us only to carry another member's
	// request for a file of ours.
	go g.files.accept(hostP, -1, g.serveFile)
	for _, m := range w.Members {
		if m.ID == g.me.ID {
			continue
		}
		g.members[m.ID] = m
		g.reach(m)
	}
	go g.serve(ms)
	return g, nil
}

// Members lists the other members, in the order they joined (the host
// first).
func (g *Guest) Members() []Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Member
	for _, m := range g.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int { return a.ID - b.ID })
	return out
}

// Me is our member: our ID and name.
func (g *Guest) Me() Member { return g.me }

// RoomName is the name of the room: its host's.
func (g *Guest) RoomName() string { return g.room }

// Done is closed when the room is over for us.
func (g *Guest) Done() <-chan struct{} { return g.done }

// serve handles the host's messages until the connection to it ends.
func (g *Guest) serve(ms <-chan msg) {
	for m := range ms {
		switch m.T {
		case tJoined:
			if m.ID == g.me.ID || m.ID == HostID {
				continue
			}
			mem := Member{ID: m.ID, Name: m.Name, Page: m.Page}
			g.mu.Lock()
			g.members[m.ID] = mem
			g.mu.Unlock()
			g.events(Event{Kind: Joined, Member: mem})
			g.reach(mem)
		case tLeft:
			g.mu.Lock()
			mem, ok := g.members[m.ID]
			delete(g.members, m.ID)
			pr := g.pairs[m.ID]
			delete(g.pairs, m.ID)
			delete(g.started, m.ID)
			g.mu.Unlock()
			if pr != nil {
				g.closePair(pr, false)
			}
			g.in.forget(m.ID)
			if ok {
				g.events(Event{Kind: Left, Member: mem})
			}
		case tLine:
			g.deliver(m)
		case tSignal:
			g.signal(m.From, m.Blob)
		case tDecline:
			g.files.declined(m.From, m.File)
		case tEnd:
			g.end(ErrRoomOver, m.Why)
			return
		}
	}
	g.end(ErrHostLost, "")
}

// end ends the room for us.
func (g *Guest) end(err error, why string) {
	if !g.stop() {
		return
	}
	if errors.Is(err, ErrHostLost) {
		if perr := g.hostP.Err(); perr != nil && !errors.Is(perr, peer.ErrClosed) {
			err = fmt.Errorf("%w: %w", ErrHostLost, perr)
		}
	}
	ev := Event{Kind: Ended, Text: why, Err: err}
	if errors.Is(err, ErrRoomOver) {
		ev.Err = nil
		if why == "" {
			ev.Text = ErrRoomOver.Error()
		}
	}
	g.events(ev)
	close(g.done)
}

// Leave leaves the room.
func (g *Guest) Leave() {
	if g.stop() {
		close(g.done)
	}
}

// stop closes our connections, saying bye on the direct ones first; it
// reports false if they were closed already.
func (g *Guest) stop() bool {
	g.mu.Lock()
	if g.ended {
		g.mu.Unlock()
		return false
	}
	g.ended = true
	pairs := g.pairs
	g.pairs = map[int]*pair{}
	g.mu.Unlock()
	g.cancel()
	var wg sync.WaitGroup
	for _, pr := range pairs {
		wg.Add(1)
		go func() { defer wg.Done(); g.closePair(pr, true) }()
	}
	wg.Wait()
	_ = g.hostP.Close()
	return true
}

// reach sets out to reach member m directly: a guest, unless it is a page,
// which only the host reaches.
func (g *Guest) reach(m Member) {
	switch {
	case m.ID == HostID:
	case m.Page:
		g.events(Event{Kind: Relayed, Member: m, Text: "it is pigeon's page in a browser, which connects to the host only"})
	default:
		g.negotiate(m.ID)
	}
}

// pairOf is the pair with id, made if need be; g.mu is held.
func (g *Guest) pairOf(id int) *pair {
	pr := g.pairs[id]
	if pr == nil {
		pr = &pair{ready: make(chan struct{})}
		g.pairs[id] = pr
	}
	return pr
}

// negotiate starts a negotiation of a direct connection to guest id: it
// makes an offer and sends it through the host. A negotiation started
// later, by either side, replaces it.
func (g *Guest) negotiate(id int) {
	g.mu.Lock()
	if g.ended {
		g.mu.Unlock()
		return
	}
	pr := g.pairOf(id)
	pr.attempt++
	attempt := pr.attempt
	pr.making = true
	g.mu.Unlock()
	go func() {
		p, err := peer.Offer(g.ctx, g.opts, sdpcodec.AppRoom)
		text := ""
		if err == nil {
			text, err = p.Local().Encode()
		}
		g.mu.Lock()
		current := g.pairs[id] == pr && pr.attempt == attempt
		if current {
			pr.making = false
			if err == nil {
				pr.offer = p
			}
		}
		g.mu.Unlock()
		if err != nil {
			if p != nil {
				_ = p.Close()
			}
			return
		}
		if !current {
			// Replaced while it was made: the other side's offer came
			// and we yielded, or we negotiate again.
			_ = p.Close()
			return
		}
		_ = g.host.send(msg{T: tSignal, To: []int{id}, Blob: text})
		g.await(id, pr, p)
	}()
}

// signal is an offer or an answer from guest from.
func (g *Guest) signal(from int, blob string) {
	b, err := sdpcodec.Parse(blob)
	if err != nil {
		return
	}
	switch b.Kind {
	case sdpcodec.Offer:
		g.mu.Lock()
		if g.ended {
			g.mu.Unlock()
			return
		}
		pr := g.pairOf(from)
		// Our own negotiation under way: the offers crossed.
		crossed := pr.offer != nil || pr.making
		if crossed && g.me.ID < from {
			g.mu.Unlock()
			return // impolite: ours stands, the other side yields
		}
		// Polite, or no negotiation of ours: answer. Ours, if any, is
		// given up: its connection closes.
		pr.attempt++
		attempt := pr.attempt
		yielded := pr.offer
		pr.offer, pr.making = nil, false
		g.mu.Unlock()
		if yielded != nil {
			_ = yielded.Close()
		}
		go func() {
			p, err := peer.Answer(g.ctx, g.opts, b)
			if err != nil {
				return
			}
			text, err := p.Local().Encode()
			g.mu.Lock()
			current := g.pairs[from] == pr && pr.attempt == attempt && err == nil
			if current {
				pr.answer = p
			}
			g.mu.Unlock()
			if !current {
				_ = p.Close()
				return
			}
			_ = g.host.send(msg{T: tSignal, To: []int{from}, Blob: text})
			g.await(from, pr, p)
		}()
	case sdpcodec.Answer:
		g.mu.Lock()
		pr := g.pairs[from]
		var p *peer.Peer
		if pr != nil {
			p = pr.offer
		}
		g.mu.Unlock()
		if p == nil || !b.Answers(p.Local()) {
			return // an answer to an offer we gave up
		}
		_ = p.Accept(b)
	}
}

// await waits for p, our peer of a negotiation with guest id, to connect,
// and makes it the pair's link; or says the guest is reached through the
// host.
func (g *Guest) await(id int, pr *pair, p *peer.Peer) {
	ctx, cancel := context.WithTimeout(g.ctx, pairWait)
	defer cancel()
	conn, err := p.Connect(ctx)
	g.mu.Lock()
	mem := g.members[id]
	current := g.pairs[id] == pr && (pr.offer == p || pr.answer == p)
	if current {
		pr.offer, pr.answer = nil, nil
	}
	if err != nil || !current {
		tell := current && !pr.relayed && pr.link == nil
		if tell {
			pr.relayed = true
		}
		g.mu.Unlock()
		_ = p.Close()
		if tell {
			g.events(Event{Kind: Relayed, Member: mem, Text: "no direct connection within " + pairWait.String()})
		}
		return
	}
	old := pr.p
	l := &link{conn: conn}
	pr.p, pr.link, pr.relayed = p, l, false
	select {
	case <-pr.ready:
	default:
		close(pr.ready)
	}
	g.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	path := ""
	if pa, err := p.Path(); err == nil {
		path = pa.String()
	}
	g.events(Event{Kind: Direct, Member: mem, Path: path})
	go g.files.accept(p, id, g.serveFile)
	bye := false
	for m := range l.messages() {
		switch m.T {
		case tLine:
			m.From = id
			g.deliver(m)
		case tBye:
			bye = true
		}
	}
	// The link ended: lines sent over it lately go again through the
	// host (those that arrived are dropped as seen), and from now on all
	// do, until a new negotiation. After a bye the other guest is
	// leaving, as the host will say: nothing to send again, or tell.
	g.mu.Lock()
	if pr.link != l {
		g.mu.Unlock()
		return
	}
	resend := pr.sent
	pr.p, pr.link, pr.sent = nil, nil, nil
	ended := g.ended
	g.mu.Unlock()
	if ended || bye {
		return
	}
	for _, m := range resend {
		m.To, m.Starts = []int{id}, nil
		if m.Start {
			m.Starts = []int{id}
		}
		m.Start = false
		_ = g.host.send(m)
	}
	g.events(Event{Kind: Relayed, Member: mem, Text: "the direct connection ended"})
}

// closePair closes the pair's connections; with bye, it first tells the
// other guest over the direct link that we are leaving.
func (g *Guest) closePair(pr *pair, bye bool) {
	g.mu.Lock()
	if l := pr.link; bye && l != nil {
		g.mu.Unlock()
		_ = l.send(msg{T: tBye})
		g.mu.Lock()
	}
	ps := []*peer.Peer{pr.offer, pr.answer, pr.p}
	pr.offer, pr.answer, pr.p, pr.link = nil, nil, nil, nil
	pr.attempt++ // what is under way is not current any more
	g.mu.Unlock()
	for _, p := range ps {
		if p != nil {
			_ = p.Close()
		}
	}
}

// Renegotiate starts a new negotiation with every other guest at once, as
// after a network change: each pair's new connection replaces its old.
func (g *Guest) Renegotiate() {
	g.mu.Lock()
	var ids []int
	for id, m := range g.members {
		if id != HostID && !m.Page {
			ids = append(ids, id)
		}
	}
	g.mu.Unlock()
	for _, id := range ids {
		g.negotiate(id)
	}
}

// deliver hands a line to the person, in its sender's order.
func (g *Guest) deliver(m msg) {
	g.mu.Lock()
	from, ok := g.members[m.From]
	g.mu.Unlock()
	if !ok {
		return
	}
	for _, line := range g.in.add(m) {
		g.events(g.files.lineEvent(from, line))
	}
}

// Say sends our line to every other member: directly to the guests we
// have a direct connection to, through the host to the others (and to
// the host itself).
func (g *Guest) Say(text string) { g.say(msg{Text: text}) }

// Offer offers entries (from [transfer.Scan]) to every other member, as
// name: each can [Guest.Get] them, or [Guest.Decline].
func (g *Guest) Offer(entries []transfer.Entry, name string) File {
	g.mu.Lock()
	var to []int
	for id := range g.members {
		to = append(to, id)
	}
	g.mu.Unlock()
	file := g.files.put(entries, name, to)
	g.say(msg{File: &file})
	return file
}

// Get gets the file offered by from as id, on our direct connection to
// it if there is one, else through the host. It returns at once; a
// [Received] event tells of its arrival.
func (g *Guest) Get(from, id int, opts transfer.ReceiveOptions) error {
	file, ok := g.files.offer(from, id)
	mem, known := g.memberByID(from)
	if !ok || !known {
		return ErrNoSuchFile
	}
	g.mu.Lock()
	p := g.hostP
	if pr := g.pairs[from]; pr != nil && pr.link != nil {
		p = pr.p
	}
	g.mu.Unlock()
	go g.files.fetch(p.OpenChannel, fileReq{Get: id, Of: from, By: g.me.ID}, mem, file, opts)
	return nil
}

// Decline tells from that we do not want its file id.
func (g *Guest) Decline(from, id int) error {
	if _, ok := g.files.offer(from, id); !ok {
		return ErrNoSuchFile
	}
	return g.host.send(msg{T: tDecline, To: []int{from}, File: &File{ID: id}})
}

// memberByID is the other member id, if it is in the room.
func (g *Guest) memberByID(id int) (Member, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, ok := g.members[id]
	return m, ok
}

// say sends line (its Text or its File) to every other member.
func (g *Guest) say(line msg) {
	g.mu.Lock()
	g.seq++
	relay := msg{T: tLine, From: g.me.ID, Seq: g.seq, Text: line.Text, File: line.File, To: []int{HostID}}
	if !g.started[HostID] {
		relay.Starts = append(relay.Starts, HostID)
		g.started[HostID] = true
	}
	type direct struct {
		l *link
		m msg
	}
	var directs []direct
	for id := range g.members {
		if id == HostID {
			continue
		}
		start := !g.started[id]
		g.started[id] = true
		if pr := g.pairs[id]; pr != nil && pr.link != nil {
			m := msg{T: tLine, From: g.me.ID, Seq: g.seq, Text: line.Text, File: line.File, Start: start}
			pr.sent = append(pr.sent, m)
			if len(pr.sent) > resendLimit {
				pr.sent = pr.sent[len(pr.sent)-resendLimit:]
			}
			directs = append(directs, direct{pr.link, m})
			continue
		}
		relay.To = append(relay.To, id)
		if start {
			relay.Starts = append(relay.Starts, id)
		}
	}
	g.mu.Unlock()
	for _, d := range directs {
		_ = d.l.send(d.m)
	}
	_ = g.host.send(relay)
}

// Direct lists the guests we have a direct connection to.
func (g *Guest) Direct() []Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Member
	for id, pr := range g.pairs {
		if pr.link != nil {
			out = append(out, g.members[id])
		}
	}
	return out
}

// serveFile sends our file to the member that asked for it on ch.
func (g *Guest) serveFile(ch *peer.Conn, req fileReq) {
	if req.Of != g.me.ID {
		_ = ch.Close()
		return
	}
	g.files.serve(ch, req)
}

package room

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"pigeon/peer"
	"pigeon/transfer"
)

// helloWait bounds how long the host takes to welcome a guest.
const helloWait = 10 * time.Second

// admitWait bounds how long a connected guest takes to say who it is: its
// person may first compare the verification code (pigeon join --verify).
const admitWait = 3 * time.Minute

// Host is the room's host: it admits guests, tells everyone who is in the
// room, carries the guests' offers and answers to each other, and the
// lines of guests that cannot reach each other directly.
type Host struct {
	name   string
	events func(Event)
	// OnLeave, if set, is called when a guest left (an open room makes
	// room for another).
	OnLeave func()
	// hold, if set (by tests), may keep a signal from going on now: it
	// returns true, and calls forward later.
	hold func(m msg, forward func()) bool

	mu      sync.Mutex
	guests  map[int]*guest
	nextID  int
	seq     uint64
	started map[int]bool // members that have had our first line
	in      *inbox
	files   *files
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
}

// guest is a guest as the host knows it.
type guest struct {
	Member
	link *link
	p    *peer.Peer
}

// NewHost makes the host of a room, named name; events hears what happens
// in it, one call at a time.
func NewHost(name string, events func(Event)) *Host {
	var mu sync.Mutex
	if name = CleanName(name); name == "" {
		name = "host"
	}
	h := &Host{
		name: name,
		events: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			events(e)
		},
		guests:  map[int]*guest{},
		nextID:  HostID + 1,
		started: map[int]bool{},
		in:      newInbox(),
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.files = newFiles(h.ctx, h.events, h.memberByID)
	return h
}

// memberByID is guest id, if it is in the room.
func (h *Host) memberByID(id int) (Member, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if g := h.guests[id]; g != nil {
		return g.Member, true
	}
	return Member{}, false
}

// Members lists the room's members, the host first.
func (h *Host) Members() []Member {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.membersLocked()
}

func (h *Host) membersLocked() []Member {
	out := []Member{{ID: HostID, Name: h.name}}
	for _, g := range h.guests {
		out = append(out, g.Member)
	}
	slices.SortFunc(out, func(a, b Member) int { return a.ID - b.ID })
	return out
}

// Admit takes p, the host's peer for a guest, into the room once it has
// connected and said its name; the guest then runs until it leaves. It
// returns the guest as a member, or why it did not join.
func (h *Host) Admit(ctx context.Context, p *peer.Peer) (Member, error) {
	conn, err := p.Connect(ctx)
	if err != nil {
		_ = p.Close()
		return Member{}, err
	}
	l := &link{conn: conn}
	ms := l.messages()
	var m msg
	select {
	case m = <-ms:
	case <-time.After(admitWait):
		_ = p.Close()
		return Member{}, errors.New("the guest did not say who it is")
	case <-p.Done():
		return Member{}, p.Err()
	}
	if m.T != tHello {
		_ = p.Close()
		return Member{}, fmt.Errorf("the guest's first message was %q, not hello", m.T)
	}
	h.mu.Lock()
	if h.closed || len(h.guests)+1 >= MaxMembers {
		closed := h.closed
		h.mu.Unlock()
		_ = l.send(msg{T: tFull})
		_ = p.Close()
		if closed {
			return Member{}, errors.New("the room is over")
		}
		return Member{}, peer.ErrRoomFull
	}
	members := h.membersLocked()
	g := &guest{Member: Member{ID: h.nextID, Name: uniqueName(m.Name, h.nextID, members), Page: m.Page || p.Page()}, link: l, p: p}
	h.nextID++
	others := h.others(g.ID)
	h.guests[g.ID] = g
	h.mu.Unlock()

	// The welcome goes first: the guest reads everything after it.
	_ = l.send(msg{T: tWelcome, ID: g.ID, Name: g.Name, Room: h.name, Members: members})
	for _, o := range others {
		_ = o.link.send(msg{T: tJoined, ID: g.ID, Name: g.Name, Page: g.Page})
	}
	h.events(Event{Kind: Joined, Member: g.Member})
	go h.serve(g, ms)
	go h.files.accept(p, g.ID, h.fileRequest)
	return g.Member, nil
}

// others lists the guests but id.
func (h *Host) others(id int) []*guest {
	var out []*guest
	for gid, g := range h.guests {
		if gid != id {
			out = append(out, g)
		}
	}
	return out
}

// serve handles guest g's messages until it leaves.
func (h *Host) serve(g *guest, ms <-chan msg) {
	for m := range ms {
		h.handle(g, m)
	}
	h.leave(g)
}

// handle is one message from guest g.
func (h *Host) handle(g *guest, m msg) {
	m.From = g.ID // a guest speaks for itself only
	switch m.T {
	case tLine:
		for _, to := range m.To {
			fwd := m
			fwd.To, fwd.Start = nil, slices.Contains(m.Starts, to)
			fwd.Starts = nil
			if to == HostID {
				h.deliver(fwd)
				continue
			}
			h.mu.Lock()
			t := h.guests[to]
			h.mu.Unlock()
			if t != nil {
				_ = t.link.send(fwd)
			}
		}
	case tDecline:
		if len(m.To) != 1 {
			return
		}
		if m.To[0] == HostID {
			h.files.declined(g.ID, m.File)
			return
		}
		h.forward(m)
	case tSignal:
		if len(m.To) != 1 {
			return
		}
		forward := func() { h.forward(m) }
		h.mu.Lock()
		hold := h.hold
		h.mu.Unlock()
		if hold == nil || !hold(m, forward) {
			forward()
		}
	}
}

// forward carries m to the one guest it is for.
func (h *Host) forward(m msg) {
	h.mu.Lock()
	t := h.guests[m.To[0]]
	h.mu.Unlock()
	if t != nil {
		fwd := m
		fwd.To = nil
		_ = t.link.send(fwd)
	}
}

// deliver hands a line to the host's person, in its sender's order.
func (h *Host) deliver(m msg) {
	h.mu.Lock()
	from, ok := h.guests[m.From]
	h.mu.Unlock()
	if !ok {
		return
	}
	for _, line := range h.in.add(m) {
		h.events(h.files.lineEvent(from.Member, line))
	}
}

// leave takes g out of the room and tells the others.
func (h *Host) leave(g *guest) {
	_ = g.p.Close()
	h.mu.Lock()
	if _, ok := h.guests[g.ID]; !ok {
		h.mu.Unlock()
		return
	}
	delete(h.guests, g.ID)
	delete(h.started, g.ID)
	others := h.others(g.ID)
	closed := h.closed
	h.mu.Unlock()
	h.in.forget(g.ID)
	if closed {
		return
	}
	for _, o := range others {
		_ = o.link.send(msg{T: tLeft, ID: g.ID, Name: g.Name})
	}
	h.events(Event{Kind: Left, Member: g.Member})
	if h.OnLeave != nil {
		h.OnLeave()
	}
}

// Say sends the host's line to every guest.
func (h *Host) Say(text string) { h.say(msg{Text: text}) }

// Offer offers entries (from [transfer.Scan]) to every guest, as name.
func (h *Host) Offer(entries []transfer.Entry, name string) File {
	h.mu.Lock()
	var to []int
	for id := range h.guests {
		to = append(to, id)
	}
	h.mu.Unlock()
	file := h.files.put(entries, name, to)
	h.say(msg{File: &file})
	return file
}

// Get gets the file guest from offered as id, on the host's connection to
// it. It returns at once; a [Received] event tells of its arrival.
func (h *Host) Get(from, id int, opts transfer.ReceiveOptions) error {
	file, ok := h.files.offer(from, id)
	h.mu.Lock()
	g := h.guests[from]
	h.mu.Unlock()
	if !ok || g == nil {
		return ErrNoSuchFile
	}
	go h.files.fetch(g.p.OpenChannel, fileReq{Get: id, Of: from, By: HostID}, g.Member, file, opts)
	return nil
}

// Decline tells guest from that the host does not want its file id.
func (h *Host) Decline(from, id int) error {
	h.mu.Lock()
	g := h.guests[from]
	h.mu.Unlock()
	if _, ok := h.files.offer(from, id); !ok || g == nil {
		return ErrNoSuchFile
	}
	return g.link.send(msg{T: tDecline, From: HostID, File: &File{ID: id}})
}

// fileRequest is a guest's request for a file: the host's own, which it
// sends, or another guest's, to which it carries the request and then
// the transfer's messages both ways.
func (h *Host) fileRequest(ch *peer.Conn, req fileReq) {
	if req.Of == HostID {
		h.files.serve(ch, req)
		return
	}
	h.mu.Lock()
	g := h.guests[req.Of]
	h.mu.Unlock()
	if g == nil || req.Of == req.By {
		_ = writeJSON(ch, fileReply{Why: "the sender is not in the room"})
		ch.Flush(time.Second)
		_ = ch.Close()
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, fileWait)
	to, err := g.p.OpenChannel(ctx)
	cancel()
	if err == nil {
		err = writeJSON(to, req)
	}
	if err != nil {
		_ = writeJSON(ch, fileReply{Why: "the host could not reach the sender: " + err.Error()})
		ch.Flush(time.Second)
		_ = ch.Close()
		return
	}
	relayChannels(ch, to)
}

// say sends line (its Text or its File) to every guest.
func (h *Host) say(line msg) {
	h.mu.Lock()
	h.seq++
	seq := h.seq
	type out struct {
		l     *link
		start bool
	}
	var outs []out
	for id, g := range h.guests {
		outs = append(outs, out{g.link, !h.started[id]})
		h.started[id] = true
	}
	h.mu.Unlock()
	for _, o := range outs {
		_ = o.l.send(msg{T: tLine, From: HostID, Seq: seq, Start: o.start, Text: line.Text, File: line.File})
	}
}

// Close ends the room for everyone: each guest is told why.
func (h *Host) Close(why string) {
	defer h.cancel()
	h.mu.Lock()
	h.closed = true
	var gs []*guest
	for _, g := range h.guests {
		gs = append(gs, g)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, g := range gs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = g.link.send(msg{T: tEnd, Why: why})
			_ = g.p.Close() // waits for what was sent to arrive
		}()
	}
	wg.Wait()
}

package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"pigeon/peer"
	"pigeon/transfer"
)

// Files in a room.
//
// A member offers files to the room as it says a line: the offer (a
// [File]: a number, a name, a count and a size) goes to every other
// member, in order with its lines, directly or through the host. Each
// member that wants it opens a channel of its own to the sender, on
// their direct connection, or on its connection to the host when there
// is none (the host then opens one to the sender and carries the
// messages between the two), asks for the file by number, and receives
// it with package transfer's protocol. A member that does not want it
// says so, through the host. The sender sends a file only to members it
// offered it to.

// File is files and folders a member offered the room.
type File struct {
	ID    int    `json:"id"`   // the sender's number for it, from 1
	Name  string `json:"name"` // what it is, as the sender put it
	Files int    `json:"files"`
	Size  int64  `json:"size"` // bytes of the files whose size is known
}

// ErrNoSuchFile means no member offered the file asked for.
var ErrNoSuchFile = errors.New("no such file offer")

// fileWait bounds how long the asking for a file takes, before its data
// flows.
const fileWait = 15 * time.Second

// fileReq is the first message on a channel that gets a file, from the
// member that gets it.
type fileReq struct {
	Get int `json:"get"` // the File's ID
	Of  int `json:"of"`  // its sender
	By  int `json:"by"`  // who gets it (the host fills it in when it carries)
}

// fileReply is the sender's answer to a fileReq: the transfer follows,
// or why not.
type fileReply struct {
	OK  bool   `json:"ok,omitempty"`
	Why string `json:"why,omitempty"`
}

// shelved is a file we offered.
type shelved struct {
	file    File
	entries []transfer.Entry
	to      map[int]bool // the members it was offered to
}

// files is one member's side of the room's files: those it offered, and
// those offered to it.
type files struct {
	ctx    context.Context
	events func(Event)
	member func(id int) (Member, bool)

	mu      sync.Mutex
	next    int
	shelf   map[int]*shelved
	offered map[[2]int]File // heard offers, by sender and ID
}

func newFiles(ctx context.Context, events func(Event), member func(int) (Member, bool)) *files {
	return &files{ctx: ctx, events: events, member: member, shelf: map[int]*shelved{}, offered: map[[2]int]File{}}
}

// put shelves entries as a new offer to the members to, and returns it.
func (f *files) put(entries []transfer.Entry, name string, to []int) File {
	file := File{Name: name}
	for _, e := range entries {
		if e.Kind == transfer.File {
			file.Files++
			file.Size += max(e.Size, 0)
		}
	}
	s := &shelved{entries: entries, to: map[int]bool{}}
	for _, id := range to {
		s.to[id] = true
	}
	f.mu.Lock()
	f.next++
	file.ID = f.next
	s.file = file
	f.shelf[file.ID] = s
	f.mu.Unlock()
	return file
}

// heard records the offer file from member from.
func (f *files) heard(from int, file File) {
	f.mu.Lock()
	f.offered[[2]int{from, file.ID}] = file
	f.mu.Unlock()
}

// offer is the file from made with id, if it did.
func (f *files) offer(from, id int) (File, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, ok := f.offered[[2]int{from, id}]
	return file, ok
}

// ours is the offer of ours with id.
func (f *files) ours(id int) (File, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shelf[id]
	if s == nil {
		return File{}, false
	}
	return s.file, true
}

// declined tells of member id declining our offer file.
func (f *files) declined(id int, file *File) {
	if file == nil {
		return
	}
	m, ok := f.member(id)
	ours, known := f.ours(file.ID)
	if ok && known {
		f.events(Event{Kind: Declined, Member: m, File: ours})
	}
}

// accept hands handle each channel p's other side opens for a file, with
// its request, until p ends. by, when not negative, is who that other
// side is: its request cannot say otherwise.
func (f *files) accept(p *peer.Peer, by int, handle func(*peer.Conn, fileReq)) {
	for {
		ch, err := p.AcceptChannel(f.ctx)
		if err != nil {
			return
		}
		go func() {
			var req fileReq
			if err := readJSON(ch, &req); err != nil {
				_ = ch.Close()
				return
			}
			if by >= 0 {
				req.By = by
			}
			handle(ch, req)
		}()
	}
}

// serve sends our offer req.Get to req.By over ch.
func (f *files) serve(ch *peer.Conn, req fileReq) {
	defer ch.Close()
	f.mu.Lock()
	s := f.shelf[req.Get]
	f.mu.Unlock()
	by, ok := f.member(req.By)
	if s == nil || !ok || !s.to[req.By] {
		_ = writeJSON(ch, fileReply{Why: fmt.Sprintf("%v: the sender offered no file %d to you", ErrNoSuchFile, req.Get)})
		ch.Flush(time.Second)
		return
	}
	if writeJSON(ch, fileReply{OK: true}) != nil {
		return
	}
	f.events(Event{Kind: Sending, Member: by, File: s.file})
	st, err := transfer.Send(f.ctx, ch, s.entries, transfer.SendOptions{})
	f.events(Event{Kind: Sent, Member: by, File: s.file, Stats: st, Err: err})
}

// fetch gets file from member from over ch, which open opens, and tells
// of its arrival.
func (f *files) fetch(open func(context.Context) (*peer.Conn, error), req fileReq, from Member, file File, opts transfer.ReceiveOptions) {
	st, err := f.receive(open, req, file, opts)
	f.events(Event{Kind: Received, Member: from, File: file, Stats: st, Err: err})
}

func (f *files) receive(open func(context.Context) (*peer.Conn, error), req fileReq, file File, opts transfer.ReceiveOptions) (transfer.Stats, error) {
	ctx, cancel := context.WithTimeout(f.ctx, fileWait)
	ch, err := open(ctx)
	cancel()
	if err != nil {
		return transfer.Stats{}, fmt.Errorf("opening a channel for it: %w", err)
	}
	defer ch.Close()
	if err := writeJSON(ch, req); err != nil {
		return transfer.Stats{}, err
	}
	var r fileReply
	if err := readJSON(ch, &r); err != nil {
		return transfer.Stats{}, fmt.Errorf("asking for it: %w", err)
	}
	if !r.OK {
		return transfer.Stats{}, errors.New(r.Why)
	}
	// The sender sends what it offered, and no more.
	confirm := opts.Confirm
	opts.Confirm = func(o transfer.Offer) error {
		if o.Size > file.Size || o.Files > file.Files || o.Streams > 0 {
			return fmt.Errorf("refused: the sender sent %d files of %s where it offered %d of %s", o.Files, transfer.FormatSize(o.Size), file.Files, transfer.FormatSize(file.Size))
		}
		if confirm != nil {
			return confirm(o)
		}
		return nil
	}
	return transfer.Receive(f.ctx, ch, opts)
}

// relayChannels passes the messages of two channels to each other until one
// ends, then closes both: the host carrying a file between two guests.
func relayChannels(a, b *peer.Conn) {
	done := make(chan struct{}, 2)
	copyTo := func(dst, src *peer.Conn) {
		buf := make([]byte, peer.MaxMessage)
		for {
			n, err := src.ReadMessage(buf)
			if err != nil {
				break
			}
			if dst.WriteMessage(buf[:n]) != nil {
				break
			}
		}
		dst.Flush(5 * time.Second) // what came before the end arrives
		done <- struct{}{}
	}
	go copyTo(a, b)
	go copyTo(b, a)
	<-done
	_ = a.Close()
	_ = b.Close()
	<-done
}

func writeJSON(ch *peer.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ch.WriteMessage(b)
}

// readJSON reads one message into v, waiting at most fileWait.
func readJSON(ch *peer.Conn, v any) error {
	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		buf := make([]byte, peer.MaxMessage) // as ReadMessage asks
		n, err := ch.ReadMessage(buf)
		got <- result{buf[:n], err}
	}()
	select {
	case r := <-got:
		if r.err != nil {
			return r.err
		}
		return json.Unmarshal(r.b, v)
	case <-time.After(fileWait):
		_ = ch.Close()
		return errors.New("no reply")
	}
}

// lineEvent is the event of line m from member from: a line said, or a
// file offered.
func (f *files) lineEvent(from Member, m msg) Event {
	if m.File != nil {
		file := *m.File
		f.heard(from.ID, file)
		return Event{Kind: Offered, Member: from, File: file}
	}
	return Event{Kind: Line, Member: from, Text: m.Text}
}

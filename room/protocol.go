// Package room is pigeon's chat room: a host and up to seven guests, each
// guest connected to the host, and every two guests to each other
// directly when they can reach each other, with the offers and answers of
// those connections carried in band through the host. See doc/rooms.md.
package room

import (
	"encoding/json"
	"fmt"
	"sync"
)

// MaxMembers bounds a room: host and guests. A mesh of n members holds
// n(n-1)/2 connections, each member n-1 of them with sockets, DTLS and
// SCTP of their own, and every line is sent n-1 times by its sender: at 8
// that is 28 connections and 7 copies, which a laptop on Wi-Fi carries
// for chat; beyond it a server that forwards (an SFU) does better.
const MaxMembers = 8

// HostID is the host's member ID; guests get 1, 2, ... in the order they
// joined.
const HostID = 0

// Member is one person in the room.
type Member struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	// Page: the member is pigeon's page in a browser, which keeps to its
	// connection to the host: the others reach it through the host.
	Page bool `json:"page,omitempty"`
}

// Message types, in msg.T.
const (
	tHello   = "hello"   // guest to host, first: its name
	tWelcome = "welcome" // host to guest: its ID and name, the room's members
	tJoined  = "joined"  // host to guests: a member joined
	tLeft    = "left"    // host to guests: a member left
	tLine    = "line"    // a member's line, direct or through the host
	tSignal  = "signal"  // an offer or answer between two guests, through the host
	tEnd     = "end"     // host to guests: the room is over
	tFull    = "full"    // host to a guest: no room for it
	tBye     = "bye"     // a guest to another, directly: it is leaving
	tDecline = "decline" // a member to a file's sender, through the host: not wanted
)

// msg is one message on a connection of the room, as JSON.
type msg struct {
	T       string   `json:"t"`
	ID      int      `json:"id,omitempty"`
	Name    string   `json:"name,omitempty"`
	Room    string   `json:"room,omitempty"`
	Page    bool     `json:"page,omitempty"` // hello, joined: the member is a page
	Members []Member `json:"members,omitempty"`
	// From is the member a line or signal comes from; To, on its way to
	// the host, the members the host carries it to.
	From int   `json:"from"`
	To   []int `json:"to,omitempty"`
	// Seq numbers a sender's lines from 1; Start marks the first line it
	// sends a member, from which that member reads its lines in order.
	Seq   uint64 `json:"seq,omitempty"`
	Start bool   `json:"start,omitempty"`
	// Starts, on a line's way to the host, are the members of To for
	// which it is the first: the host marks it Start for them.
	Starts []int  `json:"starts,omitempty"`
	Text   string `json:"text,omitempty"`
	// Blob is a signal's pigeon blob (an offer or an answer).
	Blob string `json:"blob,omitempty"`
	// File is a line's file offer, instead of Text; or the offer a
	// decline is of.
	File *File  `json:"file,omitempty"`
	Why  string `json:"why,omitempty"`
}

// maxMessage bounds a message of the room.
const maxMessage = 64 << 10

// Conn is a message connection of the room ([peer.Conn] is one).
type Conn interface {
	ReadMessage(buf []byte) (int, error)
	WriteMessage(msg []byte) error
}

// link is one connection of a member's, whose messages are JSON.
type link struct {
	conn Conn
	mu   sync.Mutex // one writer at a time
}

func (l *link) send(m msg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(b) > maxMessage {
		return fmt.Errorf("a message of %d bytes, more than a room carries (%d)", len(b), maxMessage)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn.WriteMessage(b)
}

// messages reads messages until the connection ends, when it closes the
// channel.
func (l *link) messages() <-chan msg {
	ms := make(chan msg, 16)
	go func() {
		defer close(ms)
		buf := make([]byte, maxMessage)
		for {
			n, err := l.conn.ReadMessage(buf)
			if err != nil {
				return
			}
			var m msg
			if json.Unmarshal(buf[:n], &m) != nil {
				continue // a newer pigeon's message
			}
			ms <- m
		}
	}()
	return ms
}

// inbox puts each sender's lines in the order they were sent, once each,
// whichever way they came (directly or through the host, or both after a
// direct link failed and its last lines were sent again).
type inbox struct {
	mu      sync.Mutex
	next    map[int]uint64         // per sender: the next line to deliver, 0 before its first
	pending map[int]map[uint64]msg // per sender: lines that came early
}

func newInbox() *inbox {
	return &inbox{next: map[int]uint64{}, pending: map[int]map[uint64]msg{}}
}

// add takes line m and returns the lines of its sender now in order.
func (in *inbox) add(m msg) []msg {
	in.mu.Lock()
	defer in.mu.Unlock()
	next := in.next[m.From]
	if next == 0 && m.Start {
		next = m.Seq
	}
	if next != 0 && m.Seq < next {
		return nil // seen
	}
	p := in.pending[m.From]
	if p == nil {
		p = map[uint64]msg{}
		in.pending[m.From] = p
	}
	p[m.Seq] = m
	var out []msg
	for next != 0 {
		line, ok := p[next]
		if !ok {
			break
		}
		delete(p, next)
		out = append(out, line)
		next++
	}
	in.next[m.From] = next
	return out
}

// forget drops what the inbox knows of a member that left.
func (in *inbox) forget(id int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.next, id)
	delete(in.pending, id)
}

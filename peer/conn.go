package peer

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/webrtc/v4"
)

// MaxMessage is the largest message a [Conn] carries. It is far below the
// receive buffer of any WebRTC peer, so a message is never dropped for size.
const MaxMessage = 64 << 10

// Flow control: a writer waits while more than highWaterMark bytes are queued
// and resumes when the queue drains below lowWaterMark.
const (
	highWaterMark = 1 << 20
	lowWaterMark  = 256 << 10
)

// ErrMessageTooLarge is returned for a message over [MaxMessage].
var ErrMessageTooLarge = fmt.Errorf("message larger than %d bytes", MaxMessage)

// Conn is an open, reliable and ordered message channel between two peers:
// channel 0 from [Peer.Connect], or another one from [Peer.OpenChannel] or
// [Peer.AcceptChannel]. Each has its own flow control, so a full channel
// does not hold up writers on the others.
type Conn struct {
	p  *Peer
	q  sendQueue // the channel's send queue
	rw datachannel.ReadWriteCloser

	closed    chan struct{} // closed by Close
	closeOnce sync.Once

	// plain: the channel is another program's (see foreign.go), whose
	// messages are the app's own, text or binary, not pigeon's frames.
	plain bool
	// first is a message read before the app took the channel (channel 0
	// with another program), returned by the first read.
	first *message

	mu      sync.Mutex
	drained chan struct{} // closed (and replaced) each time the send queue drains
}

// sendQueue is what a writer needs of a data channel to wait for room:
// pion's [webrtc.DataChannel] on a connection, its [datachannel.DataChannel]
// on a lane.
type sendQueue interface {
	BufferedAmount() uint64
	SetBufferedAmountLowThreshold(uint64)
	OnBufferedAmountLow(func())
}

var (
	_ sendQueue = (*webrtc.DataChannel)(nil)
	_ sendQueue = (*datachannel.DataChannel)(nil)
)

// newConn wraps a channel with send queue q, not yet open: the caller sets
// rw once it is.
func newConn(p *Peer, q sendQueue) *Conn {
	c := &Conn{p: p, q: q, closed: make(chan struct{}), drained: make(chan struct{})}
	q.SetBufferedAmountLowThreshold(lowWaterMark)
	q.OnBufferedAmountLow(func() {
		// Wake every waiting writer.
		c.mu.Lock()
		close(c.drained)
		c.drained = make(chan struct{})
		c.mu.Unlock()
	})
	return c
}

// message is one message as it arrived.
type message struct {
	data []byte
	text bool
}

// Plain reports whether the channel was opened by or for a program that is
// not pigeon (a browser page): its messages are the app's own, each a
// string (see [Conn.ReadMessageType], [Conn.WriteText]) or binary.
func (c *Conn) Plain() bool { return c.plain }

// ReadMessage reads one whole message into buf, which must hold
// [MaxMessage] bytes. It returns [io.EOF] when the peer closed the channel
// or its connection, or why our side ended.
func (c *Conn) ReadMessage(buf []byte) (int, error) {
	n, _, err := c.ReadMessageType(buf)
	return n, err
}

// ReadMessageType reads one whole message as [Conn.ReadMessage] does, and
// says whether the other side sent it as a string (pion's SendText, a
// page's send of a string) rather than as binary.
func (c *Conn) ReadMessageType(buf []byte) (n int, text bool, err error) {
	if m := c.first; m != nil {
		c.first = nil
		if len(m.data) > len(buf) {
			return 0, false, fmt.Errorf("reading from the peer: a message larger than %d bytes", len(buf))
		}
		return copy(buf, m.data), m.text, nil
	}
	n, text, err = c.rw.ReadDataChannel(buf)
	if err == nil {
		return n, text, nil
	}
	return 0, false, c.readError(err, len(buf))
}

// readError says why a read failed.
func (c *Conn) readError(err error, size int) error {
	if perr := c.p.Err(); perr != nil && !errors.Is(perr, ErrClosed) && !errors.Is(perr, ErrPeerClosed) {
		return perr
	}
	if errors.Is(err, io.ErrShortBuffer) {
		return fmt.Errorf("reading from the peer: a message larger than %d bytes", size)
	}
	// The channel or the whole association was closed by the peer (a
	// stream reset reads as EOF, an SCTP abort as an error).
	return io.EOF
}

// WriteMessage sends one binary message, waiting while the send queue is
// full.
func (c *Conn) WriteMessage(msg []byte) error {
	return c.write(msg, false)
}

// WriteText sends msg, which must be UTF-8, as one string message: what a
// page's onmessage receives as a string.
func (c *Conn) WriteText(msg []byte) error {
	return c.write(msg, true)
}

// Flush waits until the other side acknowledged every message written on
// the channel, for at most timeout, and reports whether it did.
func (c *Conn) Flush(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for c.q.BufferedAmount() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-c.p.done:
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}

func (c *Conn) write(msg []byte, text bool) error {
	if len(msg) > MaxMessage {
		return ErrMessageTooLarge
	}
	for {
		// Take the signal before looking at the queue, so a drain in
		// between is not missed.
		c.mu.Lock()
		drained := c.drained
		c.mu.Unlock()
		if c.q.BufferedAmount() <= highWaterMark {
			break
		}
		select {
		case <-drained:
		case <-c.closed:
			return ErrChannelClosed
		case <-c.p.done:
			return c.p.Err()
		}
	}
	if _, err := c.rw.WriteDataChannel(msg, text); err != nil {
		select {
		case <-c.closed:
			return ErrChannelClosed
		default:
		}
		if perr := c.p.Err(); perr != nil {
			return perr
		}
		// Our side did not end: the peer closed the association.
		return fmt.Errorf("%w (%v)", ErrPeerClosed, err)
	}
	return nil
}

// Close closes the channel; the peer reads [io.EOF]. Closing channel 0
// leaves the other channels open. A writer waiting on this channel returns
// [ErrChannelClosed].
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		if c != c.p.main {
			c.p.mu.Lock()
			c.p.channels.remove(c)
			c.p.mu.Unlock()
		}
		err = c.rw.Close()
	})
	return err
}

// Label is the channel's label: "pigeon" for pigeon's own channels, the
// other program's for a channel it announced.
func (c *Conn) Label() string {
	if dc, ok := c.q.(*webrtc.DataChannel); ok {
		return dc.Label()
	}
	return ""
}

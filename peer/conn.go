package peer

import (
	"errors"
	"fmt"
	"io"
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

// Conn is the open, reliable and ordered message channel between two peers.
type Conn struct{ p *Peer }

// ReadMessage reads one whole message into buf, which must hold
// [MaxMessage] bytes. It returns [io.EOF] when the peer closed the channel
// or its connection, or why our side ended.
func (c *Conn) ReadMessage(buf []byte) (int, error) {
	n, _, err := c.p.rw.ReadDataChannel(buf)
	if err == nil {
		return n, nil
	}
	if perr := c.p.Err(); perr != nil && !errors.Is(perr, ErrClosed) && !errors.Is(perr, ErrPeerClosed) {
		return 0, perr
	}
	if errors.Is(err, io.ErrShortBuffer) {
		return 0, fmt.Errorf("reading from the peer: a message larger than %d bytes", len(buf))
	}
	// The channel or the whole association was closed by the peer (a
	// stream reset reads as EOF, an SCTP abort as an error).
	return 0, io.EOF
}

// WriteMessage sends one message, waiting while the send queue is full.
func (c *Conn) WriteMessage(msg []byte) error {
	if len(msg) > MaxMessage {
		return ErrMessageTooLarge
	}
	for {
		// Take the signal before looking at the queue, so a drain in
		// between is not missed.
		c.p.mu.Lock()
		drained := c.p.drained
		c.p.mu.Unlock()
		if c.p.dc.BufferedAmount() <= highWaterMark {
			break
		}
		select {
		case <-drained:
		case <-c.p.done:
			return c.p.Err()
		}
	}
	if _, err := c.p.rw.Write(msg); err != nil {
		if perr := c.p.Err(); perr != nil {
			return perr
		}
		// Our side did not end: the peer closed the association.
		return fmt.Errorf("%w (%v)", ErrPeerClosed, err)
	}
	return nil
}

// Close closes the channel; the peer reads [io.EOF].
func (c *Conn) Close() error { return c.p.rw.Close() }

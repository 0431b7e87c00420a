package share

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"pigeon/peer"
)

// Frames of share's own on a connection's channel. The channel also carries
// the frames of package pipe, whose types are small numbers; share's start
// at 0x80 so the two never meet.
const (
	frameReady   byte = 0x80 // sharer to joiner, first: the service answered
	frameRefused byte = 0x81 // sharer to joiner, first and last: why it did not; text follows
	frameCredit  byte = 0x82 // the receiver took this many more bytes (uint32, big endian)
)

// channel is one TCP connection's channel with a window of its own: a side
// sends at most window bytes the other side's program has not taken yet.
// The SCTP receive buffer is shared by every channel of the connection, so
// without it one client that stops reading would, once the buffer is full,
// hold up all the others.
//
// A goroutine reads the channel all the time: credits are taken at once,
// and data waits here (at most window bytes) until the pipe asks for it.
type channel struct {
	conn   *peer.Conn
	window int

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced when anything below changes
	credit     int           // bytes we may still send
	queue      [][]byte      // received, not yet taken
	uncredited int           // bytes received and not yet credited back
	taken      int           // bytes taken since the last credit we sent
	last       int           // size of the message taken last: written out once the next is asked for
	readErr    error         // why reading ended

	closeOnce sync.Once
	closed    chan struct{}
}

// newChannel starts reading conn. With wantStatus (the joiner), the first
// frame must be the sharer's ready or refused; a refusal ends reading with
// a [*RefusedError].
func newChannel(conn *peer.Conn, window int, wantStatus bool) *channel {
	c := &channel{
		conn:    conn,
		window:  window,
		changed: make(chan struct{}),
		credit:  window,
		closed:  make(chan struct{}),
	}
	go c.readLoop(wantStatus)
	return c
}

func (c *channel) readLoop(wantStatus bool) {
	buf := make([]byte, peer.MaxMessage)
	for {
		n, err := c.conn.ReadMessage(buf)
		if err == nil && n == 0 {
			err = errors.New("the peer sent an empty message")
		}
		if err != nil {
			c.fail(err)
			return
		}
		if wantStatus {
			switch buf[0] {
			case frameReady:
			case frameRefused:
				c.fail(&RefusedError{Reason: string(buf[1:n])})
				return
			default:
				c.fail(fmt.Errorf("the peer sent an unknown first message (type %#x): is it a newer pigeon?", buf[0]))
				return
			}
			wantStatus = false
			continue
		}
		switch buf[0] {
		case frameCredit:
			if n != 5 {
				c.fail(errors.New("the peer sent a malformed credit"))
				return
			}
			grant := int(binary.BigEndian.Uint32(buf[1:5]))
			c.mu.Lock()
			c.credit += grant
			bad := c.credit > c.window
			c.signal()
			c.mu.Unlock()
			if bad {
				c.fail(errors.New("the peer credited more than it was sent"))
				return
			}
		case frameReady, frameRefused:
			c.fail(fmt.Errorf("the peer sent an unexpected message (type %#x)", buf[0]))
			return
		default:
			msg := make([]byte, n)
			copy(msg, buf[:n])
			c.mu.Lock()
			c.uncredited += n
			bad := c.uncredited > c.window
			c.queue = append(c.queue, msg)
			c.signal()
			c.mu.Unlock()
			if bad {
				c.fail(errors.New("the peer sent more than its window"))
				return
			}
		}
	}
}

// signal wakes every waiter; c.mu is held.
func (c *channel) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *channel) fail(err error) {
	c.mu.Lock()
	if c.readErr == nil {
		c.readErr = err
	}
	c.signal()
	c.mu.Unlock()
}

// ReadMessage returns the next message of the pipe's stream. The message
// returned before has been written out by now: it is credited back.
func (c *channel) ReadMessage(buf []byte) (int, error) {
	c.mu.Lock()
	c.taken += c.last
	c.last = 0
	grant := 0
	if c.taken >= c.window/4 {
		grant, c.taken = c.taken, 0
		c.uncredited -= grant
	}
	c.mu.Unlock()
	if grant > 0 {
		msg := make([]byte, 5)
		msg[0] = frameCredit
		binary.BigEndian.PutUint32(msg[1:], uint32(grant))
		if err := c.conn.WriteMessage(msg); err != nil {
			return 0, err
		}
	}
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			msg := c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			c.last = len(msg)
			c.mu.Unlock()
			if len(msg) > len(buf) {
				return 0, io.ErrShortBuffer
			}
			return copy(buf, msg), nil
		}
		if err := c.readErr; err != nil {
			c.mu.Unlock()
			return 0, err
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.closed:
			return 0, peer.ErrChannelClosed
		}
	}
}

// WriteMessage sends msg once the window has room for it.
func (c *channel) WriteMessage(msg []byte) error {
	for {
		c.mu.Lock()
		if c.credit >= len(msg) {
			c.credit -= len(msg)
			c.mu.Unlock()
			return c.conn.WriteMessage(msg)
		}
		if err := c.readErr; err != nil {
			c.mu.Unlock()
			if errors.Is(err, io.EOF) {
				return errors.New("the peer closed the connection's channel")
			}
			return err
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.closed:
			return peer.ErrChannelClosed
		}
	}
}

// refused is the sharer's refusal, if it sent one.
func (c *channel) refused() *RefusedError {
	c.mu.Lock()
	defer c.mu.Unlock()
	var re *RefusedError
	if errors.As(c.readErr, &re) {
		return re
	}
	return nil
}

// Close closes the channel and wakes every waiter.
func (c *channel) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.conn.Close()
	})
	return err
}

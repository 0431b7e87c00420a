// Package pipe carries a byte stream each way over an open message
// connection, as a pipe or a socket would, with half close: the end of one
// side's input ends that direction only, and the other side's output is
// closed so a program reading it sees the end. A session is over when both
// directions are, and it succeeds only when every byte of both arrived: the
// end of a direction is confirmed by the side that wrote out its last byte.
//
// On the wire a message is one frame: a type byte, then data.
package pipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Frame types.
const (
	frameData byte = 1 // bytes of the stream
	frameEnd  byte = 2 // the sender's input ended: no more data this way
	frameAck  byte = 3 // reply to end: every byte before it was written out
)

// Conn is the message connection a pipe runs over ([peer.Conn] is one).
type Conn interface {
	ReadMessage(buf []byte) (int, error)
	WriteMessage(msg []byte) error
}

// ChunkSize is the most data one frame carries.
const ChunkSize = 64<<10 - 1

// Stats counts what a session moved.
type Stats struct {
	Sent, Received int64
	Elapsed        time.Duration
}

// Run copies in to the peer and the peer's stream to out until both
// directions have ended. When the peer's stream ends, out is closed if it is
// an [io.Closer]. A nil in sends nothing: our direction ends at once.
func Run(ctx context.Context, conn Conn, in io.Reader, out io.Writer) (Stats, error) {
	start := time.Now()
	s := &session{conn: conn, out: out, acked: make(chan struct{}), ended: make(chan struct{}), failed: make(chan error, 2)}
	go s.receive()
	go s.send(in)
	acked, ended := s.acked, s.ended
	for acked != nil || ended != nil {
		select {
		case <-acked:
			acked = nil
		case <-ended:
			ended = nil
		case err := <-s.failed:
			return s.stats(start), err
		case <-ctx.Done():
			return s.stats(start), ctx.Err()
		}
	}
	return s.stats(start), nil
}

type session struct {
	conn   Conn
	out    io.Writer
	acked  chan struct{} // closed when the peer confirmed our end
	ended  chan struct{} // closed when the peer's stream ended and was written out
	failed chan error

	mu             sync.Mutex
	sent, received int64
}

func (s *session) stats(start time.Time) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Sent: s.sent, Received: s.received, Elapsed: time.Since(start)}
}

func (s *session) send(in io.Reader) {
	if in != nil {
		buf := make([]byte, 1+ChunkSize)
		buf[0] = frameData
		for {
			n, err := in.Read(buf[1:])
			if n > 0 {
				if werr := s.conn.WriteMessage(buf[:1+n]); werr != nil {
					s.failed <- werr
					return
				}
				s.mu.Lock()
				s.sent += int64(n)
				s.mu.Unlock()
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				s.failed <- fmt.Errorf("reading the input: %w", err)
				return
			}
		}
	}
	if err := s.conn.WriteMessage([]byte{frameEnd}); err != nil {
		s.failed <- err
	}
}

func (s *session) receive() {
	buf := make([]byte, 1+ChunkSize)
	acked, ended := s.acked, s.ended
	for acked != nil || ended != nil {
		n, err := s.conn.ReadMessage(buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the peer closed the pipe before the streams ended")
			}
			s.failed <- err
			return
		}
		if n == 0 {
			s.failed <- errors.New("the peer sent an empty message")
			return
		}
		switch buf[0] {
		case frameData:
			if ended == nil {
				s.failed <- errors.New("the peer sent data after the end of its stream")
				return
			}
			if _, err := s.out.Write(buf[1:n]); err != nil {
				s.failed <- fmt.Errorf("writing the output: %w", err)
				return
			}
			s.mu.Lock()
			s.received += int64(n - 1)
			s.mu.Unlock()
		case frameEnd:
			if ended == nil {
				continue // said twice
			}
			if c, ok := s.out.(io.Closer); ok {
				if err := c.Close(); err != nil {
					s.failed <- fmt.Errorf("closing the output: %w", err)
					return
				}
			}
			if err := s.conn.WriteMessage([]byte{frameAck}); err != nil {
				s.failed <- err
				return
			}
			close(ended)
			ended = nil
		case frameAck:
			if acked != nil {
				close(acked)
				acked = nil
			}
		default:
			s.failed <- fmt.Errorf("the peer sent an unknown message (type %d): is it a newer pigeon?", buf[0])
			return
		}
	}
}

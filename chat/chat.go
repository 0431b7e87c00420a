// Package chat is pigeon's line chat over an open message connection.
//
// Each line typed on one side is printed on the other. Input that ends (end
// of file) or a line "/quit" ends the session for both: the side that leaves
// says goodbye and waits until the other side has read every line before it,
// so nothing typed is lost.
//
// On the wire a message is one frame: a type byte, then UTF-8 text. A line
// longer than [MaxFragment] travels as several frames.
package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Frame types.
const (
	frameLine byte = 1 // the end of a line (or a whole line)
	framePart byte = 2 // part of a line that continues in the next frame
	frameBye  byte = 3 // the sender's input ended: the session is over
	frameAck  byte = 4 // reply to bye: every frame before it was read
)

// MaxFragment is the most text one frame carries.
const MaxFragment = 32 << 10

// Quit is the line that ends a session.
const Quit = "/quit"

// Conn is the message connection a chat runs over ([peer.Conn] is one).
type Conn interface {
	ReadMessage(buf []byte) (int, error)
	WriteMessage(msg []byte) error
}

// Ending says how a session that ended well ended.
type Ending int

const (
	// WeLeft: our input ended or we typed /quit.
	WeLeft Ending = iota + 1
	// PeerLeft: the peer's input ended or it typed /quit.
	PeerLeft
)

// Options tune a session.
type Options struct {
	// Format turns a received line into what is written out; nil writes
	// the line and a newline.
	Format func(line []byte) []byte
	// ByeTimeout bounds the wait for the peer to confirm our goodbye.
	ByeTimeout time.Duration
	// OnBinary, if set, is told the size of each binary message a program
	// that is not pigeon sends ([RunPlain]), which is not written out.
	OnBinary func(size int)
}

// Run chats over conn until either side leaves: it sends the fragments from
// in (see [ReadLines]) and writes received lines to out. When the peer
// leaves, the lines already read from in are still sent before Run
// confirms the goodbye.
func Run(ctx context.Context, conn Conn, in <-chan Fragment, out io.Writer, opts Options) (Ending, error) {
	if opts.ByeTimeout <= 0 {
		opts.ByeTimeout = 5 * time.Second
	}
	r := &receiver{conn: conn, out: out, format: opts.Format, bye: make(chan struct{}), acked: make(chan struct{}), failed: make(chan error, 1)}
	go r.run()

	for {
		select {
		case f, ok := <-in:
			if !ok || isQuit(f) {
				return leave(ctx, conn, r, opts.ByeTimeout)
			}
			if err := send(conn, f); err != nil {
				return 0, err
			}
		case <-r.bye:
			return PeerLeft, sendPending(conn, in)
		case err := <-r.failed:
			return 0, err
		case <-ctx.Done():
			// Interrupted: still say goodbye, briefly, so the peer knows.
			_, _ = leave(context.Background(), conn, r, time.Second)
			return 0, ctx.Err()
		}
	}
}

func isQuit(f Fragment) bool { return f.Text == Quit && !f.More && !f.Continued }

// sendPending sends the lines already read when the peer said goodbye,
// then confirms the goodbye.
func sendPending(conn Conn, in <-chan Fragment) error {
	for {
		select {
		case f, ok := <-in:
			if ok && !isQuit(f) {
				if err := send(conn, f); err != nil {
					return err
				}
				continue
			}
		default:
		}
		return conn.WriteMessage([]byte{frameAck})
	}
}

func send(conn Conn, f Fragment) error {
	kind := frameLine
	if f.More {
		kind = framePart
	}
	msg := make([]byte, 0, 1+len(f.Text))
	msg = append(append(msg, kind), f.Text...)
	return conn.WriteMessage(msg)
}

// leave says goodbye and waits for the peer to confirm it read everything.
func leave(ctx context.Context, conn Conn, r *receiver, timeout time.Duration) (Ending, error) {
	if err := conn.WriteMessage([]byte{frameBye}); err != nil {
		return 0, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	bye := r.bye
	for {
		select {
		case <-r.acked:
			// The peer may have said goodbye too, just before confirming
			// ours (one reader closes bye before acked): confirm it.
			if bye != nil {
				select {
				case <-bye:
					if err := conn.WriteMessage([]byte{frameAck}); err != nil {
						return 0, err
					}
				default:
				}
			}
			return WeLeft, nil
		case <-bye:
			// Both left at once: confirm theirs, and wait for ours.
			if err := conn.WriteMessage([]byte{frameAck}); err != nil {
				return 0, err
			}
			bye = nil
		case err := <-r.failed:
			return 0, err
		case <-t.C:
			return 0, errors.New("the peer did not confirm the end of the chat: the last lines may not have arrived")
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// receiver reads the peer's frames: lines go out, goodbyes are signalled.
type receiver struct {
	conn   Conn
	out    io.Writer
	format func([]byte) []byte
	bye    chan struct{} // closed when the peer says goodbye
	acked  chan struct{} // closed when the peer confirms our goodbye
	failed chan error    // why reading stopped, unless it stopped after both
}

func (r *receiver) run() {
	if err := r.loop(); err != nil {
		r.failed <- err
	}
}

func (r *receiver) loop() error {
	buf := make([]byte, 64<<10)
	var line []byte // a line being assembled from parts, when formatting
	for {
		n, err := r.conn.ReadMessage(buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the peer closed the chat without saying goodbye")
			}
			return err
		}
		if n == 0 {
			return errors.New("the peer sent an empty message")
		}
		text := buf[1:n]
		switch buf[0] {
		case frameLine, framePart:
			if r.format != nil {
				line = append(line, text...)
				if buf[0] == framePart {
					if len(line) > 1<<20 {
						return errors.New("the peer sent a line longer than 1 MiB")
					}
					continue
				}
				text, line = r.format(line), line[:0]
			} else if buf[0] == frameLine {
				text = append(text, '\n')
			}
			if _, err := r.out.Write(text); err != nil {
				return fmt.Errorf("writing a received line: %w", err)
			}
		case frameBye:
			select {
			case <-r.bye: // said twice
			default:
				close(r.bye)
			}
		case frameAck:
			close(r.acked)
			return nil
		default:
			return fmt.Errorf("the peer sent an unknown message (type %d): is it a newer pigeon?", buf[0])
		}
	}
}

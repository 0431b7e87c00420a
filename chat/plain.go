package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// PlainConn is a data channel to a program that is not pigeon (a browser
// page, pion's examples): it carries the chat's own messages, strings or
// binary, without pigeon's frames ([peer.Conn] with Plain set is one).
type PlainConn interface {
	// ReadMessageType reads one message and says whether it is a string.
	ReadMessageType(buf []byte) (n int, text bool, err error)
	// WriteText sends one string message.
	WriteText(msg []byte) error
	// Flush waits until the other side has every message written.
	Flush(timeout time.Duration) bool
	// Close closes the channel: the other side sees its close event.
	Close() error
}

// MaxPlainMessage is the longest line [RunPlain] sends as one message;
// a longer line is sent as several. Every WebRTC program receives
// messages of 64 KiB (RFC 8841's default max-message-size).
const MaxPlainMessage = 64 << 10

// RunPlain chats over a channel to a program that is not pigeon, in the
// way an ordinary page does: each line typed is one string message, each
// string message received is written out as one line. Binary messages are
// not written out: [Options.OnBinary] is told of them. The chat ends when
// our input ends or says [Quit] (the channel is closed once the other side
// has every line: [WeLeft]), or when the other side closes the channel or
// its connection ([PeerLeft]).
func RunPlain(ctx context.Context, conn PlainConn, in <-chan Fragment, out io.Writer, opts Options) (Ending, error) {
	if opts.ByeTimeout <= 0 {
		opts.ByeTimeout = 5 * time.Second
	}
	closed := make(chan struct{}) // the other side closed the channel
	failed := make(chan error, 1)
	go func() {
		if err := readPlain(conn, out, opts); err != nil {
			failed <- err
			return
		}
		close(closed)
	}()

	var line []byte // a line longer than a fragment, being assembled
	for {
		select {
		case f, ok := <-in:
			if !ok || isQuit(f) {
				return WeLeft, leavePlain(conn, closed, failed, opts.ByeTimeout)
			}
			line = append(line, f.Text...)
			for len(line) > MaxPlainMessage {
				if err := sendText(conn, line[:MaxPlainMessage]); err != nil {
					return 0, err
				}
				line = line[MaxPlainMessage:]
			}
			if f.More {
				continue
			}
			if err := sendText(conn, line); err != nil {
				return 0, err
			}
			line = line[:0]
		case <-closed:
			return PeerLeft, nil
		case err := <-failed:
			return 0, err
		case <-ctx.Done():
			_ = leavePlain(conn, closed, failed, time.Second)
			return 0, ctx.Err()
		}
	}
}

// sendText sends a line as one string message; bytes that are not UTF-8
// become U+FFFD, as a string message must be text.
func sendText(conn PlainConn, line []byte) error {
	return conn.WriteText([]byte(strings.ToValidUTF8(string(line), "\uFFFD")))
}

// leavePlain closes the channel once the other side has every line, and
// waits for it to close its end too.
func leavePlain(conn PlainConn, closed <-chan struct{}, failed <-chan error, timeout time.Duration) error {
	flushed := conn.Flush(timeout)
	if err := conn.Close(); err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-closed:
	case <-failed:
	case <-t.C:
	}
	if !flushed {
		return errors.New("the other side did not confirm the last lines: they may not have arrived")
	}
	return nil
}

// maxReceived is the largest message pigeon's descriptions say it takes
// (a=max-message-size).
const maxReceived = 256 << 10

// readPlain writes out the string messages the other side sends; it
// returns nil when the other side closes the channel or the connection.
func readPlain(conn PlainConn, out io.Writer, opts Options) error {
	buf := make([]byte, maxReceived)
	for {
		n, text, err := conn.ReadMessageType(buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !text {
			if opts.OnBinary != nil {
				opts.OnBinary(n)
			}
			continue
		}
		var line []byte
		if opts.Format != nil {
			line = opts.Format(buf[:n])
		} else {
			line = append(buf[:n:n], '\n')
		}
		if _, err := out.Write(line); err != nil {
			return fmt.Errorf("writing a received line: %w", err)
		}
	}
}

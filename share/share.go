// Package share carries TCP connections over a pigeon connection, as an SSH
// tunnel does: the sharing side ([Serve]) makes one TCP service reachable,
// and the joining side ([Forward]) accepts TCP connections on a local
// listener and carries each one over its own channel ([peer.Peer.OpenChannel])
// to a new connection to that service.
//
// The sharing side dials only the address it was given: nothing the other
// side sends names a destination.
//
// Each TCP connection is a [pipe] session on its channel, so half close
// works as TCP's does: the end of one side's stream ends that direction and
// shuts down the writing half of the other side's TCP connection. When both
// directions have ended, both TCP connections and the channel are closed.
// Each channel also has a flow-control window of its own (see
// [Options.Window]), so that a client that stops reading holds up only its
// own connection.
//
// On the wire, channel 0 carries one message, from the sharing side to the
// joining side: a hello naming the shared address (type byte 0x01, then the
// address as text). Nothing else is sent on it; each side reads it until it
// ends, which means the other side left. On each connection's channel the
// sharing side first sends ready (0x80) once its TCP connection is made, or
// refused (0x81, then the reason as text) and closes the channel; pipe's
// frames follow, mixed with credits (0x82, then a 32-bit big-endian count
// of bytes the receiver's program has taken, which the sender may send
// again).
package share

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"pigeon/peer"
	"pigeon/pipe"
)

// helloShare is the type byte of the sharing side's hello on channel 0.
const helloShare byte = 0x01

// DefaultWindow is how many bytes of one connection may be under way, sent
// and not yet taken by the program on the other side. Over a path with
// round-trip time RTT a connection moves at most DefaultWindow/RTT: 1 GB/s
// at 1 ms, 20 MB/s at 50 ms. It also bounds the memory a connection whose
// client stopped reading holds on the receiving side.
const DefaultWindow = 1 << 20

// dialTimeout bounds how long the sharing side tries to reach its service.
const dialTimeout = 10 * time.Second

// Options configures [Serve] and [Forward]. The zero value is ready to use.
type Options struct {
	// Window is the flow-control window of each connection in bytes
	// (default [DefaultWindow], at least [peer.MaxMessage]). Both sides
	// must use the same value.
	Window int
	// OnReady, if set, is called by [Forward] once the sharing side named
	// the address it shares.
	OnReady func(addr string)
	// OnConn, if set, is called as each TCP connection ends, from that
	// connection's goroutine.
	OnConn func(Report)
}

func (o Options) window() int {
	if o.Window <= 0 {
		return DefaultWindow
	}
	return max(o.Window, peer.MaxMessage)
}

func (o Options) report(r Report) {
	if o.OnConn != nil {
		o.OnConn(r)
	}
}

// Report is the end of one TCP connection.
type Report struct {
	ID    int        // from 1, in the order this side took the connections
	Stats pipe.Stats // bytes sent to the other side and received from it
	Err   error      // nil when both directions ended normally
}

// DialError reports that the sharing side could not reach its service.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string { return fmt.Sprintf("connecting to %s: %v", e.Addr, e.Err) }
func (e *DialError) Unwrap() error { return e.Err }

// RefusedError is the joining side's view of a [DialError]: the sharing
// side could not reach its service for this connection.
type RefusedError struct {
	Reason string // the sharing side's DialError, as text
}

func (e *RefusedError) Error() string {
	return "the other computer could not reach the shared service: " + e.Reason
}

// errLeft ends a session whose other side left.
var errLeft = errors.New("the other side left")

// Serve shares the TCP service at addr over p, which made the offer: it
// accepts the channels the other side opens and connects each one to a new
// TCP connection to addr. A failed dial closes that channel only and is
// reported through [Options.OnConn] as a [*DialError].
//
// Serve returns nil when the other side leaves, the context's error when
// it is cancelled, or why the peer ended. It closes every connection it
// carried before it returns.
func Serve(ctx context.Context, p *peer.Peer, addr string, opts Options) error {
	main, err := p.Connect(ctx)
	if err != nil {
		return err
	}
	if err := main.WriteMessage(append([]byte{helloShare}, addr...)); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go watch(main, cancel)
	for id := 1; ; id++ {
		conn, err := p.AcceptChannel(ctx)
		if err != nil {
			return ended(ctx, p)
		}
		wg.Go(func() { opts.report(serveConn(ctx, conn, id, addr, opts.window())) })
	}
}

func serveConn(ctx context.Context, conn *peer.Conn, id int, addr string, window int) Report {
	ch := newChannel(conn, window, false)
	defer ch.Close()
	d := net.Dialer{Timeout: dialTimeout}
	tcp, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		derr := &DialError{Addr: addr, Err: err}
		_ = conn.WriteMessage(append([]byte{frameRefused}, derr.Error()...))
		return Report{ID: id, Err: derr}
	}
	defer tcp.Close()
	if err := conn.WriteMessage([]byte{frameReady}); err != nil {
		return Report{ID: id, Err: err}
	}
	stats, err := pipe.Run(ctx, ch, tcp, halfCloser{tcp})
	return Report{ID: id, Stats: stats, Err: err}
}

// Forward accepts TCP connections on ln and carries each one to the
// service the other side shares with [Serve]; p answered its offer. ln is
// closed when Forward returns.
//
// Forward returns nil when the other side leaves, the context's error when
// it is cancelled, or why the peer ended. It closes every connection it
// carried before it returns.
func Forward(ctx context.Context, p *peer.Peer, ln net.Listener, opts Options) error {
	defer ln.Close()
	main, err := p.Connect(ctx)
	if err != nil {
		return err
	}
	addr, err := readHello(main)
	if err != nil {
		return err
	}
	if opts.OnReady != nil {
		opts.OnReady(addr)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go watch(main, cancel)
	go func() {
		select {
		case <-ctx.Done():
		case <-p.Done():
		}
		_ = ln.Close()
	}()
	for id := 1; ; id++ {
		tcp, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || p.Err() != nil {
				return ended(ctx, p)
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accepting connections: %w", err)
		}
		wg.Go(func() { opts.report(forwardConn(ctx, p, tcp, id, opts.window())) })
	}
}

func forwardConn(ctx context.Context, p *peer.Peer, tcp net.Conn, id int, window int) Report {
	defer tcp.Close()
	conn, err := p.OpenChannel(ctx)
	if err != nil {
		return Report{ID: id, Err: err}
	}
	ch := newChannel(conn, window, true)
	defer ch.Close()
	stats, err := pipe.Run(ctx, ch, tcp, halfCloser{tcp})
	if re := ch.refused(); re != nil {
		err = re
	}
	return Report{ID: id, Stats: stats, Err: err}
}

// readHello reads the sharing side's hello on channel 0.
func readHello(main *peer.Conn) (string, error) {
	buf := make([]byte, peer.MaxMessage)
	n, err := main.ReadMessage(buf)
	if errors.Is(err, io.EOF) {
		return "", errors.New("the other side left before it said what it shares")
	}
	if err != nil {
		return "", err
	}
	if n == 0 || buf[0] != helloShare {
		return "", errors.New("the other side did not say what it shares: is it a newer pigeon?")
	}
	return string(buf[1:n]), nil
}

// watch reads channel 0 until it ends: its end (EOF) means the other side
// left.
func watch(main *peer.Conn, cancel context.CancelCauseFunc) {
	buf := make([]byte, peer.MaxMessage)
	for {
		if _, err := main.ReadMessage(buf); err != nil {
			if errors.Is(err, io.EOF) {
				err = errLeft
			}
			cancel(err)
			return
		}
	}
}

// ended is why a session ended: nil when the other side left.
func ended(ctx context.Context, p *peer.Peer) error {
	perr := p.Err()
	if perr != nil && !errors.Is(perr, peer.ErrPeerClosed) && !errors.Is(perr, peer.ErrClosed) {
		return perr // lost, say
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, errLeft) || errors.Is(perr, peer.ErrPeerClosed) {
		return nil
	}
	if cause != nil {
		return cause
	}
	return perr
}

// halfCloser writes to a TCP connection; its Close shuts down the writing
// half only, so the program at the other end reads EOF and may still send.
type halfCloser struct{ c net.Conn }

func (h halfCloser) Write(b []byte) (int, error) { return h.c.Write(b) }

func (h halfCloser) Close() error {
	if cw, ok := h.c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"pigeon/transfer"
	"strconv"
	"sync"

	"github.com/urfave/cli/v2"

	"pigeon/sdpcodec"
	"pigeon/share"
)

func shareCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "share",
		Usage:     "make an offer to share a local TCP service (e.g. localhost:8080)",
		ArgsUsage: "ADDR",
		Description: "ADDR is the HOST:PORT of the service (a bare PORT means localhost:PORT). The\n" +
			"other computer runs `pigeon join` with the offer, listens on a local port\n" +
			"(--listen, default 127.0.0.1 and a free port) and carries every connection\n" +
			"made to it here, where pigeon connects to ADDR: only to ADDR, whatever the\n" +
			"other side sends. Sharing lasts until either side stops (Ctrl-C). For example:\n\n" +
			"   pigeon share localhost:8080                (the computer with the service)\n" +
			"   pigeon join --listen 127.0.0.1:8080 OFFER  (the other one)",
		Flags: append(sessionFlags(), openFlag()),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("share takes one argument, the HOST:PORT of the service to share (e.g. localhost:8080)")
			}
			addr, err := shareAddr(c.Args().First())
			if err != nil {
				return err
			}
			ss := newSession(c, s)
			defer ss.close()
			if err := ss.offer(sdpcodec.AppShare); err != nil {
				return err
			}
			if err := ss.readAnswer(); err != nil {
				return err
			}
			return runShare(ss, addr)
		},
	}
}

// shareAddr checks the address to share; a bare port means localhost.
func shareAddr(arg string) (string, error) {
	if _, err := strconv.ParseUint(arg, 10, 16); err == nil {
		return net.JoinHostPort("localhost", arg), nil
	}
	host, port, err := net.SplitHostPort(arg)
	if err != nil || port == "" {
		return "", usageErrorf("%q is not an address to share: give HOST:PORT (e.g. localhost:8080) or a PORT", arg)
	}
	if host == "" {
		return net.JoinHostPort("localhost", port), nil
	}
	return arg, nil
}

// runShare connects and carries the other computer's connections to addr
// until it leaves.
func runShare(ss *session, addr string) error {
	if _, err := ss.connect(); err != nil {
		return err
	}
	w := &lockedWriter{w: ss.s.errOut}
	fmt.Fprintf(w, "pigeon: sharing %s with the other computer; Ctrl-C stops\n", addr)
	err := share.Serve(ss.c.Context, ss.p, addr, share.Options{OnConn: connReporter(w, ss.c.Bool("verbose"))})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "pigeon: the other computer left; sharing ended")
	return nil
}

// listenFlag is join's --listen.
func listenFlag() cli.Flag {
	return &cli.StringFlag{Name: "listen", Value: "127.0.0.1:0", Usage: "for an offer of pigeon share: take the connections to carry on `ADDR` (HOST:PORT; port 0 picks a free one)"}
}

// errListenNotShare: --listen was given for an offer that shares nothing.
var errListenNotShare = errors.New("--listen is for offers made by `pigeon share`")

// listenShare opens join's listener. An explicit --listen is opened before
// the offer is read, so that a busy port fails before anything is carried.
func listenShare(c *cli.Context) (net.Listener, error) {
	addr := c.String("listen")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &listenError{addr, err}
	}
	return ln, nil
}

// listenError: join cannot listen where --listen says.
type listenError struct {
	addr string
	err  error
}

func (e *listenError) Error() string {
	return fmt.Sprintf("cannot take connections on %s (--listen): %v", e.addr, e.err)
}
func (e *listenError) Unwrap() error { return e.err }

// runShareJoin connects and carries the connections made to ln to the
// other computer's shared service, until it leaves.
func runShareJoin(ss *session, ln net.Listener) error {
	defer ln.Close()
	if _, err := ss.connect(); err != nil {
		return err
	}
	w := &lockedWriter{w: ss.s.errOut}
	opts := share.Options{
		OnReady: func(addr string) {
			fmt.Fprintf(w, "pigeon: listening on %s: connections are carried to the other computer's %s\n", ln.Addr(), addr)
		},
		OnConn: connReporter(w, ss.c.Bool("verbose")),
	}
	if err := share.Forward(ss.c.Context, ss.p, ln, opts); err != nil {
		return err
	}
	fmt.Fprintln(w, "pigeon: the other computer left; sharing ended")
	return nil
}

// connReporter reports the end of each connection: failures to reach the
// service always, everything with verbose.
func connReporter(w io.Writer, verbose bool) func(share.Report) {
	return func(r share.Report) {
		var (
			de *share.DialError
			re *share.RefusedError
		)
		switch {
		case errors.As(r.Err, &de), errors.As(r.Err, &re):
			fmt.Fprintf(w, "pigeon: connection %d closed: %v\n", r.ID, r.Err)
		case !verbose:
		case r.Err != nil:
			fmt.Fprintf(w, "pigeon: connection %d ended: %v (sent %s, received %s)\n", r.ID, r.Err, transfer.FormatSize(r.Stats.Sent), transfer.FormatSize(r.Stats.Received))
		default:
			fmt.Fprintf(w, "pigeon: connection %d done: sent %s, received %s in %s\n", r.ID, transfer.FormatSize(r.Stats.Sent), transfer.FormatSize(r.Stats.Received), durationText(r.Stats.Elapsed))
		}
	}
}

// lockedWriter lets the goroutines of many connections report on one
// stream.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

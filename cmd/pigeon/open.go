package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/muesli/cancelreader"
	"github.com/urfave/cli/v2"

	"pigeon/peer"
	"pigeon/sdpcodec"
)

// started is when this process started: a joiner of an open offer
// reports how long after it the connection opened.
var started = time.Now()

// openReach is how long a joiner of an open offer tries to reach the
// offerer directly before it shows an answer to carry back as well.
const openReach = 3 * time.Second

// openFlag makes an offer open.
func openFlag() cli.Flag {
	return &cli.BoolFlag{Name: "open", Usage: "make an open offer: a pigeon that reaches this computer directly (the same LAN) joins it with nothing carried back; the first joiner takes it, and a pasted answer still works (see SPEC.md)"}
}

// checkOpen refuses --open where it cannot work.
func checkOpen(c *cli.Context) error {
	if c.Bool("open") && c.String("format") == "json" {
		return usageErrorf("--open makes a pigeon blob, which only pigeon joins: leave out --format json (a browser page or another program needs an offer without --open)")
	}
	return nil
}

// openIntro says what to do with an open offer.
func openIntro(app sdpcodec.App, o *sdpcodec.Open) string {
	return fmt.Sprintf("Open offer for %s, good until %s; on the other computer run `pigeon join` with it: on the same network it connects with nothing carried back",
		app, o.Expires.Local().Format("15:04"))
}

// reportRefusal tells the offerer that someone else tried its open offer.
func reportRefusal(ss *session) func(peer.JoinRefusal) {
	return func(r peer.JoinRefusal) {
		why := "it was already taken"
		if r.Expired {
			why = "it has expired"
		}
		fmt.Fprintf(ss.s.errOut, "pigeon: someone else with this offer tried to join from %s and was turned away: %s\n", r.From, why)
	}
}

// readAnswerOrJoiner waits for whichever comes first for an open offer: a
// joiner that connects in band, or an answer carried by hand, read as
// readAnswer reads it. Once a joiner is in, the prompt stops reading.
func (ss *session) readAnswerOrJoiner() error {
	ctx, cancel := context.WithCancel(ss.c.Context)
	defer cancel()
	in, stop := ss.cancelableInput()
	read := make(chan error, 1)
	go func() { read <- ss.readAnswerFrom(ctx, in) }()
	for {
		select {
		case err := <-read:
			switch {
			case err == nil:
				fmt.Fprintln(ss.s.errOut, "pigeon: connecting ...")
				return nil
			case errors.Is(err, errNoInput):
				// No answer will come this way; a joiner still may.
				read = nil
				fmt.Fprintf(ss.s.errOut, "pigeon: no answer on standard input; still waiting for a joiner until %s\n", ss.p.Local().Open.Expires.Local().Format("15:04"))
				continue
			}
			return err
		case <-ss.p.Opened():
			cancel()
			stop()
			if ss.asksAtTerminal() {
				fmt.Fprintln(ss.s.errOut) // after the question
			}
			fmt.Fprintln(ss.s.errOut, "pigeon: the other computer joined through the open offer: no answer to carry")
			return nil
		case <-ss.p.Done():
			stop()
			return ss.p.Err()
		}
	}
}

// cancelableInput is the reader the answer prompt of an open offer reads
// standard input through, and what stops it: a read left waiting on the
// terminal would take the first line typed once the session runs. It is
// standard input itself when a read there cannot be stopped, or the
// prompt does not read it (--in FILE, or the terminal: ask).
func (ss *session) cancelableInput() (*bufio.Reader, func()) {
	if path := ss.c.String("in"); path != "" && path != "-" {
		return ss.in, func() {} // the answer comes from a file: standard input is the app's
	}
	f, ok := fileOf(ss.s.in)
	if !ok || ss.ask != nil || ss.in.Buffered() > 0 {
		return ss.in, func() {}
	}
	cr, err := cancelreader.NewReader(f)
	if err != nil {
		return ss.in, func() {}
	}
	return bufio.NewReaderSize(cr, 64<<10), func() { cr.Cancel() }
}

// reachOpen waits up to openReach for the joiner of an open offer to
// connect directly. It reports whether it did; if not, the answer is shown
// as for any offer, and the direct attempt goes on.
func (ss *session) reachOpen() (bool, error) {
	fmt.Fprintln(ss.s.errOut, "pigeon: joining the open offer directly ...")
	t := time.NewTimer(openReach)
	defer t.Stop()
	select {
	case <-ss.p.Opened():
		return true, nil
	case <-ss.p.Done():
		return false, ss.p.Err()
	case <-ss.c.Context.Done():
		return false, ss.c.Context.Err()
	case <-t.C:
		fmt.Fprintf(ss.s.errOut, "pigeon: the offering computer is not reachable directly from here (after %s: another network, or a NAT between); carry the answer back instead, while this one keeps trying\n", openReach)
		return false, nil
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"pigeon/chat"
	"pigeon/peer"
	"pigeon/room"
	"pigeon/sdpcodec"
)

// nameFlag is a member's name in a room.
func nameFlag() cli.Flag {
	return &cli.StringFlag{Name: "name", Usage: "your `NAME` in a room, shown beside your lines (default: this computer's host name)"}
}

// roomName is the --name given, or the host name; a bad one is refused.
func roomName(c *cli.Context) (string, error) {
	name := strings.TrimSpace(c.String("name"))
	if name == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "someone"
		}
		name = host
	}
	if utf8.RuneCountInString(name) > room.MaxNameLen || room.CleanName(name) != name {
		return "", usageErrorf("--name %q: a name in a room is up to %d characters, with no control characters", name, room.MaxNameLen)
	}
	return name, nil
}

func roomCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "room",
		Usage: "host a chat room for up to 7 guests",
		Description: "Hosts a chat room. With --open, one offer admits every guest that reaches\n" +
			"this computer directly (the same LAN): each runs `pigeon join` with it and\n" +
			"nothing is carried back. Without it, pigeon shows an offer for the next\n" +
			"guest; paste that guest's answer here, among your lines, and the next offer\n" +
			"follows. The guests connect to each other directly, their offers and answers\n" +
			"carried through this computer; two that cannot reach each other talk through\n" +
			"it. Each line typed goes to every member; /send PATH offers files or a folder\n" +
			"to them all, each of whom saves it (/get N, into --dir) or declines it\n" +
			"(/no N). Ctrl-D or /quit ends the room for everyone. A room holds 8 members\n" +
			"(see doc/rooms.md).\n\n" +
			"   pigeon room --open --name ann        (the host)\n" +
			"   pigeon join --name bob OFFER         (each guest)",
		Flags: append(append(sessionFlags(), receiveFlags()...), openFlag(), nameFlag()),
		Action: func(c *cli.Context) error {
			if err := checkReceiveFlags(c); err != nil {
				return err
			}
			if c.Args().Present() {
				return usageErrorf("room takes no arguments (got %q)", c.Args().First())
			}
			if c.IsSet("in") {
				return usageErrorf("a room reads each guest's answer among the lines typed: leave out --in")
			}
			if c.IsSet("out") && !c.Bool("open") {
				return usageErrorf("a room shows a fresh offer for each guest: --out needs --open, whose one offer serves them all")
			}
			if c.Bool("verify") {
				return usageErrorf("the host shows each guest's verification code as it joins, and asks nothing: leave out --verify (a guest's `pigeon join --verify` asks before entering)")
			}
			if c.String("format") == "json" {
				return usageErrorf("a room's guests join with pigeon: leave out --format json (the browser page cannot join a room)")
			}
			if err := checkOpen(c); err != nil {
				return err
			}
			name, err := roomName(c)
			if err != nil {
				return err
			}
			ss := newSession(c, s)
			defer ss.close()
			return runRoomHost(ss, name)
		},
	}
}

// roomOutput is where a room's lines and messages go: at a terminal, the
// console, above the line being typed.
func roomOutput(ss *session) (out, errOut io.Writer) {
	if ss.console != nil {
		return ss.console, ss.s.errOut
	}
	return ss.s.out, ss.s.errOut
}

// wholeLines joins the fragments of each line read.
func wholeLines(frags <-chan chat.Fragment) <-chan string {
	out := make(chan string, cap(frags))
	go func() {
		defer close(out)
		var sb strings.Builder
		for f := range frags {
			sb.WriteString(f.Text)
			if !f.More {
				out <- sb.String()
				sb.Reset()
			}
		}
	}()
	return out
}

// runRoomHost hosts the room until the person leaves it.
func runRoomHost(ss *session, name string) error {
	opts, err := sessionOptions(ss.c, ss.s)
	if err != nil {
		return err
	}
	con, err := newRoomConsole(ss)
	if err != nil {
		return err
	}
	defer con.close()
	_, errOut := roomOutput(ss)
	rh := &roomHosting{ss: ss, ctx: ss.c.Context, opts: opts, errOut: errOut, h: room.NewHost(name, con.event)}
	con.start(rh.h)
	if ss.c.Bool("open") {
		closeOffer, err := rh.openOffer()
		if err != nil {
			return err
		}
		defer closeOffer()
	} else {
		rh.h.OnLeave = rh.madeRoom
		rh.accept = rh.acceptPending
		if err := rh.nextOffer(1); err != nil {
			return err
		}
	}
	if ss.interactive {
		fmt.Fprintln(errOut, "pigeon: type a line and press Enter to send it to the room; "+roomHelp+" (and ends the room for everyone), as does Ctrl-D")
	}
	for line := range con.lines {
		if line == chat.Quit {
			break
		}
		if strings.HasPrefix(sdpcodec.Clean(line), sdpcodec.Prefix) {
			rh.pasted(line) // a blob is never said to the room
			continue
		}
		con.line(line)
	}
	rh.h.Close("the host left the room")
	fmt.Fprintln(errOut, "pigeon: the room is closed")
	return nil
}

// roomHosting is `pigeon room`'s side of a room: the host, its offers,
// and the answers pasted among the lines.
type roomHosting struct {
	ss     *session
	ctx    context.Context
	opts   peer.Options
	errOut io.Writer
	h      *room.Host
	// accept applies an answer pasted among the lines: to the open offer
	// (a guest that could not reach it), or to the offer shown last.
	accept func(*sdpcodec.Blob) error

	mu      sync.Mutex
	pending *peer.Peer // the offer shown last, one guest at a time
	waiting int        // while the room is full, the next guest's number
}

// openOffer shows the open room offer, and admits its joiners until the
// returned function closes it.
func (rh *roomHosting) openOffer() (func(), error) {
	rh.opts.OnJoinRefused = func(r peer.JoinRefusal) {
		why := "the room is full"
		if r.Expired {
			why = "the offer has expired"
		}
		fmt.Fprintf(rh.errOut, "pigeon: someone with the room's offer was turned away (%s): %s\n", r.From, why)
	}
	offer, err := peer.OfferRoom(rh.ctx, rh.opts, room.MaxMembers-1)
	if err != nil {
		return nil, err
	}
	rh.h.OnLeave = func() { offer.Admit(1) }
	rh.accept = offer.Accept
	text, err := offer.Local().Encode()
	if err == nil {
		intro := fmt.Sprintf("Open room offer, good until %s; on each guest's computer run `pigeon join` with it: on the same network it connects with nothing carried back",
			offer.Local().Open.Expires.Local().Format("15:04"))
		err = showText(rh.ss.s, rh.ss.c, text, intro)
	}
	if err != nil {
		offer.Close()
		return nil, err
	}
	go func() {
		for p := range offer.Guests() {
			go rh.admit(p)
		}
	}()
	return offer.Close, nil
}

// nextOffer shows the offer for guest n, and the next one once that
// guest is in (or a new one for it, if it did not connect); while the
// room is full it waits for a member to leave.
func (rh *roomHosting) nextOffer(n int) error {
	if len(rh.h.Members()) >= room.MaxMembers {
		rh.mu.Lock()
		rh.waiting = n
		rh.mu.Unlock()
		fmt.Fprintf(rh.errOut, "pigeon: the room is full (%d members): the offer for the next guest shows when one leaves\n", room.MaxMembers)
		return nil
	}
	p, err := peer.Offer(rh.ctx, rh.opts, sdpcodec.AppRoom)
	if err != nil {
		return err
	}
	text, err := p.Local().Encode()
	if err != nil {
		return err
	}
	rh.mu.Lock()
	rh.pending = p
	rh.mu.Unlock()
	if err := showText(rh.ss.s, rh.ss.c, text, fmt.Sprintf("Offer for guest %d; on that guest's computer run `pigeon join` with it, then paste its answer here", n)); err != nil {
		return err
	}
	go func() {
		select {
		case <-p.Opened():
			rh.admit(p)
			n++
		case <-p.Done():
			if rh.ctx.Err() != nil {
				return
			}
			msg, _ := explain(p.Err())
			fmt.Fprintf(rh.errOut, "pigeon: guest %d did not connect: %s; here is a new offer for that guest\n", n, msg)
		}
		rh.showNext(n)
	}()
	return nil
}

// acceptPending applies an answer to the offer shown last.
func (rh *roomHosting) acceptPending(b *sdpcodec.Blob) error {
	rh.mu.Lock()
	p := rh.pending
	rh.mu.Unlock()
	return p.Accept(b)
}

// madeRoom shows the offer held while the room was full, if one is.
func (rh *roomHosting) madeRoom() {
	rh.mu.Lock()
	n := rh.waiting
	rh.waiting = 0
	rh.mu.Unlock()
	if n > 0 {
		rh.showNext(n)
	}
}

func (rh *roomHosting) showNext(n int) {
	if err := rh.nextOffer(n); err != nil && rh.ctx.Err() == nil {
		fmt.Fprintf(rh.errOut, "pigeon: error: making the next offer: %v\n", err)
	}
}

// admit shows a guest's code once it connects (a guest with --verify
// compares it before it says its name), then takes it in.
func (rh *roomHosting) admit(p *peer.Peer) {
	_, err := p.Connect(rh.ctx)
	if err == nil {
		path := ""
		if pa, err := p.Path(); err == nil {
			path = ", " + pa.String()
		}
		fmt.Fprintf(rh.errOut, "pigeon: a guest connected: verification code %s%s\n", p.VerificationCode(), path)
		_, err = rh.h.Admit(rh.ctx, p)
	}
	switch {
	case err == nil:
	case errors.Is(err, peer.ErrRoomFull):
		fmt.Fprintf(rh.errOut, "pigeon: a guest was turned away: the room holds %d members\n", room.MaxMembers)
	case rh.ctx.Err() == nil:
		fmt.Fprintf(rh.errOut, "pigeon: a guest did not join: %v\n", err)
	}
}

// pasted handles a blob pasted among the lines: a guest's answer.
func (rh *roomHosting) pasted(line string) {
	b, err := sdpcodec.Parse(line)
	switch {
	case err != nil:
		msg, _ := explain(err)
		fmt.Fprintf(rh.errOut, "pigeon: that looks like a blob, not sent, and not applied: %s; paste the whole answer on one line\n", msg)
	case b.Kind != sdpcodec.Answer:
		fmt.Fprintf(rh.errOut, "pigeon: that is %s, not sent: paste a guest's answer here\n", article(b.Kind))
	default:
		if err := rh.accept(b); err != nil {
			msg, _ := explain(err)
			if errors.Is(err, peer.ErrOtherOffer) {
				msg = "this answer is to another offer (an earlier guest's, or another room's)"
			}
			fmt.Fprintf(rh.errOut, "pigeon: that answer was not applied: %s\n", msg)
			return
		}
		fmt.Fprintln(rh.errOut, "pigeon: connecting the guest ...")
	}
}

// article names a kind of blob with its article.
func article(k sdpcodec.Kind) string {
	if k == sdpcodec.Offer || k == sdpcodec.Answer {
		return "an " + k.String()
	}
	return "a " + k.String()
}

// runRoomGuest runs a room we joined, until we leave or it ends.
func runRoomGuest(ss *session) error {
	name, err := roomName(ss.c)
	if err != nil {
		return err
	}
	if _, err := ss.connect(); err != nil {
		return err
	}
	opts, err := sessionOptions(ss.c, ss.s)
	if err != nil {
		return err
	}
	con, err := newRoomConsole(ss)
	if err != nil {
		return err
	}
	defer con.close()
	ended := make(chan room.Event, 1)
	g, err := room.Join(ss.c.Context, ss.p, name, opts, func(e room.Event) {
		if e.Kind == room.Ended {
			ended <- e
			return
		}
		con.event(e)
	})
	if err != nil {
		return err
	}
	con.start(g)
	_, errOut := roomOutput(ss)
	var names []string
	for _, m := range g.Members() {
		names = append(names, shown(m.Name))
	}
	fmt.Fprintf(errOut, "pigeon: you are in %s's room as %s, with %s\n", shown(g.RoomName()), shown(g.Me().Name), strings.Join(names, ", "))
	if ss.interactive {
		fmt.Fprintln(errOut, "pigeon: type a line and press Enter to send it to the room; "+roomHelp+", as does Ctrl-D")
	}
	for {
		select {
		case line, ok := <-con.lines:
			if !ok || line == chat.Quit {
				g.Leave()
				fmt.Fprintln(errOut, "pigeon: you left the room")
				return nil
			}
			con.line(line)
		case e := <-ended:
			if e.Err != nil {
				return e.Err
			}
			fmt.Fprintf(errOut, "pigeon: the room is over: %s\n", e.Text)
			return nil
		case <-ss.c.Context.Done():
			g.Leave()
			return ss.c.Context.Err()
		}
	}
}

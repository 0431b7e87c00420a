package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"pigeon/chat"
	"pigeon/peer"
	"pigeon/sdpcodec"
)

// session is one side of a connection as the CLI drives it.
type session struct {
	s           *streams
	c           *cli.Context
	in          *bufio.Reader // standard input, shared by the prompt and the app
	interactive bool
	// ask, when set, is where the answer prompt reads instead of in (the
	// terminal, when standard input carries data), with askInteractive.
	ask            *bufio.Reader
	askInteractive bool
	p              *peer.Peer
	// foreign is the other side's description when it is another
	// program's (a browser page): the chat is plain text then.
	foreign *sdpcodec.Foreign
	// console is the terminal a chat is typed at, once it reads lines.
	console *console
	// joinedOpen: we joined an open offer directly, no answer shown.
	joinedOpen bool
	// offerRead, if set, is told the offer's app once join has read the
	// offer, before it answers it: standard input is the app's from then.
	offerRead func(sdpcodec.App)
}

func newSession(c *cli.Context, s *streams) *session {
	return &session{s: s, c: c, in: bufio.NewReaderSize(s.in, 64<<10), interactive: isTerminal(s.in) && isTerminal(s.errOut)}
}

func (ss *session) options() (peer.Options, error) {
	opts, err := sessionOptions(ss.c, ss.s)
	if err != nil {
		return opts, err
	}
	chat := ss.c.Command.Name == "chat"
	if !ss.c.IsSet("reconnect-wait") && chat && ss.interactive {
		opts.ReconnectWait = defaultChatReconnectWait
	}
	var (
		mu           sync.Mutex // pion may report two changes at once
		reconnecting bool
	)
	verbose := ss.c.Bool("verbose")
	opts.OnState = func(st peer.State) {
		mu.Lock()
		defer mu.Unlock()
		if verbose {
			fmt.Fprintf(ss.s.errOut, "pigeon: state: %s\n", st)
		}
		switch st {
		case peer.StateDisconnected:
			reconnecting = true
			fmt.Fprintln(ss.s.errOut, "pigeon: the connection is interrupted; waiting for it to come back ...")
		case peer.StateRestarting:
			reconnecting = true
			fmt.Fprintln(ss.s.errOut, "pigeon: restarting the connection (ICE restart) ...")
		case peer.StateWaiting:
			where := ""
			if chat {
				where = "; if the other computer's network changed, paste the reconnect blob it shows here"
			}
			fmt.Fprintf(ss.s.errOut, "pigeon: %s; still waiting up to %s for it to come back%s\n", peer.ErrPeerLost, opts.ReconnectWait, where)
		case peer.StateConnected:
			if reconnecting {
				reconnecting = false
				if path, err := ss.p.Path(); err == nil {
					fmt.Fprintf(ss.s.errOut, "pigeon: the connection is back: %s\n", path)
				} else {
					fmt.Fprintln(ss.s.errOut, "pigeon: the connection is back")
				}
			}
		}
	}
	opts.OnNetworkChange = func(nc peer.NetworkChange) {
		if nc.Reconnected {
			if nc.Told {
				fmt.Fprintln(ss.s.errOut, "pigeon: this computer's network changed; the other computer was told over the connection")
			}
			return // the state change said the connection is back, with the new path
		}
		if len(nc.Blob.Candidates) == 0 {
			fmt.Fprintln(ss.s.errOut, "pigeon: this computer has no network address now; the connection resumes when it gets one")
			return
		}
		text, err := nc.Blob.Encode()
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(ss.s.errOut, "pigeon: this computer's network changed and the other computer has not reached it yet.\n"+
			"Carry this reconnect blob to the other computer and paste it there (into its chat; it waits while its --reconnect-wait lasts) (%d characters):\n\n%s\n\n", len(text), text)
		if ss.c.Bool("qr") {
			_ = drawQR(ss.s.errOut, text)
		}
	}
	return opts, nil
}

// defaultChatReconnectWait is how long a chat at a terminal waits for a
// lost connection to come back: a person may carry a reconnect blob.
const defaultChatReconnectWait = 10 * time.Minute

// offer makes our offer for app and shows it.
func (ss *session) offer(app sdpcodec.App) error {
	opts, err := ss.options()
	if err != nil {
		return err
	}
	format := ss.outputFormat(nil)
	if format != sdpcodec.FormatPigeon {
		// For a browser page or another program, whose ondatachannel
		// waits for a channel; a pigeon that reads it closes it.
		opts.Announce = app.String()
		if app != sdpcodec.AppChat {
			fmt.Fprintf(ss.s.errOut, "pigeon: note: `pigeon %s` needs pigeon at the other end; a browser page or another WebRTC program can only chat (`pigeon chat --format json`)\n", app)
		}
	}
	if err := checkOpen(ss.c); err != nil {
		return err
	}
	makeOffer := peer.Offer
	if ss.c.Bool("open") {
		makeOffer = peer.OfferOpen
		opts.OnJoinRefused = reportRefusal(ss)
	}
	p, err := makeOffer(ss.c.Context, opts, app)
	if err != nil {
		return err
	}
	ss.p = p
	warnGather(ss.s, p)
	text, err := localText(p, format)
	if err != nil {
		return err
	}
	intro := fmt.Sprintf("Offer for %s; on the other computer run `pigeon join` with it", app)
	if o := p.Local().Open; o != nil {
		intro = openIntro(app, o)
	}
	return showText(ss.s, ss.c, text, intro)
}

// readAnswer reads the answer from --in or the prompt and applies it; for
// an open offer, a joiner may connect in band instead.
func (ss *session) readAnswer() error {
	if ss.p.Local().Open != nil {
		return ss.readAnswerOrJoiner()
	}
	if err := ss.readAnswerFrom(ss.c.Context, ss.in); err != nil {
		return err
	}
	fmt.Fprintln(ss.s.errOut, "pigeon: connecting ...")
	return nil
}

// asksAtTerminal reports whether the answer prompt asks at a terminal.
func (ss *session) asksAtTerminal() bool {
	if path := ss.c.String("in"); path != "" {
		return false
	}
	if ss.ask != nil {
		return ss.askInteractive
	}
	return ss.interactive
}

// readAnswerFrom reads the answer from --in or the prompt, which reads in
// (standard input) or the terminal (ask), until ctx ends.
func (ss *session) readAnswerFrom(ctx context.Context, in *bufio.Reader) error {
	if path := ss.c.String("in"); path != "" && path != "-" {
		d, err := readDescFile(ctx, path, ss.s.errOut)
		if err == nil {
			err = ss.accept(d)
		}
		if err != nil {
			return err
		}
	} else {
		if ss.ask != nil {
			in = ss.ask
		}
		_, err := prompt(ctx, in, ss.s.errOut, ss.asksAtTerminal(), ss.c.String("in") == "-",
			"Paste the answer from the other computer, then press Enter:", ss.accept)
		if err != nil {
			return err
		}
	}
	return nil
}

// join reads the offer (argument, --in or prompt), makes our answer and
// shows it. check judges the offer's app, which join returns.
func (ss *session) join(check func(sdpcodec.App) error) (sdpcodec.App, error) {
	var (
		offer desc
		err   error
	)
	checkOffer := func(d desc) error {
		switch d.kind() {
		case sdpcodec.Offer:
		case sdpcodec.Reconnect:
			return peer.ErrReconnectBlob
		default:
			return peer.ErrNotOffer
		}
		if d.blob == nil {
			if ss.c.IsSet("listen") {
				return fmt.Errorf("%w: the offer comes from %s, and --listen needs an offer from `pigeon share`", errNeedsPigeon, d.foreign.Describe().Name)
			}
			if ss.c.String("format") == "pigeon" {
				return usageErrorf("the offer comes from %s, which cannot read a pigeon blob: leave out --format pigeon, and the answer is written in the offer's format", d.foreign.Describe().Name)
			}
			return check(sdpcodec.AppChat) // another program's offer names no app
		}
		return check(d.blob.App)
	}
	switch path := ss.c.String("in"); {
	case ss.c.Args().Present():
		if path != "" {
			return 0, usageErrorf("give the offer either as an argument or with --in, not both")
		}
		offer, err = argumentDesc(ss.c)
		if err == nil {
			err = checkOffer(offer)
		}
	case path != "" && path != "-":
		offer, err = readDescFile(ss.c.Context, path, ss.s.errOut)
		if err == nil {
			err = checkOffer(offer)
		}
	default:
		offer, err = prompt(ss.c.Context, ss.in, ss.s.errOut, ss.interactive && path == "", path == "-",
			"Paste the offer from the other computer, then press Enter:", checkOffer)
	}
	if err != nil {
		return 0, err
	}
	if ss.offerRead != nil {
		app := sdpcodec.AppChat // another program's offer names no app
		if offer.blob != nil {
			app = offer.blob.App
		}
		ss.offerRead(app)
	}
	opts, err := ss.options()
	if err != nil {
		return 0, err
	}
	if offer.foreign != nil {
		ss.foreign = offer.foreign
		ss.p, err = peer.AnswerForeign(ss.c.Context, opts, offer.foreign)
	} else {
		ss.p, err = peer.Answer(ss.c.Context, opts, offer.blob)
	}
	if err != nil {
		return 0, err
	}
	warnGather(ss.s, ss.p)
	if offer.blob != nil && offer.blob.Open != nil {
		joined, err := ss.reachOpen()
		if err != nil {
			return 0, err
		}
		if joined {
			ss.joinedOpen = true
			return offer.blob.App, nil
		}
	}
	text, err := localText(ss.p, ss.outputFormat(&offer))
	if err != nil {
		return 0, err
	}
	if err := showText(ss.s, ss.c, text, "Answer; carry it back to the computer that made the offer"); err != nil {
		return 0, err
	}
	fmt.Fprintf(ss.s.errOut, "pigeon: waiting for the other computer to connect (up to %s) ...\n", peer.DefaultAnswerWait)
	if offer.blob == nil {
		return sdpcodec.AppChat, nil
	}
	return offer.blob.App, nil
}

// connect waits for the channel to open and reports the path.
func (ss *session) connect() (*peer.Conn, error) {
	conn, err := ss.p.Connect(ss.c.Context)
	if err != nil {
		return nil, err
	}
	if path, err := ss.p.Path(); err == nil {
		named := ""
		if path.Remote.Name != "" {
			named = fmt.Sprintf("; the other side's address was behind the mDNS name %s, resolved on the LAN", path.Remote.Name)
		}
		how := connectedText(path, ss.p.Local().Kind == sdpcodec.Answer)
		switch {
		case ss.joinedOpen:
			how = fmt.Sprintf("open %s after `pigeon join` started, with no answer carried back", durationText(path.Opened.Sub(started)))
		case ss.p.Joined():
			how = fmt.Sprintf("open in %s; the joiner came %s after the offer was made, with no answer carried back", durationText(path.Setup), durationText(path.Waited))
		}
		fmt.Fprintf(ss.s.errOut, "pigeon: connected: %s, %s%s\n", path, how, named)
	}
	if ss.foreign != nil {
		fmt.Fprintf(ss.s.errOut, "pigeon: the other side is %s, not pigeon: %s\n", ss.foreign.Describe().Name, channelText(conn))
	}
	if ss.p.Page() {
		fmt.Fprintln(ss.s.errOut, "pigeon: the other side is pigeon's page in a browser: if a network changes, the session ends (a page cannot restart it)")
	}
	code := ss.p.VerificationCode()
	if !ss.c.Bool("verify") {
		fmt.Fprintf(ss.s.errOut, "pigeon: verification code %s (the other computer shows the same one unless a blob was swapped on the way)\n", code)
		return conn, nil
	}
	fmt.Fprintf(ss.s.errOut, "pigeon: verification code %s\nDoes the other computer show %s too? [y/N] ", code, code)
	// The other side may refuse its code, or leave, while this one asks.
	reply := make(chan lineResult, 1)
	go func() { l, err := readLine(ss.in); reply <- lineResult{l, err} }()
	var r lineResult
	select {
	case r = <-reply:
	case <-ss.p.Done():
		fmt.Fprintln(ss.s.errOut)
		return nil, ss.p.Err()
	case <-ss.c.Context.Done():
		fmt.Fprintln(ss.s.errOut)
		return nil, ss.c.Context.Err()
	}
	line, err := r.line, r.err
	if !ss.interactive {
		fmt.Fprintln(ss.s.errOut) // no terminal echoed the reply's newline
	}
	if err != nil && len(line) == 0 {
		return nil, fmt.Errorf("%w: no reply to the question", errNotVerified)
	}
	switch strings.ToLower(strings.TrimSpace(string(line))) {
	case "y", "yes":
		fmt.Fprintln(ss.s.errOut, "pigeon: verified")
		return conn, nil
	}
	ss.p.RefuseCode()
	return nil, errNotVerified
}

// stripe connects and sets up the stream of a transfer or pipe over up to
// lanes further connections, or channel 0 when there are none (the offerer
// decides: the joiner's lanes is ignored). When both ends run on this
// machine they share its cores: each side's scheduler takes half
// (doc/lanes.md).
func (ss *session) stripe(lanes int) (*peer.Striped, error) {
	if _, err := ss.connect(); err != nil {
		return nil, err
	}
	if path, err := ss.p.Path(); err == nil && path.SameMachine {
		shareCores()
	}
	st, err := ss.p.Stripe(ss.c.Context, lanes)
	if err != nil {
		return nil, err
	}
	if st.LaneErr != nil {
		fmt.Fprintf(ss.s.errOut, "pigeon: a further connection for the data did not open: %v\n", st.LaneErr)
	}
	if st.Lanes() > 1 {
		fmt.Fprintf(ss.s.errOut, "pigeon: carrying the data over %d connections at once\n", st.Lanes())
	}
	return st, nil
}

// lanesFlag sets how many connections a transfer or pipe uses at once.
func lanesFlag() cli.Flag {
	return &cli.IntFlag{Name: "lanes", Value: defaultLanes, Usage: fmt.Sprintf("carry the data over up to `N` connections of its own at once (1 to %d) when the two computers reach each other directly, on a LAN or on one machine: each sends packets as large as the path carries, on cores of its own", peer.MaxLanes)}
}

// checkLanes refuses a --lanes out of range.
func checkLanes(c *cli.Context) error {
	if n := c.Int("lanes"); n < 1 || n > peer.MaxLanes {
		return usageErrorf("--lanes %d: give a number from 1 (one connection) to %d", n, peer.MaxLanes)
	}
	return nil
}

// defaultLanes is --lanes' default.
const defaultLanes = 2

// errNotVerified means the person did not confirm the verification code.
var errNotVerified = errors.New("the verification code was not confirmed: a blob may have been swapped on the way")

func (ss *session) close() {
	if ss.console != nil {
		ss.s.errOut.set(nil)
		_ = ss.console.Close()
	}
	if ss.p != nil {
		_ = ss.p.Close()
	}
}

// readLines reads a chat's lines from standard input. At a terminal (both
// standard input and output) a console reads them, which keeps the line
// being typed apart from the lines that arrive; elsewhere they are plain
// lines.
func (ss *session) readLines() <-chan chat.Fragment {
	in, inFile := fileOf(ss.s.in)
	out, outFile := fileOf(ss.s.out)
	if inFile && outFile && isTerminal(in) && isTerminal(out) {
		if c, err := openConsole(ss.in, in, out, ss.s.interrupt); err == nil {
			ss.console = c
			if isTerminal(ss.s.errOut) {
				ss.s.errOut.set(c)
			}
			return c.Lines()
		}
	}
	return chat.ReadLines(ss.in)
}

// argumentDesc reads the description given as arguments, joined: a paste
// may be split at spaces. One argument naming an image file (a screenshot
// or photo of a QR code) is decoded. (Flags after the blob are flags:
// [flagsFirst] moved them.)
func argumentDesc(c *cli.Context) (desc, error) {
	args := c.Args().Slice()
	if len(args) == 1 && isImageFile(args[0]) {
		data, err := readInput(args[0])
		if err != nil {
			return desc{}, err
		}
		d, err := parseInput(data)
		if err != nil {
			return desc{}, &blobFileError{args[0], err}
		}
		return d, nil
	}
	return parseDesc(strings.Join(args, ""))
}

// channelText says what the app's channel with another program is.
func channelText(conn *peer.Conn) string {
	if !conn.Plain() {
		return "it speaks pigeon's chat over channel 0"
	}
	return fmt.Sprintf("the chat runs over its data channel %q, one text message a line", conn.Label())
}

// errNeedsPigeon: an app other than chat met another program.
var errNeedsPigeon = errors.New("the other side is not pigeon")

// errUnsupportedApp is an offer for an app this pigeon cannot run.
var errUnsupportedApp = errors.New("this pigeon cannot join that kind of session")

// connectedText says how long the connection took to open, from when its
// attempt began on this side, and apart from that how long the answer took
// to arrive: the time the person took to carry it.
func connectedText(path peer.Path, answerer bool) string {
	switch {
	case !answerer:
		return fmt.Sprintf("open in %s; the answer took %s to arrive", durationText(path.Setup), durationText(path.Waited))
	case path.Waited > 0:
		return fmt.Sprintf("open in %s; the answer took %s to reach the other computer", durationText(path.Setup), durationText(path.Waited))
	}
	// No check from the offerer was seen (e.g. it came through a relay).
	return fmt.Sprintf("open %s after the answer was made", durationText(path.Setup))
}

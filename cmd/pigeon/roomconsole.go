package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"pigeon/room"
	"pigeon/transfer"
)

// roomMember is what a room's host and its guests both do.
type roomMember interface {
	Say(text string)
	Offer(entries []transfer.Entry, name string) room.File
	Get(from, id int, opts transfer.ReceiveOptions) error
	Decline(from, id int) error
}

// roomConsole is a room at the person's end: what they type (lines, and
// the commands /send, /get and /no), and what they are told.
type roomConsole struct {
	ss    *session
	lines <-chan string // what the person types, line by line
	dir   string
	recv  transfer.ReceiveOptions // Root is the --dir folder
	auto  bool                    // --yes: get every file offered
	ready chan struct{}           // closed once member is set

	mu     sync.Mutex
	member roomMember
	offers []*heardOffer // numbered from 1 as they came
}

// heardOffer is a file offered to us, and what became of it.
type heardOffer struct {
	from    room.Member
	file    room.File
	decided bool // got or declined
}

// roomHelp names the commands of a room.
const roomHelp = "/send PATH offers files or a folder to the room, /get N saves file offer N, /no N declines it, /quit leaves"

// newRoomConsole opens the --dir folder files are saved in, and reads
// what the person types.
func newRoomConsole(ss *session) (*roomConsole, error) {
	dir := ss.c.String("dir")
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the folder %s: %w", dir, err)
	}
	c := &roomConsole{ss: ss, dir: dir, auto: ss.c.Bool("yes"), ready: make(chan struct{})}
	c.recv = transfer.ReceiveOptions{Root: root, Overwrite: ss.c.Bool("overwrite")}
	c.lines = wholeLines(ss.readLines())
	if ss.c.IsSet("max-size") {
		c.recv.MaxSize, _ = parseSize("max-size", ss.c.String("max-size")) // checked before
	}
	return c, nil
}

// start gives the console the member it types for.
func (c *roomConsole) start(m roomMember) {
	c.mu.Lock()
	c.member = m
	c.mu.Unlock()
	close(c.ready)
}

func (c *roomConsole) close() { _ = c.recv.Root.Close() }

// line handles a line typed (not /quit).
func (c *roomConsole) line(text string) {
	<-c.ready
	_, errOut := roomOutput(c.ss)
	cmd, rest, _ := strings.Cut(text, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case cmd == "/send":
		c.send(rest)
	case cmd == "/get" || cmd == "/no":
		c.decide(cmd == "/get", rest)
	case strings.HasPrefix(text, "//"):
		c.member.Say(text[1:])
	case len(text) > 1 && text[0] == '/' && isWord(cmd[1:]):
		fmt.Fprintf(errOut, "pigeon: %s is no command here, not sent: %s; a line that starts with // is sent with one / less\n", shown(cmd), roomHelp)
	default:
		c.member.Say(text)
	}
}

// isWord reports whether s is letters only, as a command's name is: a
// line such as "/sned photos" is a mistyped command, not text, and text
// that starts like one is typed with //.
func isWord(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return s != ""
}

// send offers the files at arg (one path, or several separated by
// blanks when no path of that whole name exists) to the room.
func (c *roomConsole) send(arg string) {
	_, errOut := roomOutput(c.ss)
	if arg == "" {
		fmt.Fprintln(errOut, "pigeon: /send needs a file or folder: /send PATH")
		return
	}
	paths := []string{expandHome(arg)}
	if _, err := os.Lstat(paths[0]); err != nil && strings.ContainsAny(arg, " \t") {
		paths = paths[:0]
		for _, f := range strings.Fields(arg) {
			paths = append(paths, expandHome(f))
		}
	}
	entries, err := transfer.Scan(paths)
	if err == nil {
		err = transfer.Check(entries)
	}
	if err != nil {
		msg, _ := explain(err)
		fmt.Fprintf(errOut, "pigeon: nothing offered: %s\n", msg)
		return
	}
	if len(entries) == 0 {
		fmt.Fprintln(errOut, "pigeon: nothing offered: no files there")
		return
	}
	file := c.member.Offer(entries, topNames(entries))
	fmt.Fprintf(errOut, "pigeon: you offered %s (%s) to the room\n", shown(file.Name), fileSize(file))
}

// expandHome expands a leading ~/ as a shell would have.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// decide gets or declines offer number arg (the latest undecided one if
// arg is empty).
func (c *roomConsole) decide(get bool, arg string) {
	_, errOut := roomOutput(c.ss)
	c.mu.Lock()
	n := 0
	if arg == "" {
		for i := len(c.offers); i > 0; i-- {
			if !c.offers[i-1].decided {
				n = i
				break
			}
		}
	} else if v, err := strconv.Atoi(strings.TrimPrefix(arg, "#")); err == nil && v >= 1 && v <= len(c.offers) {
		n = v
	}
	if n == 0 {
		count := len(c.offers)
		c.mu.Unlock()
		switch {
		case count == 0:
			fmt.Fprintln(errOut, "pigeon: no file has been offered to you yet")
		case arg == "":
			fmt.Fprintln(errOut, "pigeon: every file offered has been got or declined; /get N gets offer N again")
		default:
			fmt.Fprintf(errOut, "pigeon: no file offer %s: they are numbered 1 to %d as they came\n", shown(arg), count)
		}
		return
	}
	o := c.offers[n-1]
	o.decided = true
	c.mu.Unlock()
	if !get {
		if err := c.member.Decline(o.from.ID, o.file.ID); err != nil {
			fmt.Fprintf(errOut, "pigeon: %s is not in the room any more\n", shown(o.from.Name))
			return
		}
		fmt.Fprintf(errOut, "pigeon: declined %s from %s\n", shown(o.file.Name), shown(o.from.Name))
		return
	}
	c.get(o)
}

func (c *roomConsole) get(o *heardOffer) {
	_, errOut := roomOutput(c.ss)
	if err := c.member.Get(o.from.ID, o.file.ID, c.recv); err != nil {
		fmt.Fprintf(errOut, "pigeon: %s is not in the room any more\n", shown(o.from.Name))
		return
	}
	fmt.Fprintf(errOut, "pigeon: getting %s from %s into %s ...\n", shown(o.file.Name), shown(o.from.Name), c.dir)
}

// fileSize says how much a file offer is.
func fileSize(f room.File) string {
	files := "1 file"
	if f.Files != 1 {
		files = fmt.Sprintf("%d files", f.Files)
	}
	return files + ", " + transfer.FormatSize(f.Size)
}

// event tells the person what happened in the room.
func (c *roomConsole) event(e room.Event) {
	out, errOut := roomOutput(c.ss)
	name := shown(e.Member.Name)
	file := shown(e.File.Name)
	switch e.Kind {
	case room.Line:
		fmt.Fprintf(out, "%s: %s\n", name, shown(e.Text))
	case room.Joined:
		fmt.Fprintf(errOut, "pigeon: %s joined the room\n", name)
	case room.Left:
		fmt.Fprintf(errOut, "pigeon: %s left the room\n", name)
	case room.Direct:
		fmt.Fprintf(errOut, "pigeon: connected directly to %s: %s\n", name, e.Path)
	case room.Relayed:
		fmt.Fprintf(errOut, "pigeon: %s is not reachable directly (%s): lines to and from %s go through the host\n", name, e.Text, name)
	case room.Offered:
		c.mu.Lock()
		o := &heardOffer{from: e.Member, file: e.File, decided: c.auto}
		c.offers = append(c.offers, o)
		n := len(c.offers)
		c.mu.Unlock()
		if c.auto {
			fmt.Fprintf(errOut, "pigeon: %s offers %s (%s)\n", name, file, fileSize(e.File))
			go func() { <-c.ready; c.get(o) }()
			return
		}
		fmt.Fprintf(errOut, "pigeon: %s offers %s (%s): /get %d saves it into %s, /no %d declines it\n", name, file, fileSize(e.File), n, c.dir, n)
	case room.Declined:
		fmt.Fprintf(errOut, "pigeon: %s declined %s\n", name, file)
	case room.Sending:
		fmt.Fprintf(errOut, "pigeon: sending %s to %s ...\n", file, name)
	case room.Sent:
		if e.Err != nil {
			fmt.Fprintf(errOut, "pigeon: %s did not reach %s: %s\n", file, name, shown(e.Err.Error()))
			return
		}
		fmt.Fprintf(errOut, "pigeon: %s reached %s: %s\n", file, name, statsText(e.Stats))
	case room.Received:
		if e.Err != nil {
			msg, hint := explain(e.Err)
			var pe *transfer.PeerError
			if hint != "" && !errors.As(e.Err, &pe) {
				msg += "; " + hint
			}
			fmt.Fprintf(errOut, "pigeon: %s from %s did not arrive: %s\n", file, name, shown(msg))
			return
		}
		fmt.Fprintf(errOut, "pigeon: received %s from %s: %s into %s\n", file, name, statsText(e.Stats), c.dir)
	}
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"

	"pigeon/sdpcodec"
	"pigeon/transfer"
)

func sendCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "make an offer to send files or folders (- for standard input)",
		ArgsUsage: "PATH...",
		Description: "Sends each file, and each folder with everything inside it, under its own\n" +
			"name; symbolic links inside folders are sent as links. - sends standard input\n" +
			"as one file named by --name; the answer then comes from --in FILE or the\n" +
			"terminal. The other computer runs `pigeon join` with the offer, sees what is\n" +
			"offered, and accepts. pigeon exits 0 only when every file arrived whole.\n" +
			"Running the same send again finishes an interrupted one: files already there\n" +
			"are skipped, and a partly received file continues where it stopped.\n\n" +
			"   pigeon send photos/ notes.txt                   (one computer)\n" +
			"   pigeon join --dir ~/Downloads OFFER             (the other)\n" +
			"   tar c dir | pigeon send --name dir.tar --in answer -",
		Flags: append(sessionFlags(), openFlag(),
			&cli.StringFlag{Name: "name", Value: "stdin", Usage: "the file `NAME` standard input (-) arrives as"},
			lanesFlag(),
		),
		Action: func(c *cli.Context) error {
			paths := c.Args().Slice()
			if len(paths) == 0 {
				return usageErrorf("name the files or folders to send (- for standard input)")
			}
			if err := checkLanes(c); err != nil {
				return err
			}
			stdin := 0
			for _, p := range paths {
				if p == "-" {
					stdin++
				}
			}
			if stdin > 1 {
				return usageErrorf("- (standard input) can be sent only once")
			}
			if stdin == 1 && c.String("in") == "-" {
				return usageErrorf("--in - would read the answer from standard input, which carries the data of -: give a file")
			}
			ss := newSession(c, s)
			defer ss.close()
			var entries []transfer.Entry
			for _, p := range paths {
				if p == "-" {
					entries = append(entries, transfer.Stream(c.String("name"), ss.in))
					continue
				}
				scanned, err := transfer.Scan([]string{p})
				if err != nil {
					return err
				}
				entries = append(entries, scanned...)
			}
			if err := transfer.Check(entries); err != nil {
				return err
			}
			if stdin == 1 && c.String("in") == "" && !ss.interactive {
				// The data is on standard input: ask on the terminal.
				tty, err := os.Open("/dev/tty")
				if err != nil {
					return usageErrorf("pigeon send - reads its data from standard input and there is no terminal to ask for the answer: give it with --in FILE")
				}
				defer tty.Close()
				ss.ask, ss.askInteractive = bufio.NewReader(tty), true
			}
			if err := ss.offer(sdpcodec.AppSend); err != nil {
				return err
			}
			if err := ss.readAnswer(); err != nil {
				return err
			}
			lanes := c.Int("lanes")
			if !bulky(entries) {
				lanes = 0 // not worth the set-up: channel 0 carries it
			}
			conn, err := ss.stripe(lanes)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.errOut, "pigeon: offering %s; waiting for the other computer to accept ...\n", describeEntries(entries))
			bar := newProgress(s.errOut, "sending")
			stats, err := transfer.Send(c.Context, conn, entries, transfer.SendOptions{
				Progress: bar.callback(),
				Accepted: func() { fmt.Fprintln(s.errOut, "pigeon: accepted; sending ...") },
			})
			bar.finish()
			if err != nil {
				return &transferError{err}
			}
			fmt.Fprintf(s.errOut, "pigeon: sent %s\n", statsText(stats))
			return nil
		},
	}
}

// receiveFlags are the flags of join that apply to an offer of files.
func receiveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "accept offered files without asking"},
		&cli.StringFlag{Name: "dir", Value: ".", Usage: "receive offered files into folder `DIR`"},
		&cli.BoolFlag{Name: "overwrite", Usage: "replace files that differ from the offered ones (otherwise their existence refuses the transfer)"},
		&cli.StringFlag{Name: "max-size", Usage: "accept at most `SIZE` of files (e.g. 500M, 2G): a larger offer is refused, and a stream that grows past it is stopped"},
	}
}

// errNoTerminalToConfirm: files are offered, and no one can be asked.
var errNoTerminalToConfirm = errors.New("this offer sends files, and there is no terminal to ask whether to accept them")

// errDeclined: the person said no.
var errDeclined = errors.New("the transfer was declined")

// checkReceive judges, before an answer is made, whether files offered
// can be received: someone must be able to accept them.
func checkReceive(ss *session) error {
	if !ss.c.Bool("yes") && !ss.interactive {
		return errNoTerminalToConfirm
	}
	return nil
}

// checkReceiveFlags fails when --dir does not name a folder, or
// --max-size is not a size.
func checkReceiveFlags(c *cli.Context) error {
	if c.IsSet("max-size") {
		if _, err := parseSize("max-size", c.String("max-size")); err != nil {
			return err
		}
	}
	dir := c.String("dir")
	info, err := os.Stat(dir)
	if err != nil {
		return usageErrorf("--dir %s: no such folder", dir)
	}
	if !info.IsDir() {
		return usageErrorf("--dir %s: not a folder", dir)
	}
	return nil
}

// runReceive connects and receives the offered files into --dir.
func runReceive(ss *session) error {
	dir := ss.c.String("dir")
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("opening the folder %s: %w", dir, err)
	}
	defer root.Close()
	conn, err := ss.stripe(0)
	if err != nil {
		return err
	}
	w := ss.s.errOut
	confirm := func(o transfer.Offer) error {
		what := describeOffer(o)
		fmt.Fprintf(w, "pigeon: the other computer offers %s\n", topNames(o.Entries))
		if o.Existing > 0 {
			fmt.Fprintf(w, "pigeon: %d of the files are already here and will be skipped\n", o.Existing)
		}
		if o.Resumed > 0 {
			fmt.Fprintf(w, "pigeon: %s already arrived before and will not be sent again\n", transfer.FormatSize(o.Resumed))
		}
		if len(o.Replace) > 0 {
			fmt.Fprintf(w, "pigeon: replacing %d existing: %s\n", len(o.Replace), strings.Join(quoteSome(o.Replace, 5), ", "))
		}
		if ss.c.Bool("yes") {
			fmt.Fprintf(w, "pigeon: receiving %s into %s\n", what, dir)
			return nil
		}
		fmt.Fprintf(w, "Receive %s into %s? [y/N] ", what, dir)
		replies := make(chan lineResult, 1)
		go func() { l, err := readLine(ss.in); replies <- lineResult{l, err} }()
		var r lineResult
		select {
		case r = <-replies:
		case <-ss.c.Context.Done():
			fmt.Fprintln(w)
			return ss.c.Context.Err()
		}
		if r.err != nil && len(r.line) == 0 {
			return fmt.Errorf("%w: no reply to the question", errDeclined)
		}
		switch strings.ToLower(strings.TrimSpace(string(r.line))) {
		case "y", "yes":
			return nil
		}
		return errDeclined
	}
	var maxSize int64
	if ss.c.IsSet("max-size") {
		maxSize, _ = parseSize("max-size", ss.c.String("max-size")) // checked before
	}
	bar := newProgress(w, "receiving")
	stats, err := transfer.Receive(ss.c.Context, conn, transfer.ReceiveOptions{
		Root:      root,
		Confirm:   confirm,
		Overwrite: ss.c.Bool("overwrite"),
		Progress:  bar.callback(),
		MaxSize:   maxSize,
	})
	bar.finish()
	if err != nil {
		return &transferError{err}
	}
	fmt.Fprintf(w, "pigeon: received %s into %s\n", statsText(stats), dir)
	return nil
}

// transferError is why a transfer of files failed once the connection
// was open, so that the hint can speak of finishing it.
type transferError struct{ err error }

func (e *transferError) Error() string { return e.err.Error() }
func (e *transferError) Unwrap() error { return e.err }

// bulkySize is the size from which a transfer uses lanes: below it,
// setting them up would cost more than they save.
const bulkySize = 16 << 20

// bulky reports whether entries are worth several connections: a stream
// of unknown size, or files of bulkySize or more in all.
func bulky(entries []transfer.Entry) bool {
	var total int64
	for _, e := range entries {
		if e.Kind != transfer.File {
			continue
		}
		if e.Size < 0 {
			return true
		}
		total += e.Size
	}
	return total >= bulkySize
}

// describeEntries says what entries hold: "3 files and 1 folder (12.4 MiB)".
func describeEntries(entries []transfer.Entry) string {
	var o transfer.Offer
	for _, e := range entries {
		switch e.Kind {
		case transfer.File:
			o.Files++
			if e.Size < 0 {
				o.Streams++
			} else {
				o.Size += e.Size
			}
		case transfer.Dir:
			o.Dirs++
		case transfer.Symlink:
			o.Links++
		}
	}
	return describeOffer(o)
}

func describeOffer(o transfer.Offer) string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(o.Files, "file", "files")
	add(o.Dirs, "folder", "folders")
	add(o.Links, "link", "links")
	text := "nothing"
	switch len(parts) {
	case 0:
	case 1:
		text = parts[0]
	default:
		text = strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
	size := transfer.FormatSize(o.Size)
	if o.Streams > 0 {
		size = "a stream of unknown size"
		if o.Size > 0 {
			size = transfer.FormatSize(o.Size) + " and a stream of unknown size"
		}
	}
	return text + " (" + size + ")"
}

// topNames lists the names offered at the top, folders with a slash.
func topNames(entries []transfer.Entry) string {
	var names []string
	seen := map[string]bool{}
	for _, e := range entries {
		top, _, nested := strings.Cut(e.Path, "/")
		if seen[top] {
			continue
		}
		seen[top] = true
		if nested || e.Kind == transfer.Dir {
			top += "/"
		}
		names = append(names, top)
	}
	return strings.Join(quoteSome(names, 5), ", ")
}

// quoteSome quotes the first n names and says how many more there are.
func quoteSome(names []string, n int) []string {
	var out []string
	for i, name := range names {
		if i == n {
			out = append(out, fmt.Sprintf("and %d more", len(names)-n))
			break
		}
		out = append(out, fmt.Sprintf("%q", name))
	}
	return out
}

// statsText reports a transfer: "6 files (12.4 MiB) in 1.2s (10.3 MB/s)".
func statsText(st transfer.Stats) string {
	files := "1 file"
	if st.Files != 1 {
		files = fmt.Sprintf("%d files", st.Files)
	}
	text := fmt.Sprintf("%s (%s) in %s (%.1f MB/s)", files, transfer.FormatSize(st.Bytes), durationText(st.Elapsed), float64(st.Bytes)/1e6/max(st.Elapsed.Seconds(), 1e-9))
	if st.Skipped > 0 {
		text += fmt.Sprintf("; %d already there", st.Skipped)
	}
	if st.Resumed > 0 {
		text += fmt.Sprintf("; %s resumed", transfer.FormatSize(st.Resumed))
	}
	return text
}

// progress draws a progress bar on a terminal, and nothing elsewhere.
type progress struct {
	w    io.Writer
	verb string

	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	max     int64
	current string
}

func newProgress(w io.Writer, verb string) *progress {
	if !isTerminal(w) {
		return nil
	}
	return &progress{w: w, verb: verb}
}

// callback is the transfer's Progress callback: nil without a terminal.
func (p *progress) callback() func(done, total int64, current string) {
	if p == nil {
		return nil
	}
	return p.update
}

func (p *progress) update(done, total int64, current string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		p.max = total
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(25),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionUseIECUnits(true),
		)
	}
	if total != p.max {
		p.max = total
		p.bar.ChangeMax64(total)
	}
	if current != p.current {
		p.current = current
		name := current
		if r := []rune(name); len(r) > 30 {
			name = "..." + string(r[len(r)-27:])
		}
		p.bar.Describe(p.verb + " " + name)
	}
	_ = p.bar.Set64(done)
}

func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
}

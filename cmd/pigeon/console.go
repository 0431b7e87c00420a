package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"pigeon/chat"
)

// chatPrompt starts the line being typed in a chat at a terminal.
const chatPrompt = "> "

// A console is the terminal a person chats at. The line being typed stays
// at the bottom: a line that arrives, or a message of pigeon's, is written
// above it and the typed line is drawn again, so the two never mix. It
// edits lines with golang.org/x/term's Terminal (arrow keys, history with
// up and down), which needs the terminal in raw mode until [console.Close].
type console struct {
	t       *term.Terminal
	in      *os.File
	out     *os.File
	state   *term.State
	lines   chan chat.Fragment
	stopped chan struct{} // closed by Close
	once    sync.Once
}

// openConsole puts the terminal in into raw mode and reads lines typed at
// it from r (in, or a buffer in front of it) onto the channel of Lines,
// writing to out, the same terminal. Ctrl-C calls interrupt, as the
// signal it stands for in a terminal's usual mode would.
func openConsole(r io.Reader, in, out *os.File, interrupt func()) (*console, error) {
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, err
	}
	c := &console{in: in, out: out, state: state, lines: make(chan chat.Fragment, 64), stopped: make(chan struct{})}
	c.t = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{&interruptReader{r: r, interrupt: interrupt}, out}, chatPrompt)
	c.resize()
	go c.followSize()
	go c.read()
	return c, nil
}

// Lines are the lines typed, as [chat.ReadLines] gives them; the channel
// closes at Ctrl-D on an empty line.
func (c *console) Lines() <-chan chat.Fragment { return c.lines }

// Write writes p above the line being typed.
func (c *console) Write(p []byte) (int, error) { return c.t.Write(p) }

// Close takes the typed line off the screen and puts the terminal back in
// the mode it was in.
func (c *console) Close() error {
	var err error
	c.once.Do(func() {
		close(c.stopped)
		// The prompt and what was typed after it: the chat is over.
		_, _ = io.WriteString(c.out, "\r\x1b[K")
		err = term.Restore(int(c.in.Fd()), c.state)
	})
	return err
}

func (c *console) read() {
	defer close(c.lines)
	for {
		line, err := c.t.ReadLine()
		if err != nil && !errors.Is(err, term.ErrPasteIndicator) {
			return
		}
		// A line longer than a frame travels in pieces, as ReadLines
		// sends it.
		for first := true; first || line != ""; first = false {
			n := min(len(line), chat.MaxFragment)
			f := chat.Fragment{Text: line[:n], More: n < len(line), Continued: !first}
			line = line[n:]
			select {
			case c.lines <- f:
			case <-c.stopped:
				return
			}
		}
	}
}

// resize tells the line editor the terminal's width, by which it wraps
// the typed line.
func (c *console) resize() {
	if w, h, err := term.GetSize(int(c.out.Fd())); err == nil && w > 0 {
		_ = c.t.SetSize(w, h)
	}
}

// interruptReader turns Ctrl-C, which raw mode passes on as a byte, back
// into an interrupt.
type interruptReader struct {
	r         io.Reader
	interrupt func()
}

func (ir *interruptReader) Read(p []byte) (int, error) {
	for {
		n, err := ir.r.Read(p)
		if i := bytes.IndexByte(p[:n], 3); i >= 0 {
			ir.interrupt()
			n = i
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// switchWriter is standard error, which a console takes over while a chat
// runs at the same terminal, so that pigeon's messages go above the typed
// line too.
type switchWriter struct {
	mu   sync.Mutex
	base io.Writer // standard error
	to   io.Writer // the console, while it runs
}

func (w *switchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	to := w.to
	w.mu.Unlock()
	if to != nil {
		return to.Write(p)
	}
	return w.base.Write(p)
}

// set sends writes to to, or to standard error again when to is nil.
func (w *switchWriter) set(to io.Writer) {
	w.mu.Lock()
	w.to = to
	w.mu.Unlock()
}

// fileOf is the file behind a stream, if there is one.
func fileOf(v any) (*os.File, bool) {
	if w, ok := v.(*switchWriter); ok {
		v = w.base
	}
	f, ok := v.(*os.File)
	return f, ok
}

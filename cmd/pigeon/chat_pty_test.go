//go:build linux

package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// screen is what a person sees of a terminal: the pty's output run
// through a terminal emulator, so redraws count as they look.
type screen struct {
	mu sync.Mutex
	em *vt.Emulator
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.em.Write(p)
}

// rows are the screen's lines, without trailing spaces.
func (s *screen) rows() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := strings.Split(s.em.String(), "\n")
	for i, r := range rows {
		rows[i] = strings.TrimRight(r, " ")
	}
	return rows
}

// console is pigeon at a whole terminal: standard input, output and
// error are one pty of 80 columns, as in a terminal window.
type consoleTerm struct {
	t      *testing.T
	pty    *os.File
	screen *screen
	exited chan struct{}
	err    error
}

func startConsole(t *testing.T, dir string, args ...string) *consoleTerm {
	t.Helper()
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c := &consoleTerm{t: t, screen: &screen{em: vt.NewEmulator(80, 24)}, exited: make(chan struct{})}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	cmd.Dir = dir
	cmd.WaitDelay = time.Second
	c.pty, err = pty.StartWithSize(cmd, &pty.Winsize{Cols: 80, Rows: 24})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// The emulator answers some queries on its input pipe: read them.
	go func() { _, _ = io.Copy(io.Discard, c.screen.em) }()
	go func() { _, _ = io.Copy(c.screen, c.pty) }()
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-c.exited
		c.pty.Close()
		if t.Failed() {
			t.Logf("screen:\n%s", strings.Join(c.screen.rows(), "\n"))
		}
	})
	return c
}

func (c *consoleTerm) typeText(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.pty, s); err != nil {
		c.t.Fatal(err)
	}
}

// waitRows waits until some row of the screen is want and the rows after
// it are next, in order.
func (c *consoleTerm) waitRows(want ...string) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows := c.screen.rows()
		for i := range rows {
			if i+len(want) <= len(rows) && equalRows(rows[i:i+len(want)], want) {
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the screen did not show the rows %q within 15s", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func equalRows(a, b []string) bool {
	for i := range b {
		if a[i] != strings.TrimRight(b[i], " ") {
			return false
		}
	}
	return true
}

// TestChatRedrawsTypedLine: in a chat at a terminal, a line that arrives
// while one is typed goes above the typed line, which is drawn again
// whole below it; what was typed is sent as typed, the up arrow brings it
// back, and the terminal is as it was when the chat ends.
func TestChatRedrawsTypedLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := startConsole(t, dir, "chat", "--out", "offer", "--in", "answer")
	offer := waitForFile(t, context.Background(), filepath.Join(dir, "offer"))

	_, bIn, bOut := startJoin(t, dir, offer)

	a.waitRows("pigeon: type a line and press Enter to send it; Ctrl-D or /quit ends the chat", "> ")
	a.typeText("I am typing half a li")
	a.waitRows("> I am typing half a li")
	if _, err := io.WriteString(bIn, "interrupting you\n"); err != nil {
		t.Fatal(err)
	}
	a.waitRows("peer: interrupting you", "> I am typing half a li")

	a.typeText("ne\r")
	waitOutput(t, bOut, "I am typing half a line\n")
	a.waitRows("> I am typing half a line", "> ")

	// History: the up arrow brings the line back, Enter sends it again.
	a.typeText("\x1b[A")
	a.waitRows("> I am typing half a line", "> I am typing half a line")
	a.typeText("\r")
	waitOutput(t, bOut, "I am typing half a line\nI am typing half a line\n")

	// The other side leaves: the chat ends, the prompt goes.
	if err := bIn.Close(); err != nil {
		t.Fatal(err)
	}
	a.waitRows("pigeon: the peer left the chat")
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("pigeon chat did not exit within 10s")
	}
	if a.err != nil {
		t.Fatalf("pigeon chat: %v", a.err)
	}
	for _, row := range a.screen.rows() {
		if strings.Contains(row, "lipeer") || row == ">" {
			t.Errorf("the screen shows %q", row)
		}
	}
}

// TestChatCtrlCAtConsole: Ctrl-C in a chat at a terminal interrupts, as
// it does in a terminal's usual mode: the other side is told, and the
// terminal reads and echoes lines again afterwards.
func TestChatCtrlCAtConsole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := startConsole(t, dir, "chat", "--out", "offer", "--in", "answer")
	b, bIn, bOut := startJoin(t, dir, waitForFile(t, context.Background(), filepath.Join(dir, "offer")))
	_ = bOut

	a.waitRows("pigeon: type a line and press Enter to send it; Ctrl-D or /quit ends the chat", "> ")
	a.typeText("half a li\x03")
	a.waitRows("pigeon: interrupted")
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("pigeon chat did not exit within 10s")
	}
	var ee *exec.ExitError
	if !errors.As(a.err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("pigeon chat: %v, want exit code 1", a.err)
	}
	tio, err := unix.IoctlGetTermios(int(a.pty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != unix.ICANON|unix.ECHO|unix.ISIG {
		t.Errorf("the terminal was left in raw mode (lflag %#x)", tio.Lflag)
	}
	waitStderr(t, b, "pigeon: the peer left the chat")
	_ = bIn.Close()
}

// waitOutput waits until out holds want.
func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for out.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("output %q, want %q", out.String(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// joinProc is `pigeon join` of the offer in dir, answering into dir's file
// answer, with its standard input a pipe.
type joinProc struct {
	stderr syncBuffer
	done   chan error
}

func startJoin(t *testing.T, dir, offer string) (*joinProc, io.WriteCloser, *syncBuffer) {
	t.Helper()
	cmd := exec.Command("pigeon", "join", "--out", filepath.Join(dir, "answer"), strings.TrimSpace(offer))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	j := &joinProc{done: make(chan error, 1)}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, &j.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { j.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-j.done
		if t.Failed() {
			t.Logf("join's stderr:\n%s", j.stderr.String())
		}
	})
	return j, in, out
}

// waitStderr waits until join's standard error shows s.
func waitStderr(t *testing.T, j *joinProc, s string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(j.stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("join's standard error did not show %q within 15s", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenChatAtTerminal: an open offer's chat at a terminal asks for the
// answer, and once a joiner is in with the offer alone it stops asking: the
// first line typed then is the chat's first line, not an answer.
func TestOpenChatAtTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := startConsole(t, dir, "chat", "--open", "--out", "offer")
	offer := waitForFile(t, context.Background(), filepath.Join(dir, "offer"))
	a.waitRows("Paste the answer from the other computer, then press Enter:")

	b, bIn, bOut := startJoin(t, dir, offer)
	a.waitRows("pigeon: the other computer joined through the open offer: no answer to carry")
	a.waitRows("pigeon: type a line and press Enter to send it; Ctrl-D or /quit ends the chat", "> ")
	a.typeText("the first line\r")
	waitOutput(t, bOut, "the first line\n")
	if strings.Contains(b.stderr.String(), "Answer;") {
		t.Errorf("join showed an answer:\n%s", b.stderr.String())
	}
	a.typeText("\x04") // Ctrl-D
	waitStderr(t, b, "pigeon: the peer left the chat")
	_ = bIn.Close()
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("pigeon chat did not exit within 10s")
	}
	if a.err != nil {
		t.Fatalf("pigeon chat: %v", a.err)
	}
}

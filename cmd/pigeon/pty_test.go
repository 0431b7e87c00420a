//go:build !windows

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"pigeon/sdpcodec"
)

// A person at a terminal: the prompt runs only when stdin and stderr are a
// terminal, so these tests run pigeon (the copy testscript.Main put on
// $PATH) under a pseudo-terminal. stdout stays a pipe: it must carry data
// only.

// terminal is a pigeon process whose stdin and stderr are a pty.
type terminal struct {
	t      *testing.T
	pty    *os.File
	cmd    *exec.Cmd
	stdout bytes.Buffer
	exited chan struct{}
	err    error // from Wait, once exited is closed

	mu     sync.Mutex
	screen strings.Builder // everything pigeon wrote to the terminal, and the echo
}

// startTerminal runs pigeon with args under a pty, for at most 20 seconds.
func startTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	return startTerminalSized(t, nil, args...)
}

// startTerminalSized is startTerminal on a terminal of the given size.
func startTerminalSized(t *testing.T, size *pty.Winsize, args ...string) *terminal {
	t.Helper()
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	term := &terminal{t: t, exited: make(chan struct{})}
	term.cmd = exec.CommandContext(ctx, bin, args...)
	term.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	term.cmd.Dir = t.TempDir()
	term.cmd.Stdout = &term.stdout
	term.cmd.WaitDelay = time.Second
	term.pty, err = pty.StartWithSize(term.cmd, size)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := term.pty.Read(buf)
			term.mu.Lock()
			term.screen.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		term.err = term.cmd.Wait()
		close(term.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-term.exited
		term.pty.Close()
		if t.Failed() {
			t.Logf("terminal:\n%s\nstdout:\n%s", term.text(), term.stdout.String())
		}
	})
	return term
}

func (term *terminal) text() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.screen.String()
}

// waitFor waits until the terminal shows s at least n times.
func (term *terminal) waitFor(s string, n int) {
	term.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(term.text(), s) < n {
		if time.Now().After(deadline) {
			term.t.Fatalf("the terminal did not show %q %d times within 10s", s, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// typeLine types text and Enter.
func (term *terminal) typeLine(text string) {
	term.t.Helper()
	if _, err := io.WriteString(term.pty, text+"\r"); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for pigeon to exit and returns its exit code.
func (term *terminal) wait() int {
	term.t.Helper()
	select {
	case <-term.exited:
	case <-time.After(10 * time.Second):
		term.t.Fatal("pigeon did not exit within 10s")
	}
	var ee *exec.ExitError
	if errors.As(term.err, &ee) {
		return ee.ExitCode()
	}
	if term.err != nil {
		term.t.Fatal(term.err)
	}
	return 0
}

// loopbackBlob encodes a blob with a random fingerprint and a host
// candidate on the discard port of loopback: nothing answers there.
func loopbackBlob(t *testing.T, b *sdpcodec.Blob) string {
	t.Helper()
	text, err := encodeTestBlob(b, netip.MustParseAddrPort("127.0.0.1:9"))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestPromptInspect(t *testing.T) {
	t.Parallel()
	const ask = "Paste a blob, then press Enter:"
	offer := loopbackBlob(t, &sdpcodec.Blob{Kind: sdpcodec.Offer, App: sdpcodec.AppChat})
	term := startTerminal(t, "inspect")

	term.waitFor(ask, 1)
	term.typeLine("hello, here is my offer")
	term.waitFor("pigeon: that did not work: not a pigeon blob: a pigeon blob starts with PIGEON", 1)
	term.waitFor("pigeon: hint: a pigeon blob is one line that starts with PIGEON", 1)
	term.waitFor(ask, 2)

	term.typeLine(offer[:len(offer)-3] + "XYZ")
	term.waitFor("pigeon: that did not work: blob is damaged", 1)
	term.waitFor(ask, 3)

	// A paste wrapped over two lines is one blob.
	term.typeLine(offer[:40])
	term.typeLine(offer[40:])
	if code := term.wait(); code != 0 {
		t.Fatalf("pigeon inspect exited with %d, want 0", code)
	}
	if got := term.stdout.String(); !strings.HasPrefix(got, "kind:         offer\n") || !strings.Contains(got, "127.0.0.1:9") {
		t.Errorf("stdout = %q, want the description of the offer", got)
	}
	if strings.Contains(term.stdout.String(), "Paste") {
		t.Error("the prompt went to stdout")
	}
}

func TestPromptJoin(t *testing.T) {
	t.Parallel()
	const ask = "Paste the offer from the other computer, then press Enter:"
	offer := loopbackBlob(t, &sdpcodec.Blob{Kind: sdpcodec.Offer, App: sdpcodec.AppChat})
	answer := loopbackBlob(t, &sdpcodec.Blob{Kind: sdpcodec.Answer, Binding: 0x123})
	term := startTerminal(t, "join")

	term.waitFor(ask, 1)
	term.typeLine(`eyJ0eXBlIjoib2ZmZXIiLCJzZHAiOiJ2PTBcclxuIn0=`)
	term.waitFor("pigeon: that did not work: not a session description pigeon can read: its SDP: it has no media section", 1)
	term.waitFor(ask, 2)

	term.typeLine(answer)
	term.waitFor("pigeon: that did not work: this is an answer, but an offer was expected", 1)
	term.waitFor("pigeon: hint: `pigeon join` takes the offer printed by `pigeon chat`", 1)
	term.waitFor(ask, 3)

	// The right blob: join makes its answer and waits for the offerer,
	// until Ctrl-C.
	term.typeLine(offer)
	term.waitFor("Answer; carry it back to the computer that made the offer", 1)
	term.waitFor("pigeon: waiting for the other computer to connect", 1)
	if _, err := term.pty.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	if code := term.wait(); code != 1 {
		t.Errorf("pigeon join exited with %d after Ctrl-C, want 1", code)
	}
	term.waitFor("pigeon: interrupted", 1)
	if term.stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", term.stdout.String())
	}
}

func TestPromptChatKeepsTheSession(t *testing.T) {
	t.Parallel()
	const ask = "Paste the answer from the other computer, then press Enter:"
	term := startTerminal(t, "chat", "--connect-timeout", "1s")
	term.waitFor(ask, 1)
	var offerText string
	for _, line := range strings.Split(term.text(), "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, sdpcodec.Prefix) {
			offerText = line
			break
		}
	}
	offer, err := sdpcodec.Parse(offerText)
	if err != nil {
		t.Fatalf("the offer on the terminal: %v", err)
	}

	// Wrong pastes are explained, and the same offer keeps waiting.
	term.typeLine(offerText)
	term.waitFor("pigeon: that did not work: this is our own offer, pasted back", 1)
	term.waitFor(ask, 2)
	other := loopbackBlob(t, &sdpcodec.Blob{Kind: sdpcodec.Answer, Binding: sdpcodec.BindingOf(offer) ^ 1})
	term.typeLine(other)
	term.waitFor("pigeon: that did not work: this answer belongs to another offer", 1)
	term.waitFor(ask, 3)
	term.typeLine(offerText[:len(offerText)/2])
	term.typeLine("")
	term.waitFor("pigeon: that did not work: blob is incomplete", 1)
	term.waitFor(ask, 4)

	// The right answer is taken; nobody answers at 127.0.0.1:9, so the
	// connection fails after --connect-timeout.
	term.typeLine(loopbackBlob(t, &sdpcodec.Blob{Kind: sdpcodec.Answer, Binding: sdpcodec.BindingOf(offer)}))
	term.waitFor("pigeon: connecting ...", 1)
	if code := term.wait(); code != 1 {
		t.Errorf("pigeon chat exited with %d, want 1", code)
	}
	term.waitFor("pigeon: error: could not connect to the peer within 1s", 1)
	if strings.Count(term.text(), "Offer for chat") != 1 {
		t.Error("the offer was made more than once")
	}
	if term.stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", term.stdout.String())
	}
}

// TestQRCodeFitsOrSaysSo: a QR code is drawn whole on a terminal large
// enough for it; on a smaller one pigeon says what size it needs.
func TestQRCodeFitsOrSaysSo(t *testing.T) {
	big := startTerminalSized(t, &pty.Winsize{Cols: 80, Rows: 24}, "demo")
	if code := big.wait(); code != 0 {
		t.Fatalf("demo exited %d", code)
	}
	if text := big.text(); !strings.Contains(text, "▀") || strings.Contains(text, "needs a terminal") {
		t.Errorf("on an 80x24 terminal the demo did not draw its QR codes")
	}
	small := startTerminalSized(t, &pty.Winsize{Cols: 30, Rows: 12}, "demo")
	if code := small.wait(); code != 0 {
		t.Fatalf("demo exited %d", code)
	}
	text := small.text()
	if strings.Contains(text, "▀") {
		t.Errorf("on a 30x12 terminal the demo drew a QR code that cannot fit")
	}
	if !strings.Contains(text, "pigeon: the QR code needs a terminal of at least 37x19 characters, and this one is 30x12") {
		t.Errorf("on a 30x12 terminal the demo did not say what size the QR code needs")
	}
}

// TestPromptCutShort: a blob cut short at the prompt (the terminal wrapped
// it, or half of it was copied) is pointed out after Enter, instead of
// waiting in silence; the rest completes it, and so does the whole blob
// pasted again.
func TestPromptCutShort(t *testing.T) {
	t.Parallel()
	const (
		ask      = "Paste a blob, then press Enter:"
		cutShort = "pigeon: the blob looks cut short (40 characters so far): paste the rest of it, or the whole blob again, then press Enter"
	)
	offer := loopbackBlob(t, &sdpcodec.Blob{Kind: sdpcodec.Offer, App: sdpcodec.AppChat})
	for _, again := range []bool{false, true} {
		term := startTerminal(t, "inspect")
		term.waitFor(ask, 1)
		term.typeLine(offer[:40])
		term.waitFor(cutShort, 1)
		if again {
			term.typeLine(offer)
		} else {
			term.typeLine(offer[40:])
		}
		if code := term.wait(); code != 0 {
			t.Fatalf("pigeon inspect exited with %d, want 0", code)
		}
		if got := term.stdout.String(); !strings.HasPrefix(got, "kind:         offer\n") {
			t.Errorf("stdout = %q, want the description of the offer", got)
		}
		if strings.Count(term.text(), ask) != 1 || strings.Contains(term.text(), "did not work") {
			t.Error("the cut blob was taken for a bad paste")
		}
	}
}

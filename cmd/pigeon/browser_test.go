package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pigeon/internal/testenv"
)

// A browser is the program pigeon most often meets besides itself: these
// tests run headless Chromium, with a page that speaks pigeon's chat over
// a pre-negotiated data channel, against the pigeon binary that
// testscript.Main put on $PATH. The descriptions travel as pigeon reads
// and writes them for other programs: JSON.stringify(pc.localDescription)
// one way, base64 JSON or JSON the other.
//
// Nothing leaves this machine: the page has no ICE servers and is
// about:blank, Chromium's background networking is off, and both sides
// gather host candidates only.

// browserBudget bounds each browser test, Chromium's start and stop
// included; stepBudget bounds its steps, so that Chromium is still there
// to tell the page's state when a step times out.
const (
	browserBudget = 60 * time.Second
	stepBudget    = 45 * time.Second
)

// pageScript sets up the page's end of a chat as window.chat: an
// RTCPeerConnection without ICE servers and pigeon's data channel
// (negotiated, id 0). The page sends "hello from chromium" as soon as the
// channel opens, keeps the lines it receives, and confirms a goodbye (3)
// with 4, as package chat does. chat.errors collects what pigeon should
// never send: text messages and unknown message types.
const pageScript = `(() => {
	const enc = new TextEncoder(), dec = new TextDecoder();
	const pc = new RTCPeerConnection();
	const dc = pc.createDataChannel("pigeon", {negotiated: true, id: 0});
	dc.binaryType = "arraybuffer";
	const chat = window.chat = {received: [], goodbyes: 0, events: [], errors: []};
	const note = (s) => chat.events.push(((performance.now() / 1000).toFixed(3)) + " " + s);
	pc.onconnectionstatechange = () => note("connection " + pc.connectionState);
	pc.oniceconnectionstatechange = () => note("ice " + pc.iceConnectionState);
	pc.onicecandidate = (e) => note("candidate " + (e.candidate ? e.candidate.candidate : "(end)"));
	dc.onopen = () => {
		note("channel open");
		dc.send(Uint8Array.of(1, ...enc.encode("hello from chromium")));
	};
	dc.onclose = () => note("channel closed");
	// pion ends a connection with an SCTP abort, which reaches the page
	// as an error on the channel: a note, not a failure.
	dc.onerror = (e) => note("channel error: " + (e.error || e));
	dc.onmessage = (e) => {
		if (!(e.data instanceof ArrayBuffer)) {
			chat.errors.push("a text message: " + e.data);
			return;
		}
		const m = new Uint8Array(e.data);
		switch (m[0]) {
		case 1:
			chat.received.push(dec.decode(m.subarray(1)));
			break;
		case 3:
			chat.goodbyes++;
			dc.send(Uint8Array.of(4));
			break;
		default:
			chat.errors.push("a message of type " + m[0]);
		}
	};
	const gathered = () => new Promise((resolve) => {
		if (pc.iceGatheringState === "complete") {
			resolve();
			return;
		}
		pc.addEventListener("icegatheringstatechange", () => {
			if (pc.iceGatheringState === "complete") resolve();
		});
	});
	const local = async (desc) => {
		await pc.setLocalDescription(desc);
		await gathered();
		return JSON.stringify(pc.localDescription);
	};
	chat.offer = async () => local(await pc.createOffer());
	chat.answer = async (offer) => {
		await pc.setRemoteDescription(offer);
		return local(await pc.createAnswer());
	};
	chat.accept = (answer) => pc.setRemoteDescription(answer);
	chat.state = () => JSON.stringify({
		signaling: pc.signalingState, gathering: pc.iceGatheringState,
		ice: pc.iceConnectionState, connection: pc.connectionState,
		channel: dc.readyState, received: chat.received, goodbyes: chat.goodbyes,
		errors: chat.errors, events: chat.events,
		remote: pc.remoteDescription && pc.remoteDescription.sdp,
	}, null, 1);
})()`

// TestBrowserAnswersPigeon: the browser answers `pigeon chat`'s offer,
// which pigeon writes as base64 JSON of the SDP it rebuilds from its blob.
func TestBrowserAnswersPigeon(t *testing.T) {
	page := startPage(t)
	dir := t.TempDir()
	p := startPigeon(t, page.ctx, dir, "chat", "--format", "json", "--out", "offer", "--in", "answer", "--connect-timeout", "20s")

	offerText := waitForFile(t, page.ctx, filepath.Join(dir, "offer"))
	offerJSON, err := base64.StdEncoding.DecodeString(strings.TrimSpace(offerText))
	if err != nil {
		t.Fatalf("the offer file does not hold base64: %v\n%s", err, offerText)
	}
	checkDescription(t, offerJSON, "offer")
	// The page decodes the file's text itself, as a page would.
	answer := page.eval(t, `chat.answer(JSON.parse(atob(`+jsString(strings.TrimSpace(offerText))+`)))`)
	checkDescription(t, []byte(answer), "answer")
	// Written in one piece: pigeon reads the file as soon as it appears.
	placeFile(t, filepath.Join(dir, "answer"), answer)

	chatBothWays(t, page, p)
}

// TestBrowserOffersToPigeon: `pigeon join` answers the browser's offer, in
// the format of that offer (JSON), with the SDP it rebuilds from its blob.
func TestBrowserOffersToPigeon(t *testing.T) {
	page := startPage(t)
	dir := t.TempDir()
	offer := page.eval(t, `chat.offer()`)
	checkDescription(t, []byte(offer), "offer")
	if err := os.WriteFile(filepath.Join(dir, "offer"), []byte(offer), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPigeon(t, page.ctx, dir, "join", "--in", "offer", "--out", "answer", "--connect-timeout", "20s")

	answer := strings.TrimSpace(waitForFile(t, page.ctx, filepath.Join(dir, "answer")))
	checkDescription(t, []byte(answer), "answer")
	page.eval(t, `chat.accept(JSON.parse(`+jsString(answer)+`)).then(() => "")`)

	chatBothWays(t, page, p)
}

// chatBothWays checks that the page's line reaches pigeon's stdout and
// pigeon's line reaches the page, then ends pigeon's input: pigeon says
// goodbye, the page confirms it, and pigeon ends well.
func chatBothWays(t *testing.T, page *browserPage, p *pigeonProcess) {
	t.Helper()
	waitUntil(t, page.ctx, "pigeon prints the page's line", func() bool {
		return strings.Contains(p.stdout.String(), "hello from chromium\n")
	})
	if _, err := io.WriteString(p.stdin, "hello from pigeon\n"); err != nil {
		t.Fatalf("writing to pigeon's input: %v", err)
	}
	waitUntil(t, page.ctx, "the page receives pigeon's line", func() bool {
		return page.evalBool(t, `chat.received.includes("hello from pigeon")`)
	})

	if err := p.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, page.ctx); code != 0 {
		t.Fatalf("pigeon exited with status %d, want 0", code)
	}
	if got := p.stdout.String(); got != "hello from chromium\n" {
		t.Errorf("pigeon's stdout = %q, want only the page's line", got)
	}
	stderr := p.stderr.String()
	for _, want := range []string{"pigeon: connected: ", "pigeon: chat ended\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("pigeon's stderr does not show %q", want)
		}
	}
	if strings.Contains(stderr, "error") {
		t.Errorf("pigeon's stderr shows an error")
	}
	if got := page.evalBool(t, `chat.goodbyes === 1 && chat.received.length === 1 && chat.errors.length === 0`); !got {
		t.Errorf("the page did not get exactly pigeon's line, one goodbye and nothing else")
	}
}

// browserPage is a tab of headless Chromium with pageScript loaded.
type browserPage struct {
	ctx context.Context // the tab's, ending after stepBudget
}

// startPage starts headless Chromium, or skips the test when it is not
// installed, and opens an about:blank tab with pageScript loaded. On
// failure the test's log shows the page's state and Chromium's output.
func startPage(t *testing.T) *browserPage {
	t.Helper()
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if chromium, err = exec.LookPath("chromium"); err != nil {
			testenv.Unavailable(t, "Chromium is not installed (no /usr/bin/chromium and no chromium on $PATH): on Debian, apt-get install chromium")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserBudget)
	t.Cleanup(cancel)
	var browserLog syncBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root, where the sandbox refuses to start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in containers
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Candidates with IP addresses rather than mDNS names, which
		// pigeon does not resolve.
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		// Without a user-data-dir flag chromedp makes a fresh one in the
		// temporary directory, and removes it once Chromium has exited.
		chromedp.CombinedOutput(&browserLog),
	)
	t.Cleanup(cancelAlloc) // waits for Chromium to exit
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if state, err := chromedp.Run(tabCtx, chromedp.Evaluate[string](`window.chat ? chat.state() : "no page script"`)); err != nil {
			t.Logf("the page's state: unavailable: %v", err)
		} else {
			t.Logf("the page's state: %s", state)
		}
		t.Logf("Chromium's output:\n%s", browserLog.String())
	})
	// The first action starts Chromium, which lives as long as the
	// context of that action: tabCtx, not the shorter stepCtx.
	if err := chromedp.Do(tabCtx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	stepCtx, cancelSteps := context.WithTimeout(tabCtx, stepBudget)
	t.Cleanup(cancelSteps)
	if _, err := chromedp.Run(stepCtx, chromedp.Evaluate[chromedp.Void](pageScript)); err != nil {
		t.Fatalf("loading the page script: %v", err)
	}
	return &browserPage{ctx: stepCtx}
}

// eval evaluates expr in the page, waits for the promise it returns, and
// returns the string it resolves to.
func (pg *browserPage) eval(t *testing.T, expr string) string {
	t.Helper()
	s, err := chromedp.Run(pg.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("in the page, %s: %v", expr, err)
	}
	return s
}

func (pg *browserPage) evalBool(t *testing.T, expr string) bool {
	t.Helper()
	b, err := chromedp.Run(pg.ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		t.Fatalf("in the page, %s: %v", expr, err)
	}
	return b
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// checkDescription fails the test unless data is JSON {"type":kind,"sdp":...}
// with a non-empty SDP.
func checkDescription(t *testing.T, data []byte, kind string) {
	t.Helper()
	var d struct {
		Type string `json:"type"`
		SDP  string `json:"sdp"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("the %s is not JSON: %v\n%s", kind, err, data)
	}
	if d.Type != kind || !strings.HasPrefix(d.SDP, "v=0") {
		t.Fatalf("the %s is not JSON of type %q with SDP:\n%s", kind, kind, data)
	}
}

// pigeonProcess is pigeon running with its input on a pipe.
type pigeonProcess struct {
	stdin          io.WriteCloser
	stdout, stderr syncBuffer
	exited         chan struct{}
	err            error // from Wait, once exited is closed
}

// startPigeon runs pigeon in dir until it exits or ctx ends. Its input
// stays open (a person who has not pressed Ctrl-D) until the test closes
// it. On failure the test's log shows pigeon's output.
func startPigeon(t *testing.T, ctx context.Context, dir string, args ...string) *pigeonProcess {
	t.Helper()
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	p := &pigeonProcess{exited: make(chan struct{})}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	cmd.WaitDelay = time.Second
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("pigeon %s\nstderr:\n%s\nstdout:\n%s", strings.Join(args, " "), p.stderr.String(), p.stdout.String())
		}
	})
	return p
}

// wait waits for pigeon to exit and returns its exit status.
func (p *pigeonProcess) wait(t *testing.T, ctx context.Context) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-ctx.Done():
		t.Fatalf("pigeon did not exit: %v", ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// waitForFile waits until path exists and is not empty, and returns its text.
func waitForFile(t *testing.T, ctx context.Context, path string) string {
	t.Helper()
	var data []byte
	waitUntil(t, ctx, path+" is written", func() bool {
		var err error
		data, err = os.ReadFile(path)
		return err == nil && len(bytes.TrimSpace(data)) > 0
	})
	return string(data)
}

// placeFile writes text and a newline to path through a temporary file,
// so that a reader finds it whole or not at all.
func placeFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitUntil polls cond until it holds, failing the test when ctx ends.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("waiting until %s: %v", what, ctx.Err())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

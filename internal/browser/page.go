package browser

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"pigeon/internal/testenv"
)

// The browsers [Start] knows.
const (
	Chromium = "chromium"
	Firefox  = "firefox"
)

const (
	// startTimeout bounds starting node and the browser, up to a blank tab.
	startTimeout = 60 * time.Second
	// findTimeout is how long a command waits for its control to appear.
	findTimeout = 10 * time.Second
	// openTimeout is how long Open waits for the page to load.
	openTimeout = 30 * time.Second
	// slack is how much longer than its own timeout a command may take
	// before the test gives up on the driver.
	slack = 20 * time.Second
	// stopTimeout bounds the browser's and the driver's exit.
	stopTimeout = 15 * time.Second
	// logLimit is how much of the driver's and the browser's output a
	// failed test shows: the end of it.
	logLimit = 64 << 10
)

// A Page is one headless browser showing one tab, driven through
// driver/driver.mjs. Its methods fail the test when a step fails; call
// them from the test's goroutine.
type Page struct {
	t          testing.TB
	browser    string
	version    string
	browserPID int

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	answers chan reply    // the driver's answers, closed when its stdout ends
	exited  chan struct{} // closed once the driver has exited
	waitErr error         // from cmd.Wait, once exited is closed
	output  syncBuffer    // the driver's and the browser's stderr

	nextID int
	broken string // why the driver can take no more commands
	closed bool
}

// reply is one answer line of the driver.
type reply struct {
	ID    int    `json:"id"`
	OK    bool   `json:"ok"`
	Value string `json:"value"`
	Error string `json:"error"`
	PID   int    `json:"pid"` // the browser's, in the first answer
}

// Start starts browser ([Chromium] or [Firefox]) headless with a fresh
// profile and a blank tab, and stops it when the test ends. It skips the
// test when node, the browser or the driver's node_modules is missing
// (under CI=true it fails instead). When the test fails, its log shows
// the page's state and the browser's and the driver's output.
func Start(t testing.TB, browser string) *Page {
	t.Helper()
	return start(t, browser, nil)
}

// StartWithCamera is [Start] for Chromium with a fake camera that shows
// video, a Y4M file (see [WriteY4M]), and grants pages its use as a
// person who clicked Allow would.
func StartWithCamera(t testing.TB, video string) *Page {
	t.Helper()
	t.Setenv("PIGEON_DRIVER_CHROMIUM_ARGS", "--use-fake-device-for-media-stream --use-fake-ui-for-media-stream --use-file-for-fake-video-capture="+video)
	return start(t, Chromium, nil)
}

// StartIn is [Start] with the browser in the network namespace ns (a host
// of package netlab): it sees only that host's interfaces. Open pages
// from [TutorialFile] there: a server on this machine's loopback is out
// of its reach.
func StartIn(t testing.TB, browser, ns string) *Page {
	t.Helper()
	return start(t, browser, []string{"ip", "netns", "exec", ns})
}

func start(t testing.TB, browser string, prefix []string) *Page {
	t.Helper()
	exe, err := browserPath(browser)
	if err != nil {
		unavailable(t, "%v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not installed (no node on $PATH): on Debian, apt-get install nodejs npm")
	}
	dir, err := driverDir()
	if err != nil {
		unavailable(t, "%v", err)
	}

	p := &Page{
		t:       t,
		browser: browser,
		answers: make(chan reply, 16),
		exited:  make(chan struct{}),
	}
	args := append(prefix, node, "driver.mjs", browser, exe, t.TempDir())
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1")
	p.cmd.Stderr = &p.output
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting the browser driver: %v", err)
	}
	go p.read(stdout)
	t.Cleanup(p.cleanup)

	hello, err := p.await(0, startTimeout)
	if err != nil {
		t.Fatalf("starting %s (%s): %v", browser, exe, err)
	}
	p.version, p.browserPID = hello.Value, hello.PID
	return p
}

// Browser returns the browser's name as Start was given it.
func (p *Page) Browser() string { return p.browser }

// Version returns the browser's product and version as it tells them,
// such as "Chrome/156.0.8078.114" or "firefox/153.8.0".
func (p *Page) Version() string { return p.version }

// Open loads url in the tab and waits until it has loaded.
func (p *Page) Open(url string) {
	p.t.Helper()
	p.must(openTimeout, "opening "+url, map[string]any{"cmd": "open", "url": url})
}

// Fill puts text into the field of that role (usually "textbox") and
// accessible name, as a paste does: it clicks the field, selects what it
// holds and inserts text in one input event. A read-only or disabled
// field refuses.
func (p *Page) Fill(role, name, text string) {
	p.t.Helper()
	p.must(findTimeout, fmt.Sprintf("filling the %s %q", role, name),
		map[string]any{"cmd": "fill", "role": role, "name": name, "text": text})
}

// Click clicks the control of that role and accessible name, which must
// be enabled.
func (p *Page) Click(role, name string) {
	p.t.Helper()
	p.must(findTimeout, fmt.Sprintf("clicking the %s %q", role, name),
		map[string]any{"cmd": "click", "role": role, "name": name})
}

// Choose clicks the control of that role and accessible name, which
// opens a file chooser, and picks paths there.
func (p *Page) Choose(role, name string, paths ...string) {
	p.t.Helper()
	p.must(findTimeout, fmt.Sprintf("choosing files with the %s %q", role, name),
		map[string]any{"cmd": "choose", "role": role, "name": name, "paths": paths})
}

// Screenshot sets the tab's viewport to width x height CSS pixels and
// saves the whole page at path as a PNG.
func (p *Page) Screenshot(path string, width, height int) {
	p.t.Helper()
	p.must(findTimeout, "taking a screenshot", map[string]any{"cmd": "screenshot", "path": path, "width": width, "height": height})
}

// Text returns what the control of that role and accessible name shows:
// a field's value, or the text of anything else (a list's items one a
// line).
func (p *Page) Text(role, name string) string {
	p.t.Helper()
	return p.must(findTimeout, fmt.Sprintf("reading the %s %q", role, name),
		map[string]any{"cmd": "text", "role": role, "name": name})
}

// WaitText waits up to timeout until the control of that role and
// accessible name shows text that contains contains, and returns that
// text.
func (p *Page) WaitText(role, name, contains string, timeout time.Duration) string {
	p.t.Helper()
	return p.must(timeout, fmt.Sprintf("waiting for the %s %q to show %q", role, name, contains),
		map[string]any{"cmd": "waitText", "role": role, "name": name, "contains": contains, "timeoutMs": timeout.Milliseconds()})
}

// Eval evaluates a JavaScript expression in the page, awaiting it if it
// is a promise, and returns a string result as it is and anything else as
// JSON. It is for diagnostics: drive the page with the other methods.
func (p *Page) Eval(js string) string {
	p.t.Helper()
	return p.must(findTimeout, "evaluating "+js, map[string]any{"cmd": "eval", "js": js})
}

// Close closes the browser and waits for the driver to exit. The test's
// end does it too; Close is for a test that goes on without the browser.
func (p *Page) Close() {
	p.t.Helper()
	if err := p.stop(); err != nil {
		p.t.Errorf("closing %s: %v", p.browser, err)
	}
}

// must runs one command, failing the test if it fails.
func (p *Page) must(timeout time.Duration, what string, req map[string]any) string {
	p.t.Helper()
	v, err := p.do(timeout, req)
	if err != nil {
		p.t.Fatalf("in %s, %s: %v", p.browser, what, err)
	}
	return v
}

// do sends one command and waits for its answer, for timeout and slack.
func (p *Page) do(timeout time.Duration, req map[string]any) (string, error) {
	if p.closed {
		return "", errors.New("the browser is closed")
	}
	if p.broken != "" {
		return "", errors.New(p.broken)
	}
	p.nextID++
	req["id"] = p.nextID
	line, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		p.broken = fmt.Sprintf("the driver takes no more commands: %v", err)
		return "", errors.New(p.broken)
	}
	r, err := p.await(p.nextID, timeout+slack)
	if err != nil {
		return "", err
	}
	if !r.OK {
		return "", errors.New(r.Error)
	}
	return r.Value, nil
}

// await waits for the answer with that id. When none comes, the driver
// is broken: it takes no more commands.
func (p *Page) await(id int, wait time.Duration) (reply, error) {
	timer := time.NewTimer(p.bound(wait))
	defer timer.Stop()
	select {
	case r, ok := <-p.answers:
		switch {
		case !ok:
			<-p.exited
			p.broken = fmt.Sprintf("the driver exited (%v)", p.waitErr)
		case r.ID != id:
			p.broken = fmt.Sprintf("the driver answered command %d, not %d: %+v", r.ID, id, r)
		case id == 0 && !r.OK:
			p.broken = r.Error
		default:
			return r, nil
		}
	case <-timer.C:
		p.broken = fmt.Sprintf("the driver did not answer in %v", p.bound(wait))
	}
	return reply{}, errors.New(p.broken)
}

// bound shortens d so that it ends before the test binary's deadline,
// leaving time to show what happened.
func (p *Page) bound(d time.Duration) time.Duration {
	dt, ok := p.t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return d
	}
	deadline, ok := dt.Deadline()
	if !ok {
		return d
	}
	if left := time.Until(deadline) - 2*stopTimeout; left < d {
		return max(left, time.Second)
	}
	return d
}

// read passes the driver's answers to p.answers until its stdout ends,
// then waits for it to exit.
func (p *Page) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var r reply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintf(&p.output, "browser: not an answer on the driver's stdout: %q\n", sc.Text())
			continue
		}
		p.answers <- r
	}
	close(p.answers)
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

// stop closes the browser and waits for the driver to exit, killing
// both when they do not.
func (p *Page) stop() error {
	if p.closed {
		return nil
	}
	var err error
	if p.broken == "" {
		_, err = p.do(stopTimeout, map[string]any{"cmd": "close"})
	}
	p.closed = true
	_ = p.stdin.Close() // the driver ends when its input does
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		err = errors.Join(err, errors.New("the driver did not exit: killed it"))
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	// The browser leads its own process group; end what is left of it.
	if p.browserPID > 0 {
		killGroup(p.browserPID)
	}
	return err
}

// cleanup stops the browser at the test's end and, when the test failed,
// shows the page's state and the output of the browser and the driver.
func (p *Page) cleanup() {
	if p.t.Failed() && !p.closed && p.broken == "" {
		if state, err := p.do(5*time.Second, map[string]any{"cmd": "eval", "js": stateJS}); err != nil {
			p.t.Logf("%s: the page's state: unavailable: %v", p.browser, err)
		} else {
			p.t.Logf("%s: the page's state:\n%s", p.browser, state)
		}
	}
	if err := p.stop(); err != nil {
		p.t.Errorf("stopping %s: %v", p.browser, err)
	}
	if p.t.Failed() {
		out := p.output.String()
		if len(out) > logLimit {
			out = "[...]\n" + out[len(out)-logLimit:]
		}
		p.t.Logf("%s %s: the output of the browser and its driver:\n%s", p.browser, p.version, out)
	}
}

// stateJS shows what a person sees on the page, and what a page keeps
// in window.events for diagnostics (as tutorial.html does).
const stateJS = `(() => {
	const lines = ["url: " + location.href, "title: " + document.title];
	for (const el of document.querySelectorAll("input, textarea, output, select")) {
		const label = el.labels && el.labels.length ? el.labels[0].innerText : (el.getAttribute("aria-label") || "#" + el.id);
		lines.push(el.localName + " " + JSON.stringify(label) + ": " + JSON.stringify(el.value));
	}
	lines.push("text:", document.body ? document.body.innerText : "(no body)");
	if (Array.isArray(window.events)) lines.push("events:", ...window.events);
	return lines.join("\n");
})()`

// browserPath finds the browser's executable.
func browserPath(browser string) (string, error) {
	var names []string
	var hint string
	switch browser {
	case Chromium:
		names, hint = []string{"/usr/bin/chromium", "chromium"}, "apt-get install chromium"
	case Firefox:
		names, hint = []string{"/usr/bin/firefox-esr", "firefox-esr", "firefox"}, "apt-get install firefox-esr"
	default:
		return "", fmt.Errorf("unknown browser %q: want %q or %q", browser, Chromium, Firefox)
	}
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s is not installed (none of %s): on Debian, %s", browser, strings.Join(names, ", "), hint)
}

// driverDir finds driver/ beside this file, with puppeteer-core installed.
func driverDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot tell where package browser's source is, to find driver/driver.mjs")
	}
	dir := filepath.Join(filepath.Dir(file), "driver")
	if _, err := os.Stat(filepath.Join(dir, "driver.mjs")); err != nil {
		return "", fmt.Errorf("the browser driver is missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "puppeteer-core", "package.json")); err != nil {
		return "", fmt.Errorf("puppeteer-core is not installed in %s: run npm ci there", dir)
	}
	return dir, nil
}

// unavailable skips the test, or fails it under CI=true, where every
// browser test must run.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Unavailable(t, format, args...)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
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

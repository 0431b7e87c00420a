package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"pigeon/internal/browser"
	"pigeon/internal/netlab"
)

// The page a WebRTC tutorial writes (internal/browser's tutorial page:
// an announced channel "chat" when it offers, ondatachannel when it
// answers, default settings with mDNS host candidates, base64 JSON of
// JSON.stringify(pc.localDescription)), in headless Chromium and Firefox
// ESR, driven like a person by the names of its controls, against the
// pigeon binary. A line crosses each way, and both end cleanly.

// tutorialBudget bounds each test, the browser's start and stop included.
const tutorialBudget = 90 * time.Second

var browsers = []string{"chromium", "firefox"}

// openTutorial starts the browser on the tutorial page.
func openTutorial(t *testing.T, name string) *browser.Page {
	t.Helper()
	page := browser.Start(t, name)
	page.Open(browser.TutorialURL(t))
	return page
}

// TestTutorialOffersToPigeon: the page offers, `pigeon join` answers, and
// the page closing its channel ends the chat for pigeon.
func TestTutorialOffersToPigeon(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tutorialBudget)
			defer cancel()
			page := openTutorial(t, name)
			dir := t.TempDir()

			page.Click("button", "Create offer")
			offer := page.WaitText("textbox", "Local description", "eyJ", 20*time.Second)
			placeFile(t, filepath.Join(dir, "offer"), offer)
			p := startPigeon(t, ctx, dir, "join", "--in", "offer", "--out", "answer")
			answer := waitForFile(t, ctx, filepath.Join(dir, "answer"))
			if !strings.HasPrefix(answer, "eyJ") {
				t.Fatalf("pigeon answered a base64 JSON offer with %.40q", answer)
			}
			page.Fill("textbox", "Remote description", strings.TrimSpace(answer))
			page.Click("button", "Accept answer")
			page.WaitText("status", "Connection", "connected, channel open", 20*time.Second)

			talkToTutorial(t, ctx, page, p, name)

			page.Click("button", "Close")
			if code := p.wait(t, ctx); code != 0 {
				t.Fatalf("pigeon join exited with %d after the page closed", code)
			}
			if !strings.Contains(p.stderr.String(), "pigeon: the other side closed the chat\n") {
				t.Error("pigeon did not say that the other side closed the chat")
			}
		})
	}
}

// TestPigeonOffersToTutorial: `pigeon chat --format json` offers, the
// page answers in its ondatachannel, and pigeon's input ending closes the
// page's channel.
func TestPigeonOffersToTutorial(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tutorialBudget)
			defer cancel()
			page := openTutorial(t, name)
			dir := t.TempDir()

			p := startPigeon(t, ctx, dir, "chat", "--format", "json", "--out", "offer", "--in", "answer")
			offer := waitForFile(t, ctx, filepath.Join(dir, "offer"))
			page.Fill("textbox", "Remote description", strings.TrimSpace(offer))
			page.Click("button", "Create answer")
			answer := page.WaitText("textbox", "Local description", "eyJ", 20*time.Second)
			placeFile(t, filepath.Join(dir, "answer"), answer)
			page.WaitText("status", "Connection", "connected, channel open", 20*time.Second)

			talkToTutorial(t, ctx, page, p, name)

			p.stdin.Close()
			if code := p.wait(t, ctx); code != 0 {
				t.Fatalf("pigeon chat exited with %d", code)
			}
			if !strings.Contains(p.stderr.String(), "pigeon: chat ended\n") {
				t.Error("pigeon did not end the chat")
			}
			page.WaitText("status", "Connection", "channel closed", 10*time.Second)
		})
	}
}

// talkToTutorial checks what pigeon says of the page once connected, and
// sends a line each way: typed into pigeon's input, and into the page's
// Message field.
func talkToTutorial(t *testing.T, ctx context.Context, page *browser.Page, p *pigeonProcess, name string) {
	t.Helper()
	program := map[string]string{"chromium": `a browser built on libwebrtc \(Chromium, Chrome, Edge, Safari\)`, "firefox": `Firefox`}[name]
	says := regexp.MustCompile(`pigeon: the other side is ` + program + `, not pigeon: the chat runs over its data channel "chat", one text message a line\n`)
	waitUntil(t, ctx, "pigeon says what the other side is", func() bool { return says.MatchString(p.stderr.String()) })
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.HasPrefix(line, "pigeon: connected: ") {
			t.Logf("%s %s: %s", name, page.Version(), line)
		}
	}

	if _, err := p.stdin.Write([]byte("hello from pigeon\n")); err != nil {
		t.Fatal(err)
	}
	page.WaitText("list", "Messages", "hello from pigeon", 10*time.Second)

	page.Fill("textbox", "Message", "hello from "+name)
	page.Click("button", "Send")
	waitUntil(t, ctx, "the page's line reaches pigeon", func() bool { return p.stdout.String() == "hello from "+name+"\n" })

	// A binary message (the tutorial page has no control for one) is
	// reported on standard error, not printed among the lines.
	page.Eval(`dc.send(new Uint8Array([0, 1, 2])), ""`)
	waitUntil(t, ctx, "pigeon reports the binary message", func() bool {
		return strings.Contains(p.stderr.String(), "pigeon: the other side sent a binary message (3 B), not shown: a chat shows text messages\n")
	})
	if got := p.stdout.String(); got != "hello from "+name+"\n" {
		t.Errorf("pigeon printed %q", got)
	}
	if strings.Contains(p.stderr.String(), "pigeon: error") {
		t.Errorf("pigeon reported an error")
	}
}

// testTutorialOnLAN: Chromium on one computer of a LAN, pigeon on another
// (network namespaces), the browser with its default mDNS names: pigeon
// resolves the browser's name on the LAN and reaches it at its own host
// candidate, whichever side offers, and its path report says so.
func testTutorialOnLAN(t *testing.T) {
	// A home LAN: a router (with no way out, as every lab) is the
	// default route. Chromium gathers candidates on the interface of its
	// default route only, unless the page may use the camera: without
	// one it offers none.
	lab := newLab(t)
	lan := lab.LAN("lan", "192.168.41.0/24")
	router := lab.Router("router", lab.LAN("wan", "198.51.100.0/24"), lan, netlab.EndpointIndependent)
	a, b := lab.Host("a"), lab.Host("b")
	lan.Attach(a, "eth0")
	lan.Attach(b, "eth0")
	a.DefaultRoute(router.LAN.Addr)
	b.DefaultRoute(router.LAN.Addr)
	page := browser.StartIn(t, browser.Chromium, b.NS)
	bin := pigeonPath(t)
	named := regexp.MustCompile(`^pigeon: connected: host 192\.168\.41\.2:\d+ <-> host 192\.168\.41\.3:\d+ over udp, .*; the other side's address was behind the mDNS name [0-9a-f-]+\.local, resolved on the LAN$`)
	for _, pigeonOffers := range []bool{false, true} {
		page.Open(browser.TutorialFile(t))
		dir := t.TempDir()
		offer, answer := filepath.Join(dir, "offer"), filepath.Join(dir, "answer")
		var p *netlab.Proc
		if pigeonOffers {
			p = a.Start(60*time.Second, bin, "chat", "--format", "json", "--out", offer, "--in", answer)
			waitFile(t, offer, 10*time.Second)
			page.Fill("textbox", "Remote description", strings.TrimSpace(readText(t, offer)))
			page.Click("button", "Create answer")
			placeFile(t, answer, page.WaitText("textbox", "Local description", "eyJ", 20*time.Second))
		} else {
			page.Click("button", "Create offer")
			placeFile(t, offer, page.WaitText("textbox", "Local description", "eyJ", 20*time.Second))
			p = a.Start(60*time.Second, bin, "join", "--in", offer, "--out", answer)
			waitFile(t, answer, 10*time.Second)
			page.Fill("textbox", "Remote description", strings.TrimSpace(readText(t, answer)))
			page.Click("button", "Accept answer")
		}
		page.WaitText("status", "Connection", "connected, channel open", 20*time.Second)
		line, _, ok := p.WaitStderr(named, 10*time.Second)
		if !ok {
			t.Fatalf("pigeon offers %v: no path to the browser's resolved host candidate:\n%s", pigeonOffers, p.Stderr())
		}
		t.Logf("pigeon offers %v: %s", pigeonOffers, line)
		page.Fill("textbox", "Message", "hello across the LAN")
		page.Click("button", "Send")
		if _, _, ok := p.WaitStdout(regexp.MustCompile(`^hello across the LAN$`), 10*time.Second); !ok {
			t.Fatalf("the line did not reach pigeon:\n%s", p.Stderr())
		}
		page.Click("button", "Close")
		if code, err := p.Wait(15 * time.Second); err != nil || code != 0 {
			t.Fatalf("pigeon: exit %d, %v\n%s", code, err, p.Stderr())
		}
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

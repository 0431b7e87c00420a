package browser

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// capture rewrites sdpcodec/testdata/foreign/ with the descriptions these
// tests see: go test ./internal/browser -run PageToPage -capture.
var capture = flag.Bool("capture", false, "write the browsers' descriptions to sdpcodec/testdata/foreign")

// TestPageToPage: the tutorial page in one browser offers, the page in the
// other answers, the descriptions carried by copy and paste as a person
// carries them; a message crosses each way, and closing one page's
// channel and connection ends the other's channel cleanly.
func TestPageToPage(t *testing.T) {
	for _, c := range []struct{ offerer, answerer string }{{Chromium, Firefox}, {Firefox, Chromium}} {
		t.Run(c.offerer+"-to-"+c.answerer, func(t *testing.T) {
			t.Parallel()
			url := TutorialURL(t)
			off, ans := Start(t, c.offerer), Start(t, c.answerer)
			off.Open(url)
			ans.Open(url)

			off.Click("button", "Create offer")
			offer := off.WaitText("textbox", "Local description", "eyJ", 20*time.Second)
			ans.Fill("textbox", "Remote description", offer)
			ans.Click("button", "Create answer")
			answer := ans.WaitText("textbox", "Local description", "eyJ", 20*time.Second)
			off.Fill("textbox", "Remote description", answer)
			off.Click("button", "Accept answer")
			for _, p := range []*Page{off, ans} {
				p.WaitText("status", "Connection", "connected, channel open", 20*time.Second)
			}
			if *capture {
				save(t, off, "offer", offer)
				save(t, ans, "answer", answer)
			}

			off.Fill("textbox", "Message", "hello from "+c.offerer)
			off.Click("button", "Send")
			ans.WaitText("list", "Messages", "hello from "+c.offerer, 10*time.Second)
			ans.Fill("textbox", "Message", "hello from "+c.answerer)
			ans.Click("button", "Send")
			off.WaitText("list", "Messages", "hello from "+c.answerer, 10*time.Second)

			off.Click("button", "Close")
			off.WaitText("status", "Connection", "closed, channel closed", 10*time.Second)
			ans.WaitText("status", "Connection", "channel closed", 10*time.Second)
			for _, p := range []*Page{off, ans} {
				if text := p.Eval(`document.querySelector("[role=alert]").textContent`); text != "" {
					t.Errorf("%s shows an error: %s", p.Browser(), text)
				}
			}
		})
	}
}

// save writes a browser's description as a test vector of sdpcodec's
// foreign descriptions: a header, an empty line, the text as the page
// showed it.
func save(t *testing.T, p *Page, kind, text string) {
	t.Helper()
	product, version, _ := strings.Cut(p.Version(), "/")
	major, _, _ := strings.Cut(version, ".")
	name := fmt.Sprintf("%s-%s-%s.txt", p.Browser(), major, kind)
	header := fmt.Sprintf("kind: %s\nprogram: %s %s\nformat: base64 JSON\ncomment: the tutorial page (internal/browser/tutorial.html) in headless %s, default settings, one network interface; captured %s\n\n",
		kind, product, version, p.Browser(), time.Now().UTC().Format("2006-01-02"))
	path := filepath.Join("..", "..", "sdpcodec", "testdata", "foreign", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(header+strings.TrimSpace(text)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d characters)", path, len(strings.TrimSpace(text)))
}

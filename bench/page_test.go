package bench

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"pigeon/internal/browser"
)

// BenchmarkSendToPage: `pigeon send` of a 256 MiB file to pigeon's page
// (`pigeon web`) in headless Chromium, which verifies it by SHA-256 and
// holds it for saving, from pigeon's start to the page's summary; beside
// it, in the same run, the same file to `pigeon join`, and from the page in
// one Chromium to the page in another (the browser's own data channel at
// both ends, from the sender's choice of the file to the receiver's
// summary). The page's steps
// (paste the offer, copy the answer, Accept) are the driver's, milliseconds
// each.
//
//	go test -run '^$' -bench SendToPage -benchtime 1x -count 3 ./bench/
func BenchmarkSendToPage(b *testing.B) {
	dir := b.TempDir()
	pigeon := build(b, dir, "pigeon/cmd/pigeon")
	const size = 256 << 20
	src := filepath.Join(dir, "file")
	writeRandom(b, src, size)

	b.Run("join", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			sendOnce(b, here, pigeon, dir, src)
		}
	})
	b.Run("chromium-to-chromium", func(b *testing.B) {
		url := serveWeb(b, pigeon)
		sender, receiver := browser.Start(b, browser.Chromium), browser.Start(b, browser.Chromium)
		b.SetBytes(size)
		for b.Loop() {
			pageToPage(b, sender, receiver, url, src)
		}
	})
	b.Run("chromium-page", func(b *testing.B) {
		url := serveWeb(b, pigeon)
		page := browser.Start(b, browser.Chromium)
		b.SetBytes(size)
		for b.Loop() {
			sendToPage(b, page, url, pigeon, dir, src)
		}
	})
}

var blobPattern = regexp.MustCompile(`PIGEON[A-Z2-7]+`)

// sendToPage times one transfer to a freshly loaded page.
func sendToPage(b *testing.B, page *browser.Page, url, pigeon, dir, src string) {
	b.Helper()
	b.StopTimer()
	page.Open(url)
	work, offer, answer := runDir(b, dir)
	defer os.RemoveAll(work)
	send := exec.Command(pigeon, "send", "--out", offer, "--in", answer, src)
	b.StartTimer()
	if err := send.Start(); err != nil {
		b.Fatal(err)
	}
	page.Fill("textbox", "Blob from the other side", waitFile(b, offer))
	page.Click("button", "Connect")
	blob := blobPattern.FindString(page.WaitText("region", "Your blob", "PIGEON", 20*time.Second))
	if err := os.WriteFile(answer+".tmp", []byte(blob+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(answer+".tmp", answer); err != nil {
		b.Fatal(err)
	}
	page.Click("button", "Accept")
	page.WaitText("status", "Transfer", "received 1 file", 5*time.Minute)
	if err := send.Wait(); err != nil {
		b.Fatalf("pigeon send: %v", err)
	}
	b.StopTimer()
	b.ReportMetric(peakMiB(send), "send-peak-MiB")
	b.StartTimer() // b.Loop wants it running
}

// waitFile waits for a blob file to be written and returns its text.
func waitFile(b *testing.B, path string) string {
	b.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 && data[len(data)-1] == '\n' {
			return strings.TrimSpace(string(data))
		}
	}
	b.Fatalf("%s was not written", path)
	return ""
}

// serveWeb runs `pigeon web --no-open` until the benchmark ends and
// returns the page's URL.
func serveWeb(b *testing.B, pigeon string) string {
	b.Helper()
	cmd := exec.Command(pigeon, "web", "--no-open")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("pigeon web: %v", err)
	}
	return strings.TrimSpace(line)
}

// pageToPage times one transfer between two freshly loaded pages.
func pageToPage(b *testing.B, sender, receiver *browser.Page, url, src string) {
	b.Helper()
	b.StopTimer()
	sender.Open(url)
	receiver.Open(url)
	b.StartTimer()
	sender.Choose("button", "Send files", src)
	receiver.Fill("textbox", "Blob from the other side", blobPattern.FindString(sender.WaitText("region", "Your blob", "PIGEON", 20*time.Second)))
	receiver.Click("button", "Connect")
	sender.Fill("textbox", "Blob from the other side", blobPattern.FindString(receiver.WaitText("region", "Your blob", "PIGEON", 20*time.Second)))
	sender.Click("button", "Connect")
	receiver.Click("button", "Accept")
	receiver.WaitText("status", "Transfer", "received 1 file", 5*time.Minute)
	b.StopTimer()
	b.StartTimer() // b.Loop wants it running
}

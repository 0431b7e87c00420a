package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"pigeon/internal/browser"
)

// pigeon's own page (package web), served by `pigeon web`, in headless
// Chromium and Firefox ESR with their default settings (mDNS host
// candidates), driven like a person by the names of its controls, against
// the pigeon binary: the blobs are pigeon blobs both ways, and the page
// speaks pigeon's chat and transfer protocols.

const pageBudget = 90 * time.Second

var (
	blobText = regexp.MustCompile(`PIGEON[A-Z2-7]+`)
	codeText = regexp.MustCompile(`verification code (\d{3}-\d{3})`)
)

// servePage runs `pigeon web --no-open` and returns the page's URL.
func servePage(t *testing.T, ctx context.Context) string {
	t.Helper()
	p := startPigeon(t, ctx, t.TempDir(), "web", "--no-open")
	var url string
	waitUntil(t, ctx, "pigeon web prints the URL", func() bool {
		line, _ := bufio.NewReader(strings.NewReader(p.stdout.String())).ReadString('\n')
		url = strings.TrimSpace(line)
		return strings.HasSuffix(line, "\n")
	})
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("pigeon web printed %q", url)
	}
	return url
}

// openPage starts the browser on pigeon's page.
func openPage(t *testing.T, ctx context.Context, name string) *browser.Page {
	t.Helper()
	page := browser.Start(t, name)
	page.Open(servePage(t, ctx))
	return page
}

// ownBlob waits for the page's blob and returns it.
func ownBlob(t *testing.T, page *browser.Page) string {
	t.Helper()
	text := page.WaitText("region", "Your blob", "PIGEON", 20*time.Second)
	blob := blobText.FindString(text)
	if blob == "" {
		t.Fatalf("no blob in the region Your blob: %q", text)
	}
	return blob
}

// sameCode checks that the page shows pigeon's verification code.
func sameCode(t *testing.T, ctx context.Context, page *browser.Page, p *pigeonProcess) {
	t.Helper()
	var code string
	waitUntil(t, ctx, "pigeon shows the verification code", func() bool {
		m := codeText.FindStringSubmatch(p.stderr.String())
		if m != nil {
			code = m[1]
		}
		return m != nil
	})
	if !strings.Contains(p.stderr.String(), "pigeon: the other side is pigeon's page in a browser: if a network changes, the session ends (a page cannot restart it)\n") {
		t.Error("pigeon did not say that the other side is its page")
	}
	if got := page.Text("status", "Verification code"); got != code {
		t.Errorf("the page shows the verification code %q, pigeon %q", got, code)
	}
}

// chatWithPage sends a line each way.
func chatWithPage(t *testing.T, ctx context.Context, page *browser.Page, p *pigeonProcess, name string) {
	t.Helper()
	if _, err := p.stdin.Write([]byte("hello from pigeon\n")); err != nil {
		t.Fatal(err)
	}
	page.WaitText("log", "Messages", "peer: hello from pigeon", 10*time.Second)
	page.Fill("textbox", "Message", "hello from "+name)
	page.Click("button", "Send")
	waitUntil(t, ctx, "the page's line reaches pigeon", func() bool { return strings.Contains(p.stdout.String(), "hello from "+name+"\n") })
	page.WaitText("log", "Messages", "you: hello from "+name, 10*time.Second)
}

// TestPageOffersChat: the page starts a chat, `pigeon join` answers its
// offer (a version 2 blob), the page connects with pigeon's answer; a line
// crosses each way, and leaving on the page ends pigeon's chat with the
// goodbye.
func TestPageOffersChat(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
			defer cancel()
			page := openPage(t, ctx, name)
			dir := t.TempDir()

			page.Click("button", "Start a chat")
			offer := ownBlob(t, page)
			placeFile(t, filepath.Join(dir, "offer"), offer)
			p := startPigeon(t, ctx, dir, "join", "--in", "offer", "--out", "answer")
			answer := waitForFile(t, ctx, filepath.Join(dir, "answer"))
			if !strings.HasPrefix(answer, "PIGEON") {
				t.Fatalf("pigeon answered the page's offer with %.40q", answer)
			}
			page.Fill("textbox", "Blob from the other side", answer)
			page.Click("button", "Connect")
			page.WaitText("status", "Connection", "connected", 20*time.Second)
			sameCode(t, ctx, page, p)
			chatWithPage(t, ctx, page, p, name)

			page.Click("button", "Leave the chat")
			page.WaitText("status", "Connection", "chat ended", 10*time.Second)
			if code := p.wait(t, ctx); code != 0 {
				t.Fatalf("pigeon join exited with %d after the page left", code)
			}
			t.Logf("%s %s, pigeon: %s", name, page.Version(), strings.TrimSpace(p.stderr.String()))
		})
	}
}

// TestPigeonOffersChatToPage: `pigeon chat` offers, the page answers with a
// version 2 blob, and pigeon's input ending says goodbye to the page.
func TestPigeonOffersChatToPage(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
			defer cancel()
			page := openPage(t, ctx, name)
			dir := t.TempDir()

			p := startPigeon(t, ctx, dir, "chat", "--out", "offer", "--in", "answer")
			offer := waitForFile(t, ctx, filepath.Join(dir, "offer"))
			page.Fill("textbox", "Blob from the other side", offer)
			page.Click("button", "Connect")
			answer := ownBlob(t, page)
			placeFile(t, filepath.Join(dir, "answer"), answer)
			page.WaitText("status", "Connection", "connected", 20*time.Second)
			sameCode(t, ctx, page, p)
			chatWithPage(t, ctx, page, p, name)

			p.stdin.Close()
			if code := p.wait(t, ctx); code != 0 {
				t.Fatalf("pigeon chat exited with %d", code)
			}
			page.WaitText("status", "Connection", "the peer left the chat", 10*time.Second)
		})
	}
}

// TestPageToPage: Chromium's page offers, Firefox's answers, and the other
// way round: pigeon's page on both ends.
func TestPageToPage(t *testing.T) {
	for _, c := range []struct{ offerer, answerer string }{{"chromium", "firefox"}, {"firefox", "chromium"}} {
		t.Run(c.offerer+"-to-"+c.answerer, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
			defer cancel()
			off, ans := openPage(t, ctx, c.offerer), openPage(t, ctx, c.answerer)
			off.Click("button", "Start a chat")
			ans.Fill("textbox", "Blob from the other side", ownBlob(t, off))
			ans.Click("button", "Connect")
			off.Fill("textbox", "Blob from the other side", ownBlob(t, ans))
			off.Click("button", "Connect")
			for _, p := range []*browser.Page{off, ans} {
				p.WaitText("status", "Connection", "connected", 20*time.Second)
			}
			if a, b := off.Text("status", "Verification code"), ans.Text("status", "Verification code"); a != b || len(a) != 7 {
				t.Errorf("verification codes %q and %q", a, b)
			}
			off.Fill("textbox", "Message", "hello from "+c.offerer)
			off.Click("button", "Send")
			ans.WaitText("log", "Messages", "peer: hello from "+c.offerer, 10*time.Second)
			ans.Fill("textbox", "Message", "hello from "+c.answerer)
			ans.Click("button", "Send")
			off.WaitText("log", "Messages", "peer: hello from "+c.answerer, 10*time.Second)
			ans.Click("button", "Leave the chat")
			off.WaitText("status", "Connection", "the peer left the chat", 10*time.Second)
		})
	}
}

// TestPageBadPaste: what the page says of bad pastes, in the CLI's words.
func TestPageBadPaste(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
	defer cancel()
	page := openPage(t, ctx, "chromium")
	vector := func(name string) string {
		_, body, _ := strings.Cut(readText(t, filepath.Join("..", "..", "sdpcodec", "testdata", name+".txt")), "\n\n")
		return body
	}
	for _, c := range []struct{ paste, says string }{
		{vector("truncated"), "blob is incomplete: it ends too early; copy the whole blob"},
		{"hello there", "not a pigeon blob: a pigeon blob starts with PIGEON"},
		{vector("damaged_character"), "blob is damaged: character '0' at position 12 cannot appear in a blob"},
		{vector("newer_version"), "blob uses format version 4; this pigeon reads versions 1 to 3"},
	} {
		page.Fill("textbox", "Blob from the other side", c.paste)
		page.Click("button", "Connect")
		page.WaitText("alert", "Problem", c.says, 10*time.Second)
	}
	page.Click("button", "Start a chat")
	offer := ownBlob(t, page)
	page.Fill("textbox", "Blob from the other side", offer)
	page.Click("button", "Connect")
	page.WaitText("alert", "Problem", "this is our own offer, pasted back", 10*time.Second)
}

// receivedFiles returns, for each link in the page's Received files, its
// name, size and SHA-256, read from the blob the link would save.
func receivedFiles(t *testing.T, page *browser.Page) map[string]string {
	t.Helper()
	out := page.Eval(`(async () => {
		const got = {};
		for (const a of document.querySelectorAll("#received-list a")) {
			const b = await (await fetch(a.href)).arrayBuffer();
			const h = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
			got[a.textContent] = b.byteLength + " " + Array.from(h, (x) => x.toString(16).padStart(2, "0")).join("");
		}
		return JSON.stringify(got);
	})()`)
	got := map[string]string{}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("reading the received files: %v (%s)", err, out)
	}
	return got
}

// fileSum is a file's size and SHA-256 as receivedFiles writes them.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %x", len(data), sha256.Sum256(data))
}

// TestPigeonSendsToPage: `pigeon send` of a 20 MiB file and a folder; the
// page accepts, verifies each file by SHA-256 and offers it for saving
// under its name; the saved bytes are the sent ones.
func TestPigeonSendsToPage(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
			defer cancel()
			page := openPage(t, ctx, name)
			dir := t.TempDir()
			big := make([]byte, 20<<20)
			if _, err := rand.Read(big); err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, filepath.Join(dir, "big.bin"), big)
			writeTestFile(t, filepath.Join(dir, "notes", "todo.txt"), []byte("milk\neggs\n"))
			writeTestFile(t, filepath.Join(dir, "notes", "old", "empty.txt"), nil)

			p := startPigeon(t, ctx, dir, "send", "big.bin", "notes", "--out", "offer", "--in", "answer")
			page.Fill("textbox", "Blob from the other side", waitForFile(t, ctx, filepath.Join(dir, "offer")))
			page.Click("button", "Connect")
			placeFile(t, filepath.Join(dir, "answer"), ownBlob(t, page))
			page.WaitText("status", "Connection", "connected", 20*time.Second)
			page.Click("button", "Accept")
			summary := page.WaitText("status", "Transfer", "received 3 files", 60*time.Second)
			t.Logf("%s: %s", name, summary)
			if code := p.wait(t, ctx); code != 0 {
				t.Fatalf("pigeon send exited with %d", code)
			}
			got := receivedFiles(t, page)
			for _, f := range []string{"big.bin", "notes/todo.txt", "notes/old/empty.txt"} {
				if want := fileSum(t, filepath.Join(dir, f)); got[f] != want {
					t.Errorf("the page offers %s as %q, want %q", f, got[f], want)
				}
			}
			if len(got) != 3 {
				t.Errorf("the page offers %d files: %v", len(got), got)
			}
		})
	}
}

// TestPageSendsToPigeon: the page sends a chosen file to `pigeon join`.
func TestPageSendsToPigeon(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
			defer cancel()
			page := openPage(t, ctx, name)
			dir := t.TempDir()
			data := make([]byte, 3<<20+17)
			if _, err := rand.Read(data); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(t.TempDir(), "photo.jpg")
			writeTestFile(t, src, data)

			if err := os.Mkdir(filepath.Join(dir, "in"), 0o755); err != nil {
				t.Fatal(err)
			}
			page.Choose("button", "Send files", src)
			placeFile(t, filepath.Join(dir, "offer"), ownBlob(t, page))
			p := startPigeon(t, ctx, dir, "join", "--yes", "--dir", "in", "--in", "offer", "--out", "answer")
			page.Fill("textbox", "Blob from the other side", waitForFile(t, ctx, filepath.Join(dir, "answer")))
			page.Click("button", "Connect")
			page.WaitText("status", "Transfer", "sent 1 file", 60*time.Second)
			if code := p.wait(t, ctx); code != 0 {
				t.Fatalf("pigeon join exited with %d", code)
			}
			if got, want := fileSum(t, filepath.Join(dir, "in", "photo.jpg")), fileSum(t, src); got != want {
				t.Errorf("pigeon received %s, want %s", got, want)
			}
		})
	}
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPageScansQRCode: Chromium's camera (a fake device showing a video of
// pigeon chat's QR code) is all that carries the offer: the page scans it,
// answers, and the chat connects once the answer is carried back.
func TestPageScansQRCode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
	defer cancel()
	dir := t.TempDir()
	p := startPigeon(t, ctx, dir, "chat", "--qr-png", "offer.png", "--in", "answer")
	waitForFile(t, ctx, filepath.Join(dir, "offer.png"))
	f, err := os.Open(filepath.Join(dir, "offer.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(dir, "camera.y4m")
	if err := browser.WriteY4M(video, img, 640, 480, 10); err != nil {
		t.Fatal(err)
	}
	page := browser.StartWithCamera(t, video)
	page.Open(servePage(t, ctx))
	page.Click("button", "Scan a QR code")
	placeFile(t, filepath.Join(dir, "answer"), ownBlob(t, page))
	page.WaitText("status", "Connection", "connected", 20*time.Second)
	sameCode(t, ctx, page, p)
	chatWithPage(t, ctx, page, p, "chromium")
}

// screenshots rewrites the README's pictures of the page:
// go test ./cmd/pigeon -run TestPageOnPhoneAndDesktop -screenshots
var screenshots = flag.Bool("screenshots", false, "write the page's screenshots to doc/")

// TestPageOnPhoneAndDesktop: with its offer and QR code showing, the page
// fits a phone's 390 CSS pixels without scrolling sideways, and a
// desktop's window; every button can be reached with the keyboard.
func TestPageOnPhoneAndDesktop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
	defer cancel()
	page := openPage(t, ctx, "chromium")
	page.Click("button", "Start a chat")
	ownBlob(t, page)
	dir := t.TempDir()
	if *screenshots {
		var err error
		if dir, err = filepath.Abs(filepath.Join("..", "..", "doc")); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []struct {
		name          string
		width, height int
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		page.Screenshot(filepath.Join(dir, "page-"+v.name+".png"), v.width, v.height)
		if wide := page.Eval(`String(document.documentElement.scrollWidth)`); wide != fmt.Sprint(v.width) {
			t.Errorf("on a %s (%d pixels wide) the page is %s pixels wide", v.name, v.width, wide)
		}
	}
	unreachable := page.Eval(`JSON.stringify([...document.querySelectorAll("button, input, textarea")].filter((e) => e.tabIndex < 0 && e.type !== "file").map((e) => e.id))`)
	if unreachable != "[]" {
		t.Errorf("controls the keyboard cannot reach: %s", unreachable)
	}
	unnamed := page.Eval(`JSON.stringify([...document.querySelectorAll("button, input:not([type=file]), textarea")].filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim()).map((e) => e.id))`)
	if unnamed != "[]" {
		t.Errorf("controls without a visible label: %s", unnamed)
	}
}

// TestPageReadsQRImage: the offer reaches the page only as the PNG of its
// QR code that `pigeon chat --qr-png` wrote, read with "Read a QR code
// image" (jsQR in Firefox, BarcodeDetector or jsQR in Chromium).
func TestPageReadsQRImage(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
			defer cancel()
			page := openPage(t, ctx, name)
			dir := t.TempDir()
			p := startPigeon(t, ctx, dir, "chat", "--qr-png", "offer.png", "--in", "answer")
			waitUntil(t, ctx, "pigeon writes offer.png", func() bool {
				return strings.Contains(p.stderr.String(), "pigeon: wrote the QR code to offer.png")
			})
			page.Choose("button", "Read a QR code image", filepath.Join(dir, "offer.png"))
			placeFile(t, filepath.Join(dir, "answer"), ownBlob(t, page))
			page.WaitText("status", "Connection", "connected", 20*time.Second)
			chatWithPage(t, ctx, page, p, name)
		})
	}
}

// TestSavedPageFromFile: the page `pigeon web --save` writes works from
// file://, with no server: it makes its offer and draws its QR code.
func TestSavedPageFromFile(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
			defer cancel()
			dir := t.TempDir()
			if code := startPigeon(t, ctx, dir, "web", "--save", "pigeon.html").wait(t, ctx); code != 0 {
				t.Fatalf("pigeon web --save exited with %d", code)
			}
			page := browser.Start(t, name)
			page.Open("file://" + filepath.Join(dir, "pigeon.html"))
			page.Click("button", "Start a chat")
			ownBlob(t, page)
			if got := page.Eval(`String(document.querySelectorAll("#own-qr img").length)`); got != "1" {
				t.Errorf("the saved page drew %s QR codes", got)
			}
		})
	}
}

// TestWebListen: --listen serves the page to the network, says where, and
// draws the URL as a QR code; it serves the page and nothing else.
func TestWebListen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
	defer cancel()
	p := startPigeon(t, ctx, t.TempDir(), "web", "--listen", "0.0.0.0:0")
	waitUntil(t, ctx, "pigeon web draws the QR code", func() bool {
		return strings.Contains(p.stderr.String(), "pigeon: press Ctrl-C to stop serving it")
	})
	url := strings.TrimSpace(p.stdout.String())
	if !strings.Contains(p.stderr.String(), "pigeon: the page is served to this network at "+url+"; open it on the other device, or scan this:") ||
		!strings.Contains(p.stderr.String(), "█") {
		t.Fatalf("pigeon web --listen said:\n%s", p.stderr.String())
	}
	port := strings.TrimSuffix(url[strings.LastIndex(url, ":"):], "/")
	local := "http://127.0.0.1" + port
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/", 200}, {"HEAD", "/", 200}, {"GET", "/offer", 404}, {"POST", "/", 405}} {
		req, err := http.NewRequestWithContext(ctx, c.method, local+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %s, want %d", c.method, c.path, resp.Status, c.status)
		}
		if c.status == 200 && c.method == "GET" && !strings.Contains(string(body), "connect-src blob:") {
			t.Errorf("GET / did not serve the page")
		}
	}
}

// roomOffer waits for `pigeon room`'s offer for guest n and returns it.
func roomOffer(t *testing.T, ctx context.Context, host *pigeonProcess, n int) string {
	t.Helper()
	intro := fmt.Sprintf("Offer for guest %d; ", n)
	var offer string
	waitUntil(t, ctx, fmt.Sprintf("the host shows the offer for guest %d", n), func() bool {
		_, after, ok := strings.Cut(host.stderr.String(), intro)
		offer = blobText.FindString(after)
		return ok && offer != ""
	})
	return offer
}

// TestPageJoinsRoom: the page answers `pigeon room`'s offer for a guest
// and enters the room under the name typed; a pigeon guest joins after
// it. The page keeps to its connection to the host: the pigeon guest says
// so at once, and lines cross among the three through the host. The page
// gets the host's folder, and the guest's file through the host. Leaving
// on the page is announced to the others.
func TestPageJoinsRoom(t *testing.T) {
	for _, name := range browsers {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), pageBudget)
			defer cancel()
			page := openPage(t, ctx, name)
			hostDir := t.TempDir()
			host := startPigeon(t, ctx, hostDir, "room", "--name", "ann")

			page.Fill("textbox", "Blob from the other side", roomOffer(t, ctx, host, 1))
			page.Click("button", "Connect")
			page.Fill("textbox", "Your name in the room", "eve")
			if _, err := host.stdin.Write([]byte(ownBlob(t, page) + "\n")); err != nil {
				t.Fatal(err)
			}
			page.WaitText("status", "Connection", "connected", 20*time.Second)
			page.WaitText("log", "Messages", "pigeon: you are in ann's room as eve, with ann", 10*time.Second)

			dir := t.TempDir()
			placeFile(t, filepath.Join(dir, "offer"), roomOffer(t, ctx, host, 2))
			bob := startPigeon(t, ctx, dir, "join", "--in", "offer", "--out", "answer", "--name", "bob")
			if _, err := host.stdin.Write([]byte(waitForFile(t, ctx, filepath.Join(dir, "answer")) + "\n")); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, ctx, "bob says eve is reached through the host", func() bool {
				return strings.Contains(bob.stderr.String(), "pigeon: eve is not reachable directly (it is pigeon's page in a browser, which connects to the host only): lines to and from eve go through the host\n")
			})
			page.WaitText("log", "Messages", "pigeon: bob joined the room", 10*time.Second)
			page.WaitText("status", "Members", "ann, bob", 10*time.Second)

			page.Fill("textbox", "Message", "hello from "+name)
			page.Click("button", "Send")
			for who, p := range map[string]*pigeonProcess{"ann": host, "bob": bob} {
				waitUntil(t, ctx, "the page's line reaches "+who, func() bool {
					return strings.Contains(p.stdout.String(), "eve: hello from "+name+"\n")
				})
			}
			for who, p := range map[string]*pigeonProcess{"ann": host, "bob": bob} {
				if _, err := p.stdin.Write([]byte("hello from " + who + "\n")); err != nil {
					t.Fatal(err)
				}
				page.WaitText("log", "Messages", who+": hello from "+who, 10*time.Second)
			}
			waitUntil(t, ctx, "bob hears ann", func() bool { return strings.Contains(bob.stdout.String(), "ann: hello from ann\n") })

			// Files offered to the room: the host's folder, and bob's file,
			// which the host carries from bob to the page.
			files := t.TempDir()
			big := make([]byte, 3<<20)
			if _, err := rand.Read(big); err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, filepath.Join(files, "photos", "a.jpg"), big)
			writeTestFile(t, filepath.Join(files, "photos", "trip", "b.txt"), []byte("day one\n"))
			writeTestFile(t, filepath.Join(files, "notes.txt"), []byte("from bob\n"))
			if _, err := host.stdin.Write([]byte("/send " + filepath.Join(files, "photos") + "\n")); err != nil {
				t.Fatal(err)
			}
			page.Click("button", `Get "photos/" from ann`)
			page.WaitText("status", "Transfer", "received 2 files", 30*time.Second)
			waitUntil(t, ctx, "ann hears the photos reached eve", func() bool {
				return strings.Contains(host.stderr.String(), `pigeon: "photos/" reached eve: 2 files`)
			})
			if _, err := bob.stdin.Write([]byte("/send " + filepath.Join(files, "notes.txt") + "\n")); err != nil {
				t.Fatal(err)
			}
			page.Click("button", `Get "notes.txt" from bob`)
			page.WaitText("log", "Messages", `pigeon: "notes.txt" from bob: received 1 file`, 30*time.Second)
			got := receivedFiles(t, page)
			for path, file := range map[string]string{"photos/a.jpg": "photos/a.jpg", "photos/trip/b.txt": "photos/trip/b.txt", "notes.txt": "notes.txt"} {
				if want := fileSum(t, filepath.Join(files, file)); got[path] != want {
					t.Errorf("the page offers %s as %q, want %q", path, got[path], want)
				}
			}

			// The page's file: ann gets it over her connection to the page,
			// bob through ann, who carries it.
			photo := filepath.Join(t.TempDir(), "photo.jpg")
			writeTestFile(t, photo, big[:1<<20+5])
			page.Choose("button", "Send files to the room", photo)
			page.WaitText("log", "Messages", `pigeon: you offered "photo.jpg" (1 file, 1.0 MiB) to the room`, 10*time.Second)
			offered := regexp.MustCompile(`pigeon: eve offers "photo.jpg" \(1 file, 1\.0 MiB\): /get (\d+) `)
			for who, p := range map[string]*pigeonProcess{"ann": host, "bob": bob} {
				var n string
				waitUntil(t, ctx, who+" hears eve's offer", func() bool {
					m := offered.FindStringSubmatch(p.stderr.String())
					if m != nil {
						n = m[1]
					}
					return m != nil
				})
				if _, err := p.stdin.Write([]byte("/get " + n + "\n")); err != nil {
					t.Fatal(err)
				}
			}
			for who, p := range map[string]*pigeonProcess{"ann": host, "bob": bob} {
				waitUntil(t, ctx, who+" receives eve's photo", func() bool {
					return strings.Contains(p.stderr.String(), `pigeon: received "photo.jpg" from eve: 1 file`)
				})
			}
			for who, d := range map[string]string{"ann": hostDir, "bob": dir} {
				if got, want := fileSum(t, filepath.Join(d, "photo.jpg")), fileSum(t, photo); got != want {
					t.Errorf("%s received %s, want %s", who, got, want)
				}
			}
			page.WaitText("log", "Messages", "pigeon: to bob: sent 1 file", 10*time.Second)

			page.Click("button", "Leave the room")
			page.WaitText("status", "Connection", "you left the room", 10*time.Second)
			for who, p := range map[string]*pigeonProcess{"ann": host, "bob": bob} {
				waitUntil(t, ctx, who+" hears eve leave", func() bool {
					return strings.Contains(p.stderr.String(), "pigeon: eve left the room\n")
				})
			}
			host.stdin.Close()
			if code := host.wait(t, ctx); code != 0 {
				t.Fatalf("pigeon room exited with %d", code)
			}
			if code := bob.wait(t, ctx); code != 0 {
				t.Fatalf("bob exited with %d", code)
			}
			for _, p := range []*pigeonProcess{host, bob} {
				if strings.Contains(p.stdout.String(), "eve: hello from "+name+"\neve: hello from "+name) {
					t.Errorf("a line arrived twice:\n%s", p.stdout.String())
				}
			}
		})
	}
}

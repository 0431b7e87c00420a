package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pionExample builds one of pion's examples at the version go.mod pins,
// from the module cache, and returns the binary's path.
func pionExample(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, "github.com/pion/webrtc/v4/examples/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building pion's example %s: %v\n%s", name, err, out)
	}
	return bin
}

// base64Line is a line of base64 JSON, as pion's examples print their
// descriptions.
var base64Line = regexp.MustCompile(`^eyJ[A-Za-z0-9+/=]{100,}$`)

// testPionDataChannels: pion's examples/data-channels, which answers an
// offer pasted on its standard input, opens the channel the offer
// announced in its ondatachannel, prints what arrives there and sends a
// random string every 5 seconds. It answers `pigeon chat --format json`
// on a LAN of two hosts (it would ask Google's STUN server: the lab has
// no way out), and lines cross both ways as plain text.
func testPionDataChannels(t *testing.T) {
	example := pionExample(t, "data-channels")
	lab := newLab(t)
	a, b := twoOnLAN(lab, "192.168.31.0/24")
	dir := t.TempDir()
	offer, answer := filepath.Join(dir, "offer"), filepath.Join(dir, "answer")
	chat := a.Start(60*time.Second, pigeonPath(t), "chat", "--format", "json", "--out", offer, "--in", answer, "--connect-timeout", "20s")
	defer func() {
		if t.Failed() {
			t.Logf("pigeon chat's stderr:\n%s", chat.Stderr())
		}
	}()
	waitFile(t, offer, 10*time.Second)
	offerText, err := os.ReadFile(offer)
	if err != nil {
		t.Fatal(err)
	}
	pion := b.Start(60*time.Second, example)
	defer func() {
		if t.Failed() {
			t.Logf("pion's example printed:\n%s\nand on stderr:\n%s", pion.Stdout(), pion.Stderr())
		}
	}()
	write(t, pion, strings.TrimSpace(string(offerText))+"\n")
	line, _, ok := pion.WaitStdout(base64Line, 15*time.Second)
	if !ok {
		t.Fatal("pion's example printed no answer")
	}
	t.Logf("pion's answer: %d characters of base64 JSON; pigeon's offer: %d", len(line), len(strings.TrimSpace(string(offerText))))
	if err := os.WriteFile(answer+".tmp", []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(answer+".tmp", answer); err != nil {
		t.Fatal(err)
	}

	if _, _, ok := pion.WaitStdout(regexp.MustCompile(`^New DataChannel chat \d+$`), 15*time.Second); !ok {
		t.Fatal("pion's example did not see the channel `chat`")
	}
	if _, _, ok := chat.WaitStderr(regexp.MustCompile(`^pigeon: the other side is pion \(Go\), not pigeon: the chat runs over its data channel "chat"`), 5*time.Second); !ok {
		t.Fatal("pigeon did not say it chats with pion over the channel `chat`")
	}
	sent, _, ok := pion.WaitStdout(regexp.MustCompile(`^Sending '(\w+)'$`), 15*time.Second)
	if !ok {
		t.Fatal("pion's example sent nothing")
	}
	word := strings.TrimSuffix(strings.TrimPrefix(sent, "Sending '"), "'")
	if _, _, ok := chat.WaitStdout(regexp.MustCompile(`^`+word+`$`), 5*time.Second); !ok {
		t.Fatalf("pigeon did not print the line %q that pion sent; it printed %q", word, chat.Stdout())
	}
	write(t, chat, "hello from pigeon\n")
	if _, _, ok := pion.WaitStdout(regexp.MustCompile(`^Message from DataChannel 'chat': 'hello from pigeon'$`), 5*time.Second); !ok {
		t.Fatal("pion's example did not get pigeon's line")
	}
	chat.Stdin.Close()
	if code, err := chat.Wait(15 * time.Second); err != nil || code != 0 {
		t.Fatalf("pigeon chat: exit %d, %v", code, err)
	}
	if !strings.Contains(chat.Stderr(), "pigeon: chat ended") || strings.Contains(chat.Stderr(), "pigeon: error") {
		t.Error("pigeon did not end the chat cleanly")
	}
	if _, _, ok := pion.WaitStdout(regexp.MustCompile(`^Peer Connection has gone to closed exiting$`), 10*time.Second); !ok {
		t.Error("pion's example did not see the connection close")
	}
}

// waitFile waits until path exists and is not empty.
func waitFile(t *testing.T, path string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %s", path, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

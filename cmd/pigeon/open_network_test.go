package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"pigeon/internal/netlab"
	"pigeon/sdpcodec"
)

// Lines pigeon prints about an open offer.
var (
	joinedDirect   = regexp.MustCompile(`^pigeon: connected: .*, open ([0-9.]+ ?m?s) after ` + "`pigeon join`" + ` started, with no answer carried back$`)
	offererSawJoin = regexp.MustCompile(`^pigeon: connected: .*; the joiner came .* after the offer was made, with no answer carried back$`)
	notReachable   = regexp.MustCompile(`^pigeon: the offering computer is not reachable directly from here`)
	anyConnected   = regexp.MustCompile(`^pigeon: connected: `)
)

// openChat starts `pigeon chat --open` in a, its offer written to a file,
// its answer prompt on standard input, and returns it with the offer's
// path once the offer is there.
func openChat(t *testing.T, a *netlab.Host, args ...string) (*netlab.Proc, string) {
	t.Helper()
	offer := filepath.Join(t.TempDir(), "offer")
	chat := a.Start(60*time.Second, pigeonPath(t), append([]string{"chat", "--open", "--out", offer, "--connect-timeout", "15s"}, args...)...)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(offer); err == nil && fi.Size() > 0 {
			return chat, offer
		}
		if time.Now().After(deadline) {
			t.Fatalf("no open offer in %s:\n%s", offer, chat.Stderr())
		}
	}
}

// waitLine waits for re on p's standard error.
func waitLine(t *testing.T, who string, p *netlab.Proc, re *regexp.Regexp) string {
	t.Helper()
	line, _, ok := p.WaitStderr(re, 20*time.Second)
	if !ok {
		t.Fatalf("%s never printed %q:\n%s", who, re, p.Stderr())
	}
	return line
}

// arrives waits until the chat side printed line, as a person reads it
// before leaving: a chat that ends while the other side's line is on its
// way may not show it.
func arrives(t *testing.T, chat *netlab.Proc, line string) {
	t.Helper()
	if _, _, ok := chat.WaitStdout(regexp.MustCompile(`^`+regexp.QuoteMeta(line)+`$`), 20*time.Second); !ok {
		t.Fatalf("chat never printed %q:\n%s", line, chat.Stderr())
	}
}

// exits checks that p exits with code, within 20 s.
func exits(t *testing.T, who string, p *netlab.Proc, code int) {
	t.Helper()
	got, err := p.Wait(20 * time.Second)
	if got != code {
		t.Fatalf("%s: exit %d (%v), want %d\n%s", who, got, err, code, p.Stderr())
	}
}

// TestNetworkOpen runs open offers (`--open`) between real pigeons in
// network namespaces: only the offer is carried.
func TestNetworkOpen(t *testing.T) {
	// Two hosts on a LAN: the joiner connects with the offer alone,
	// within a second of starting, and prints no answer; lines cross and
	// both exit 0. The offerer's answer prompt reads standard input, and
	// stops reading it once the joiner is in: the chat's first line is
	// the chat's.
	t.Run("chat-lan", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		a, b := twoOnLAN(lab, "192.168.20.0/24")
		chat, offer := openChat(t, a)
		answer := filepath.Join(t.TempDir(), "answer")
		join := b.Start(60*time.Second, pigeonPath(t), "join", "--in", offer, "--out", answer)
		line := waitLine(t, "join", join, joinedDirect)
		took, err := time.ParseDuration(strings.ReplaceAll(joinedDirect.FindStringSubmatch(line)[1], " ", ""))
		if err != nil || took > time.Second {
			t.Errorf("join: %q: want open within 1s of starting", line)
		}
		t.Logf("join: %s", line)
		waitLine(t, "chat", chat, offererSawJoin)
		write(t, join, "hello from join\n")
		write(t, chat, "hello from chat\n")
		arrives(t, chat, "hello from join")
		chat.Stdin.Close()
		exits(t, "chat", chat, 0)
		exits(t, "join", join, 0)
		if got := chat.Stdout(); got != "hello from join\n" {
			t.Errorf("chat printed %q", got)
		}
		if got := join.Stdout(); got != "hello from chat\n" {
			t.Errorf("join printed %q", got)
		}
		if strings.Contains(join.Stderr(), "Answer;") {
			t.Errorf("join printed an answer:\n%s", join.Stderr())
		}
		if _, err := os.Stat(answer); !os.IsNotExist(err) {
			t.Errorf("join wrote --out %s (%v)", answer, err)
		}
	})

	// `send --open` of a folder on a LAN: it arrives whole with only the
	// offer carried.
	t.Run("send-folder", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		a, b := twoOnLAN(lab, "192.168.21.0/24")
		dir := t.TempDir()
		src, dst := filepath.Join(dir, "photos"), filepath.Join(dir, "dst")
		files := map[string][]byte{"a.jpg": make([]byte, 3<<20), "trip/b.jpg": make([]byte, 100<<10), "trip/notes.txt": []byte("day one\n")}
		for name, data := range files {
			_, _ = rand.Read(data[:min(len(data), 1<<20)])
			path := filepath.Join(src, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		offer := filepath.Join(dir, "offer")
		send := a.Start(60*time.Second, pigeonPath(t), "send", "--open", "--out", offer, src)
		join := b.Start(60*time.Second, pigeonPath(t), "join", "--in", offer, "--yes", "--dir", dst)
		exits(t, "send", send, 0)
		exits(t, "join", join, 0)
		waitLine(t, "join", join, joinedDirect)
		for name, data := range files {
			got, err := os.ReadFile(filepath.Join(dst, "photos", name))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("photos/%s did not arrive whole (%v)", name, err)
			}
		}
	})

	// The joiner behind a NAT that does not let it reach the offerer,
	// itself behind another (each router drops what answers nothing sent
	// from inside): join says so within 3 s and shows its answer; once it
	// is carried, they connect through the NATs' mappings.
	t.Run("nat-fallback", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		s := newNATSites(t, lab, netlab.EndpointIndependent)
		dir := t.TempDir()
		offer, answer := filepath.Join(dir, "offer"), filepath.Join(dir, "answer")
		chat := s.a.Start(60*time.Second, pigeonPath(t), "chat", "--open", "--out", offer, "--in", answer, "--stun", s.stunURL(), "--connect-timeout", "15s")
		join := s.b.Start(60*time.Second, pigeonPath(t), "join", "--in", offer, "--out", answer, "--stun", s.stunURL())
		_, at, ok := join.WaitStderr(notReachable, 20*time.Second)
		if !ok {
			t.Fatalf("join did not say the offerer is out of reach:\n%s", join.Stderr())
		}
		if at > 3*time.Second+2*time.Second { // 3 s, and the offer's wait for its file and gathering
			t.Errorf("join said it after %s, want about 3s", at)
		}
		waitLine(t, "join", join, regexp.MustCompile(`^Answer; carry it back`))
		chatLine := waitLine(t, "chat", chat, anyConnected)
		joinLine := waitLine(t, "join", join, anyConnected)
		t.Logf("chat: %s", chatLine)
		t.Logf("join: %s", joinLine)
		if joinedDirect.MatchString(joinLine) || offererSawJoin.MatchString(chatLine) {
			t.Errorf("they say they connected with no answer carried:\n%s\n%s", chatLine, joinLine)
		}
		write(t, join, "through the NATs\n")
		write(t, chat, "bye\n")
		arrives(t, chat, "through the NATs")
		chat.Stdin.Close()
		exits(t, "chat", chat, 0)
		exits(t, "join", join, 0)
		if got := chat.Stdout(); got != "through the NATs\n" {
			t.Errorf("chat printed %q", got)
		}
	})

	// A forged open offer (the secret changed, the checksum made right
	// again) gets no one in: the offerer neither connects nor turns
	// anyone away, and the genuine offer still admits its joiner.
	t.Run("forged-offer", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		lan := lab.LAN("lan", "192.168.22.0/24")
		a, b, c := lab.Host("a"), lab.Host("b"), lab.Host("c")
		for _, h := range []*netlab.Host{a, b, c} {
			lan.Attach(h, "eth0")
		}
		chat, offer := openChat(t, a)
		text, err := os.ReadFile(offer)
		if err != nil {
			t.Fatal(err)
		}
		blob, err := sdpcodec.Parse(string(text))
		if err != nil {
			t.Fatal(err)
		}
		blob.Open.Secret[3] ^= 0x10
		forgedText, err := blob.Encode()
		if err != nil {
			t.Fatal(err)
		}
		forged := filepath.Join(t.TempDir(), "forged")
		if err := os.WriteFile(forged, []byte(forgedText+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		mallory := c.Start(60*time.Second, pigeonPath(t), "join", "--in", forged)
		waitLine(t, "the forged offer's joiner", mallory, notReachable)
		time.Sleep(time.Second) // it goes on checking
		if anyConnected.MatchString(chat.Stderr()) || strings.Contains(mallory.Stderr(), "connected:") {
			t.Fatalf("a forged offer connected:\n%s\n%s", chat.Stderr(), mallory.Stderr())
		}
		if strings.Contains(chat.Stderr(), "turned away") {
			t.Errorf("the offerer heard a signed check from the forged offer:\n%s", chat.Stderr())
		}
		join := b.Start(60*time.Second, pigeonPath(t), "join", "--in", offer)
		waitLine(t, "join", join, joinedDirect)
		write(t, join, "the real one\n")
		arrives(t, chat, "the real one")
		chat.Stdin.Close()
		exits(t, "chat", chat, 0)
		if got := chat.Stdout(); got != "the real one\n" {
			t.Errorf("chat printed %q\nchat:\n%s\njoin:\n%s", got, chat.Stderr(), join.Stderr())
		}
		mallory.Kill()
	})

	// A second joiner of a taken offer is refused with a clear error and
	// exit 1; the offerer says someone else tried; the first session goes
	// on.
	t.Run("second-joiner", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		lan := lab.LAN("lan", "192.168.23.0/24")
		a, b, c := lab.Host("a"), lab.Host("b"), lab.Host("c")
		var cAddr string
		for _, h := range []*netlab.Host{a, b, c} {
			if l := lan.Attach(h, "eth0"); h == c {
				cAddr = l.Addr.String()
			}
		}
		chat, offer := openChat(t, a)
		join := b.Start(60*time.Second, pigeonPath(t), "join", "--in", offer)
		waitLine(t, "join", join, joinedDirect)
		second := c.Start(60*time.Second, pigeonPath(t), "join", "--in", offer)
		exits(t, "the second joiner", second, 1)
		if !strings.Contains(second.Stderr(), "pigeon: error: this offer was already used: someone else joined it first; ask for a new offer\n") {
			t.Errorf("the second joiner said:\n%s", second.Stderr())
		}
		waitLine(t, "chat", chat, regexp.MustCompile(`^pigeon: someone else with this offer tried to join from `+regexp.QuoteMeta(cAddr)+`:[0-9]+ and was turned away: it was already taken$`))
		write(t, join, "still here\n")
		write(t, chat, "good\n")
		arrives(t, chat, "still here")
		chat.Stdin.Close()
		exits(t, "chat", chat, 0)
		exits(t, "join", join, 0)
		if got := chat.Stdout(); got != "still here\n" {
			t.Errorf("chat printed %q", got)
		}
	})
}

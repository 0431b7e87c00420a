package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pigeon/internal/netlab"
)

// member is one pigeon in a room scenario: the host or a guest.
type member struct {
	name string
	proc *netlab.Proc
	said []string // the lines it typed, in order
	dir  string   // its --dir, where files it gets go
}

// startMember starts pigeon with args in h, saving files in a folder
// of its own.
func startMember(t *testing.T, h *netlab.Host, name string, args ...string) *member {
	t.Helper()
	dir := t.TempDir()
	return &member{name: name, dir: dir, proc: h.Start(90*time.Second, pigeonPath(t), append(args, "--name", name, "--dir", dir)...)}
}

// typed types a command (not a line the others see) into m.
func (m *member) typed(t *testing.T, command string) {
	t.Helper()
	write(t, m.proc, command+"\n")
}

// says waits for m to print a line that matches re on standard error.
func (m *member) says(t *testing.T, re string) {
	t.Helper()
	waitLine(t, m.name, m.proc, regexp.MustCompile(re))
}

// roomFiles writes a folder "photos" of files for a room to offer, and
// returns its path and contents by path under the folder it is in.
func roomFiles(t *testing.T, sizes map[string]int) (string, map[string][]byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "photos")
	want := map[string][]byte{}
	for name, size := range sizes {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		want[filepath.Join("photos", name)] = data
	}
	return dir, want
}

// hasFiles checks that m's --dir holds want, byte for byte.
func (m *member) hasFiles(t *testing.T, want map[string][]byte) {
	t.Helper()
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(m.dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %s did not arrive whole (%v)", m.name, name, err)
		}
	}
}

// say types lines into m, and remembers them.
func (m *member) say(t *testing.T, lines ...string) {
	t.Helper()
	for _, l := range lines {
		write(t, m.proc, l+"\n")
		m.said = append(m.said, l)
	}
}

// directTo matches a guest's report of a direct connection to name.
func directTo(name string) *regexp.Regexp {
	return regexp.MustCompile(`^pigeon: connected directly to ` + regexp.QuoteMeta(name) + `: host \S+ <-> host \S+ over udp`)
}

// heardOnce checks that every member printed every other member's lines
// exactly once each, in the order they were typed, and none of its own.
// It first waits for each one's last line: a line on its way is not lost.
func heardOnce(t *testing.T, members []*member) {
	t.Helper()
	for _, m := range members {
		for _, o := range members {
			if o != m && len(o.said) > 0 {
				last := o.name + ": " + o.said[len(o.said)-1]
				if _, _, ok := m.proc.WaitStdout(regexp.MustCompile(`^`+regexp.QuoteMeta(last)+`$`), 20*time.Second); !ok {
					t.Fatalf("%s never printed %q; it printed:\n%s\nand said:\n%s", m.name, last, m.proc.Stdout(), m.proc.Stderr())
				}
			}
		}
	}
	for _, m := range members {
		got := strings.Split(strings.TrimSuffix(m.proc.Stdout(), "\n"), "\n")
		for _, o := range members {
			var heard []string
			for _, line := range got {
				if text, ok := strings.CutPrefix(line, o.name+": "); ok {
					heard = append(heard, text)
				}
			}
			want := o.said
			if o == m {
				want = nil
			}
			if !slices.Equal(heard, want) {
				t.Errorf("%s printed %q from %s, want %q", m.name, heard, o.name, want)
			}
		}
	}
}

// TestNetworkRoom runs `pigeon room` with real pigeons in network
// namespaces: a host and three guests.
func TestNetworkRoom(t *testing.T) {
	// A host and three guests on a LAN with an open room offer: each
	// guest joins with the offer alone; the guests connect to each other
	// directly; every line reaches the other three exactly once, in
	// order; a guest that leaves is announced and the others go on; the
	// host leaving ends the room, everyone exiting 0.
	t.Run("room-lan", func(t *testing.T) {
		t.Parallel()
		hosts, host, offer := openLANRoom(t, "192.168.30.0/24", 4)
		members := []*member{host}
		for i, name := range []string{"bob", "cat", "dan"} {
			args := []string{"join", "--in", offer}
			if name == "bob" {
				args = append(args, "--yes")
			}
			g := startMember(t, hosts[i+1], name, args...)
			members = append(members, g)
			waitLine(t, name, g.proc, regexp.MustCompile(`^pigeon: you are in ann's room as `+name+`, with `))
			waitLine(t, "the host", host.proc, regexp.MustCompile(`^pigeon: `+name+` joined the room$`))
		}
		defer logOnFailure(t, &members)
		// Every guest connects directly to the two others.
		meshed := time.Duration(0)
		for _, g := range members[1:] {
			for _, o := range members[1:] {
				if o == g {
					continue
				}
				_, at, ok := g.proc.WaitStderr(directTo(o.name), 20*time.Second)
				if !ok {
					t.Fatalf("%s never connected directly to %s:\n%s", g.name, o.name, g.proc.Stderr())
				}
				meshed = max(meshed, g.proc.Started.Add(at).Sub(host.proc.Started))
			}
		}
		t.Logf("host start to four members meshed: %s", meshed.Round(time.Millisecond))

		for _, m := range members {
			m.say(t, "one from "+m.name, "two from "+m.name, "three from "+m.name)
		}
		heardOnce(t, members)

		// ann offers a folder: bob (--yes) gets it at once, cat types
		// /get, dan /no; ann hears of each. Then bob offers one, which cat
		// gets from him directly, and ann too.
		bob, cat, dan := members[1], members[2], members[3]
		src, want := roomFiles(t, map[string]int{"a.jpg": 2 << 20, "trip/b.jpg": 100 << 10})
		host.typed(t, "/send "+src)
		host.says(t, `^pigeon: you offered "photos/" \(2 files, 2\.1 MiB\) to the room$`)
		for _, g := range []*member{cat, dan} {
			g.says(t, `^pigeon: ann offers "photos/" \(2 files, 2\.1 MiB\): /get 1 saves it into \S+, /no 1 declines it$`)
		}
		cat.typed(t, "/get 1")
		dan.typed(t, "/no 1")
		for _, g := range []*member{bob, cat} {
			g.says(t, `^pigeon: received "photos/" from ann: 2 files \(2\.1 MiB\) in .* into `)
			g.hasFiles(t, want)
			host.says(t, `^pigeon: "photos/" reached `+g.name+`: 2 files`)
		}
		host.says(t, `^pigeon: dan declined "photos/"$`)
		if entries, _ := os.ReadDir(dan.dir); len(entries) != 0 {
			t.Errorf("dan declined, and got %d entries", len(entries))
		}
		src2, want2 := roomFiles(t, map[string]int{"c.jpg": 300 << 10})
		bob.typed(t, "/send "+src2)
		cat.says(t, `^pigeon: bob offers "photos/" \(1 file, 300\.0 KiB\): /get 2 `)
		cat.typed(t, "/get 2")
		host.says(t, `^pigeon: bob offers "photos/" \(1 file, 300\.0 KiB\): /get 1 `)
		host.typed(t, "/get")
		for _, m := range []*member{cat, host} {
			m.says(t, `^pigeon: received "photos/" from bob: 1 file`)
			m.hasFiles(t, want2)
		}
		dan.says(t, `^pigeon: bob offers "photos/"`)
		dan.typed(t, "/get 7")
		dan.says(t, `^pigeon: no file offer 7: they are numbered 1 to 2 as they came$`)
		dan.typed(t, "/sned photos")
		dan.says(t, `^pigeon: /sned is no command here, not sent: `)

		// dan leaves: the others are told, and go on without him.
		dan.proc.Stdin.Close()
		exits(t, "dan", dan.proc, 0)
		waitLine(t, "dan", dan.proc, regexp.MustCompile(`^pigeon: you left the room$`))
		for _, m := range members[:3] {
			waitLine(t, m.name, m.proc, regexp.MustCompile(`^pigeon: dan left the room$`))
		}
		dan.said = nil
		members = members[:3]
		for _, m := range members {
			m.said = nil
		}
		members[1].say(t, "dan has gone")
		members[0].say(t, "so he has")
		for _, m := range members {
			for _, o := range members {
				if o != m && len(o.said) > 0 {
					arrives(t, m.proc, o.name+": "+o.said[0])
				}
			}
		}

		// The host leaves: the room is over for everyone.
		host.proc.Stdin.Close()
		exits(t, "the host", host.proc, 0)
		for _, g := range members[1:] {
			exits(t, g.name, g.proc, 0)
			waitLine(t, g.name, g.proc, regexp.MustCompile(`^pigeon: the room is over: the host left the room$`))
		}
		for _, m := range append(members, dan) {
			if strings.Contains(m.proc.Stderr(), "error") {
				t.Errorf("%s reported an error:\n%s", m.name, m.proc.Stderr())
			}
			// Leaving closes direct links, which is no failure of theirs.
			if strings.Contains(m.proc.Stderr(), "go through the host") {
				t.Errorf("%s relays through the host on a LAN:\n%s", m.name, m.proc.Stderr())
			}
		}
	})

	// The host on a public segment shows an offer for each guest and
	// reads its answer. bob and cat are behind one home router, dan
	// behind a symmetric NAT: bob and cat connect directly, dan reaches
	// the host but neither of them, so his lines and theirs go through
	// the host, each still once.
	t.Run("room-nat", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		public := lab.LAN("public", "203.0.113.0/24")
		server, hostNS := lab.Host("stun"), lab.Host("ann")
		serverAddr := public.Attach(server, "eth0").Addr
		public.Attach(hostNS, "eth0")
		server.StartTURN(netip.AddrPortFrom(serverAddr, turnPort), turnUser, turnPass)
		stun := "stun:" + netip.AddrPortFrom(serverAddr, turnPort).String()
		home, far := lab.LAN("home", "10.0.1.0/24"), lab.LAN("far", "10.0.2.0/24")
		homeRouter := lab.Router("home-router", public, home, netlab.EndpointIndependent)
		farRouter := lab.Router("far-router", public, far, netlab.Symmetric)
		guests := map[string]*netlab.Host{}
		for _, g := range []struct {
			name   string
			lan    *netlab.LAN
			router *netlab.Router
		}{{"bob", home, homeRouter}, {"cat", home, homeRouter}, {"dan", far, farRouter}} {
			h := lab.Host(g.name)
			g.lan.Attach(h, "eth0")
			h.DefaultRoute(g.router.LAN.Addr)
			guests[g.name] = h
		}

		host := startMember(t, hostNS, "ann", "room", "--stun", stun)
		members := []*member{host}
		defer logOnFailure(t, &members)
		dir := t.TempDir()
		var earlier string // the answer of the guest before
		for i, name := range []string{"bob", "cat", "dan"} {
			offer, answer := filepath.Join(dir, name+".offer"), filepath.Join(dir, name+".answer")
			text := shownOffer(t, host.proc, i+1)
			if earlier != "" {
				// The newcomers' mistake: the answer of an earlier guest
				// pasted for this one's offer. It is refused, and the
				// room goes on.
				write(t, host.proc, earlier)
				refused := "pigeon: that answer was not applied: this answer is to another offer (an earlier guest's, or another room's)\n"
				for deadline := time.Now().Add(10 * time.Second); strings.Count(host.proc.Stderr(), refused) < i; time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("the host took an earlier guest's answer for guest %d's offer:\n%s", i+1, host.proc.Stderr())
					}
				}
			}
			if err := os.WriteFile(offer, []byte(text+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"join", "--in", offer, "--out", answer, "--stun", stun}
			if name == "cat" {
				args = append(args, "--verify")
			}
			g := startMember(t, guests[name], name, args...)
			members = append(members, g)
			waitFile(t, answer, 20*time.Second)
			data, err := os.ReadFile(answer)
			if err != nil {
				t.Fatal(err)
			}
			write(t, host.proc, string(data))
			earlier = string(data)
			if name == "cat" {
				// She compares the code with the host's before she enters.
				line := waitLine(t, "cat", g.proc, regexp.MustCompile(`^pigeon: verification code \d{3}-\d{3}$`))
				host.says(t, `^pigeon: a guest connected: verification code `+strings.TrimPrefix(line, "pigeon: verification code ")+`, `)
				g.typed(t, "y")
				g.says(t, `^pigeon: verified$`)
			}
			waitLine(t, name, g.proc, regexp.MustCompile(`^pigeon: you are in ann's room as `+name+`, with `))
			waitLine(t, "the host", host.proc, regexp.MustCompile(`^pigeon: `+name+` joined the room$`))
		}
		bob, cat, dan := members[1], members[2], members[3]
		waitLine(t, "bob", bob.proc, directTo("cat"))
		waitLine(t, "cat", cat.proc, directTo("bob"))
		for _, pair := range [][2]*member{{bob, dan}, {cat, dan}, {dan, bob}, {dan, cat}} {
			re := regexp.MustCompile(`^pigeon: ` + pair[1].name + ` is not reachable directly \(.*\): lines to and from ` + pair[1].name + ` go through the host$`)
			if _, _, ok := pair[0].proc.WaitStderr(re, 30*time.Second); !ok {
				t.Fatalf("%s never said %s goes through the host:\n%s", pair[0].name, pair[1].name, pair[0].proc.Stderr())
			}
		}
		if directTo("dan").MatchString(bob.proc.Stderr()) || strings.Contains(dan.proc.Stderr(), "connected directly") {
			t.Errorf("dan connected directly across the NATs:\n%s", dan.proc.Stderr())
		}
		for _, m := range members {
			m.say(t, "one from "+m.name, "two from "+m.name)
		}
		heardOnce(t, members)

		// dan's file reaches bob through the host, which carries it.
		src, want := roomFiles(t, map[string]int{"far.jpg": 1 << 20})
		dan.typed(t, "/send "+src)
		bob.says(t, `^pigeon: dan offers "photos/" \(1 file, 1\.0 MiB\): /get 1 `)
		bob.typed(t, "/get 1")
		bob.says(t, `^pigeon: received "photos/" from dan: 1 file`)
		bob.hasFiles(t, want)
		dan.says(t, `^pigeon: "photos/" reached bob: 1 file`)

		host.proc.Stdin.Close()
		exits(t, "the host", host.proc, 0)
		for _, g := range members[1:] {
			exits(t, g.name, g.proc, 0)
			waitLine(t, g.name, g.proc, regexp.MustCompile(`^pigeon: the room is over: the host left the room$`))
		}
	})

	// Eight members fill a room: a ninth with the open offer is turned
	// away with a clear error and exit 1, and the host says so; once a
	// member leaves, the ninth gets in. Every guest meshes with the six
	// others (28 connections in the room).
	t.Run("room-full", func(t *testing.T) {
		t.Parallel()
		hosts, host, offer := openLANRoom(t, "192.168.31.0/24", 9)
		members := []*member{host}
		defer logOnFailure(t, &members)
		for i := 1; i < 8; i++ {
			g := startMember(t, hosts[i], fmt.Sprintf("g%d", i), "join", "--in", offer)
			members = append(members, g)
			g.says(t, `^pigeon: you are in ann's room as g[0-9], with `)
		}
		for _, g := range members[1:] {
			for _, o := range members[1:] {
				if o != g {
					waitLine(t, g.name, g.proc, directTo(o.name))
				}
			}
		}
		ninth := startMember(t, hosts[8], "g8", "join", "--in", offer)
		exits(t, "the ninth", ninth.proc, 1)
		if !strings.Contains(ninth.proc.Stderr(), "pigeon: error: the room is full; ask its host to make room\n") {
			t.Errorf("the ninth said:\n%s", ninth.proc.Stderr())
		}
		host.says(t, `^pigeon: someone with the room's offer was turned away \(192\.168\.31\.9:[0-9]+\): the room is full$`)
		members[7].proc.Stdin.Close()
		exits(t, "g7", members[7].proc, 0)
		host.says(t, `^pigeon: g7 left the room$`)
		again := startMember(t, hosts[8], "g8", "join", "--in", offer)
		members = append(members[:7], again)
		again.says(t, `^pigeon: you are in ann's room as g8, with ann, g1, g2, g3, g4, g5, g6$`)
		again.say(t, "made it")
		for _, m := range members[:7] {
			arrives(t, m.proc, "g8: made it")
		}
		host.proc.Stdin.Close()
		exits(t, "the host", host.proc, 0)
	})

	// An open room's host behind a home router, a guest behind another:
	// the guest's checks do not get through, so it says so within 3 s and
	// shows its answer; pasted into the host's room, it lets the guest in,
	// through the NATs' mappings.
	t.Run("room-open-fallback", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		s := newNATSites(t, lab, netlab.EndpointIndependent)
		dir := t.TempDir()
		offer, answer := filepath.Join(dir, "offer"), filepath.Join(dir, "answer")
		host := startMember(t, s.a, "ann", "room", "--open", "--out", offer, "--stun", s.stunURL())
		waitFile(t, offer, 20*time.Second)
		bob := startMember(t, s.b, "bob", "join", "--in", offer, "--out", answer, "--stun", s.stunURL())
		defer func() {
			if t.Failed() {
				t.Logf("ann's stderr:\n%s\nbob's stderr:\n%s", host.proc.Stderr(), bob.proc.Stderr())
			}
		}()
		waitLine(t, "bob", bob.proc, notReachable)
		waitFile(t, answer, 20*time.Second)
		data, err := os.ReadFile(answer)
		if err != nil {
			t.Fatal(err)
		}
		host.typed(t, "PIGEONXYZ")
		host.says(t, `^pigeon: that looks like a blob, not sent, and not applied: `)
		host.typed(t, strings.TrimSpace(string(data)))
		host.says(t, `^pigeon: connecting the guest \.\.\.$`)
		bob.says(t, `^pigeon: you are in ann's room as bob, with ann$`)
		host.says(t, `^pigeon: bob joined the room$`)
		host.typed(t, strings.TrimSpace(string(data)))
		host.says(t, `^pigeon: that answer was not applied: this answer was already applied$`)
		members := []*member{host, bob}
		for _, m := range members {
			m.say(t, "across the NATs from "+m.name)
		}
		heardOnce(t, members)
		if strings.Contains(host.proc.Stdout()+bob.proc.Stdout(), "PIGEON") {
			t.Errorf("a blob reached the room:\n%s\n%s", host.proc.Stdout(), bob.proc.Stdout())
		}
		host.proc.Stdin.Close()
		exits(t, "the host", host.proc, 0)
		exits(t, "bob", bob.proc, 0)
	})
}

// openLANRoom puts n hosts on a LAN of cidr and starts ann's open room on
// the first; it returns the hosts, ann, and the offer's file.
func openLANRoom(t *testing.T, cidr string, n int) ([]*netlab.Host, *member, string) {
	t.Helper()
	lab := newLab(t)
	lan := lab.LAN("lan", cidr)
	hosts := make([]*netlab.Host, n)
	for i := range hosts {
		hosts[i] = lab.Host(fmt.Sprintf("m%d", i))
		lan.Attach(hosts[i], "eth0")
	}
	offer := filepath.Join(t.TempDir(), "offer")
	host := startMember(t, hosts[0], "ann", "room", "--open", "--out", offer)
	waitFile(t, offer, 20*time.Second)
	return hosts, host, offer
}

// logOnFailure shows each member's standard error if the test failed.
func logOnFailure(t *testing.T, members *[]*member) {
	if t.Failed() {
		for _, m := range *members {
			t.Logf("%s's stderr:\n%s", m.name, m.proc.Stderr())
		}
	}
}

// shownOffer waits for the host's offer for the host's offer for guest n and returns it.
func shownOffer(t *testing.T, host *netlab.Proc, n int) string {
	t.Helper()
	// The intro and the blob are two lines, which may arrive apart: wait
	// for the blob after the intro.
	intro := fmt.Sprintf("Offer for guest %d; ", n)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, after, ok := strings.Cut(host.Stderr(), intro); ok {
			if blob := blobText.FindString(after); blob != "" {
				return blob
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host showed no offer for guest %d:\n%s", n, host.Stderr())
		}
	}
}

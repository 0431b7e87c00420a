package main

import (
	"bytes"
	"crypto/rand"
	"io"
	"iter"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pigeon/internal/netlab"
	"pigeon/peer"
	"pigeon/sdpcodec"
)

// The lab's TURN server and the credentials pigeon is given for it.
const (
	turnUser = "pigeon"
	turnPass = "carrier"
	turnPort = 3478
	// turnsPort is where the lab's TLS TURN server listens, and
	// turnsName its name.
	turnsPort = 5349
	turnsName = "turn.pigeon.test"
)

// connectedLine is the path report: local and remote type and address,
// and the protocol.
var connectedLine = regexp.MustCompile(`^pigeon: connected: (host|srflx|prflx|relay) (\S+) <-> (host|srflx|prflx|relay) (\S+) over (udp|tcp), `)

// path is what a side reported in its connected line.
type path struct {
	line                  string
	localType, local      string
	remoteType, remote    string
	proto                 string
	localAddr, remoteAddr netip.AddrPort
}

func (p path) types() string { return p.localType + " <-> " + p.remoteType }

func parsePath(t *testing.T, who, stderr string) path {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if m := connectedLine.FindStringSubmatch(line); m != nil {
			p := path{line: line, localType: m[1], local: m[2], remoteType: m[3], remote: m[4], proto: m[5]}
			p.localAddr, _ = netip.ParseAddrPort(m[2])
			p.remoteAddr, _ = netip.ParseAddrPort(m[4])
			return p
		}
	}
	t.Fatalf("%s printed no connected line:\n%s", who, stderr)
	return path{}
}

// newLab makes a lab whose processes leave at once when built with -race
// (the race detector otherwise sleeps a second at exit).
func newLab(t *testing.T) *netlab.Lab {
	t.Helper()
	lab := netlab.New(t)
	gorace := os.Getenv("GORACE")
	if !strings.Contains(gorace, "atexit_sleep_ms") {
		lab.Env = append(lab.Env, "GORACE="+strings.TrimSpace(gorace+" atexit_sleep_ms=0"))
	}
	return lab
}

func pigeonPath(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// pair is a chat between two pigeons: chat makes the offer, join answers
// it; the blobs travel through files. Both standard inputs stay open
// until the test writes or closes them.
type pair struct {
	chat, join *netlab.Proc
}

// startPair starts `pigeon chat` in a and `pigeon join` in b, with args
// on both. They have 30 seconds.
func startPair(t *testing.T, a, b *netlab.Host, args ...string) *pair {
	t.Helper()
	bin := pigeonPath(t)
	dir := t.TempDir()
	offer, answer := filepath.Join(dir, "offer"), filepath.Join(dir, "answer")
	common := append([]string{"--connect-timeout", "15s"}, args...)
	join := b.Start(30*time.Second, bin, append([]string{"join", "--in", offer, "--out", answer}, common...)...)
	chat := a.Start(30*time.Second, bin, append([]string{"chat", "--out", offer, "--in", answer}, common...)...)
	return &pair{chat: chat, join: join}
}

// logOutput shows both sides' standard error, when the test failed.
func (p *pair) logOutput(t *testing.T) {
	t.Helper()
	if t.Failed() {
		t.Logf("chat's stderr:\n%s", p.chat.Stderr())
		t.Logf("join's stderr:\n%s", p.join.Stderr())
	}
}

// chatOnce runs a chat as chat.txt does: the chat side says its line and
// its input ends, the join side says its line and its input stays open.
// Each line must arrive, both must exit 0; it returns their paths.
func chatOnce(t *testing.T, a, b *netlab.Host, args ...string) (chat, join path) {
	t.Helper()
	p := startPair(t, a, b, args...)
	defer p.logOutput(t)
	write(t, p.join, "hello from join\n")
	write(t, p.chat, "hello from chat\n")
	p.chat.Stdin.Close()
	for _, side := range []struct {
		name string
		proc *netlab.Proc
		want string
	}{{"chat", p.chat, "hello from join\n"}, {"join", p.join, "hello from chat\n"}} {
		code, err := side.proc.Wait(25 * time.Second)
		if err != nil || code != 0 {
			t.Fatalf("pigeon %s: exit %d, %v", side.name, code, err)
		}
		if got := side.proc.Stdout(); got != side.want {
			t.Errorf("pigeon %s printed %q, want %q", side.name, got, side.want)
		}
		if strings.Contains(side.proc.Stderr(), "pigeon: error") {
			t.Errorf("pigeon %s reported an error", side.name)
		}
	}
	chat, join = parsePath(t, "pigeon chat", p.chat.Stderr()), parsePath(t, "pigeon join", p.join.Stderr())
	t.Logf("chat: %s", chat.line)
	t.Logf("join: %s", join.line)
	return chat, join
}

func write(t *testing.T, p *netlab.Proc, s string) {
	t.Helper()
	if _, err := io.WriteString(p.Stdin, s); err != nil {
		t.Fatalf("writing %q to pigeon: %v", s, err)
	}
}

// natSites is a public segment with a STUN/TURN server, and two hosts
// each on a LAN of its own behind a router that translates with nat.
type natSites struct {
	server       *netlab.Host
	serverAddr   netip.Addr
	a, b         *netlab.Host
	routerA      *netlab.Router
	routerB      *netlab.Router
	aAddr, bAddr netip.Addr
}

func newNATSites(t *testing.T, lab *netlab.Lab, nat netlab.NAT) *natSites {
	t.Helper()
	public := lab.LAN("public", "203.0.113.0/24")
	s := &natSites{server: lab.Host("public")}
	s.serverAddr = public.Attach(s.server, "eth0").Addr
	s.server.StartTURN(netip.AddrPortFrom(s.serverAddr, turnPort), turnUser, turnPass)
	lanA, lanB := lab.LAN("a", "10.0.1.0/24"), lab.LAN("b", "10.0.2.0/24")
	s.routerA = lab.Router("router-a", public, lanA, nat)
	s.routerB = lab.Router("router-b", public, lanB, nat)
	s.a, s.b = lab.Host("a"), lab.Host("b")
	s.aAddr = lanA.Attach(s.a, "eth0").Addr
	s.bAddr = lanB.Attach(s.b, "eth0").Addr
	s.a.DefaultRoute(s.routerA.LAN.Addr)
	s.b.DefaultRoute(s.routerB.LAN.Addr)
	return s
}

func (s *natSites) stunURL() string {
	return "stun:" + netip.AddrPortFrom(s.serverAddr, turnPort).String()
}

func (s *natSites) turnURL(query string) string {
	return "turn:" + turnUser + ":" + turnPass + "@" + netip.AddrPortFrom(s.serverAddr, turnPort).String() + query
}

// TestNetwork runs two real pigeons, each in a network namespace of its
// own, on networks built with internal/netlab: a LAN with no way out, NAT
// routers on a public segment with a STUN/TURN server, a firewall that
// blocks UDP, a host on two LANs, a dead server, a dead peer and a cable
// pulled out for a while. Each scenario builds its own lab and runs in
// parallel with the others; all of them need root and skip without it.
func TestNetwork(t *testing.T) {
	// a. Two hosts on a LAN with no way out and no STUN server: they
	// connect over their LAN addresses.
	t.Run("offline-lan", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		lan := lab.LAN("lan", "192.168.7.0/24")
		a, b := lab.Host("a"), lab.Host("b")
		aAddr, bAddr := lan.Attach(a, "eth0").Addr, lan.Attach(b, "eth0").Addr
		chat, join := chatOnce(t, a, b)
		for _, c := range []struct {
			who           string
			p             path
			local, remote netip.Addr
		}{{"chat", chat, aAddr, bAddr}, {"join", join, bAddr, aAddr}} {
			if c.p.types() != "host <-> host" || c.p.proto != "udp" || c.p.localAddr.Addr() != c.local || c.p.remoteAddr.Addr() != c.remote {
				t.Errorf("%s: path %q, want host %s <-> host %s over udp", c.who, c.p.line, c.local, c.remote)
			}
		}
	})

	// a'. The same LAN with --mdns on both sides: the blobs name the hosts
	// by random .local names, resolved by multicast DNS on the LAN before
	// the other's blob is applied, and they connect from a host candidate
	// with such a name to the other's host candidate at the address its
	// name resolved to (peer/mdns.go).
	t.Run("offline-lan-mdns", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		a, b := twoOnLAN(lab, "192.168.8.0/24")
		chat, join := chatOnce(t, a, b, "--mdns")
		for _, c := range []struct {
			who string
			p   path
		}{{"chat", chat}, {"join", join}} {
			local, _, _ := strings.Cut(strings.TrimPrefix(c.p.line, "pigeon: connected: "), " <-> ")
			if c.p.localType != "host" || !strings.Contains(local, ".local:") || c.p.remoteType != "host" || !c.p.remoteAddr.IsValid() ||
				!regexp.MustCompile(`; the other side's address was behind the mDNS name [0-9a-f-]+\.local, resolved on the LAN$`).MatchString(c.p.line) {
				t.Errorf("%s: path %q, want a .local host candidate to the address the other's name resolved to", c.who, c.p.line)
			}
		}
	})

	// a''. pion's examples/data-channels answers a chat offered for other
	// programs (pionexample_test.go).
	t.Run("pion-data-channels", func(t *testing.T) {
		t.Parallel()
		testPionDataChannels(t)
	})

	// a'''. Chromium on one computer of the LAN, pigeon on the other: the
	// browser's mDNS names are resolved (tutorial_test.go).
	t.Run("browser-lan-mdns", func(t *testing.T) {
		t.Parallel()
		testTutorialOnLAN(t)
	})

	// b. Behind endpoint-independent NATs with a STUN server: each side
	// sends from the mapping STUN found (srflx) to the other's router. The
	// remote end is srflx as the blob named it, or prflx if pion learned
	// it from the peer's checks first; srflx on both ends is what runs
	// here have shown.
	t.Run("stun-eim-nat", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		s := newNATSites(t, lab, netlab.EndpointIndependent)
		chat, join := chatOnce(t, s.a, s.b, "--stun", s.stunURL())
		for _, c := range []struct {
			who      string
			p        path
			from, to netip.Addr
		}{{"chat", chat, s.routerA.WAN.Addr, s.routerB.WAN.Addr}, {"join", join, s.routerB.WAN.Addr, s.routerA.WAN.Addr}} {
			if c.p.localType != "srflx" || c.p.localAddr.Addr() != c.from || !reflexive(c.p.remoteType) || c.p.remoteAddr.Addr() != c.to {
				t.Errorf("%s: path %q, want srflx %s <-> srflx or prflx %s", c.who, c.p.line, c.from, c.to)
			}
		}
	})

	// c. Behind symmetric NATs (checked: one socket is mapped to a new
	// port per destination) with a TURN server: the path uses a relay.
	t.Run("turn-symmetric-nat", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		s := newNATSites(t, lab, netlab.Symmetric)
		second := netip.AddrPortFrom(s.serverAddr, turnPort+1)
		s.server.StartTURN(second, turnUser, turnPass)
		m := s.a.STUNMapped(netip.AddrPortFrom(s.serverAddr, turnPort), second)
		if m[0].Port() == m[1].Port() {
			t.Fatalf("the symmetric NAT mapped one socket to %s for both servers", m[0])
		}
		chat, join := chatOnce(t, s.a, s.b, "--turn", s.turnURL(""))
		if chat.localType != "relay" && chat.remoteType != "relay" {
			t.Errorf("chat: path %q, want a relay", chat.line)
		}
		if join.localType != "relay" && join.remoteType != "relay" {
			t.Errorf("join: path %q, want a relay", join.line)
		}
	})

	// d. UDP to the TURN server is blocked on both routers (checked): TURN
	// over TCP relays both sides. (The path line says "over udp": it names
	// the relay candidate's protocol, not the transport to the server.)
	t.Run("turn-tcp", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		s := newNATSites(t, lab, netlab.EndpointIndependent)
		s.routerA.Drop("udp", s.serverAddr)
		s.routerB.Drop("udp", s.serverAddr)
		probe := s.a.Command(t.Context(), pathOf(t, "stunprobe"), netip.AddrPortFrom(s.serverAddr, turnPort).String())
		if out, err := probe.CombinedOutput(); err == nil {
			t.Fatalf("UDP to the server is not blocked: %s", out)
		}
		// The credentials come apart from the URL, in flags.
		url := "turn:" + netip.AddrPortFrom(s.serverAddr, turnPort).String() + "?transport=tcp"
		chat, join := chatOnce(t, s.a, s.b, "--turn", url, "--turn-user", turnUser, "--turn-pass", turnPass)
		for _, c := range []struct {
			who string
			p   path
		}{{"chat", chat}, {"join", join}} {
			if c.p.localType != "relay" || c.p.localAddr.Addr() != s.serverAddr {
				t.Errorf("%s: path %q, want a local relay on %s", c.who, c.p.line, s.serverAddr)
			}
		}
	})

	// d'. Behind symmetric NATs with only a TURN server that speaks TLS
	// (turns:, over TCP), with a certificate for its address and its name
	// from a throwaway CA: the pigeons trust that CA through SSL_CERT_FILE,
	// as any Go program does, and both sides relay through the server,
	// named by its address (pion verifies an IP SAN) or by its name (SNI
	// and a DNS SAN). By name, the credentials come from the environment.
	for _, c := range []struct{ name, host string }{
		{"turns-tls", ""}, // the server's address
		{"turns-tls-name", turnsName},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lab := newLab(t)
			s := newNATSites(t, lab, netlab.Symmetric)
			ca := netlab.NewCA(t, "pigeon test CA")
			cert, key := ca.Issue(turnsName, s.serverAddr.String())
			s.server.StartTURNS(netip.AddrPortFrom(s.serverAddr, turnsPort), turnUser, turnPass, cert, key)
			host := c.host
			if host == "" {
				host = s.serverAddr.String()
			}
			for _, h := range []*netlab.Host{s.a, s.b} {
				h.Env = append(h.Env, "SSL_CERT_FILE="+ca.File)
				h.Resolve(turnsName, s.serverAddr)
			}
			url := "turns:" + turnUser + ":" + turnPass + "@" + net.JoinHostPort(host, strconv.Itoa(turnsPort))
			if c.host != "" {
				url = "turns:" + net.JoinHostPort(host, strconv.Itoa(turnsPort))
				for _, h := range []*netlab.Host{s.a, s.b} {
					h.Env = append(h.Env, "PIGEON_TURN_USER="+turnUser, "PIGEON_TURN_PASS="+turnPass)
				}
			}
			chat, join := chatOnce(t, s.a, s.b, "--turn", url)
			for _, c := range []struct {
				who string
				p   path
			}{{"chat", chat}, {"join", join}} {
				if c.p.types() != "relay <-> relay" || c.p.localAddr.Addr() != s.serverAddr {
					t.Errorf("%s: path %q, want relay %s <-> relay", c.who, c.p.line, s.serverAddr)
				}
			}
		})
	}

	// d''. A turns: server whose certificate fails verification, from an
	// authority this computer does not trust or for another name: pigeon
	// says so in one line, with what to do, as soon as gathering ends (at
	// once, well within the gather timeout), and still makes its offer.
	for _, c := range []struct {
		name    string
		trusted bool   // whether pigeon trusts the CA
		certFor string // the name on the certificate
		want    string
	}{
		{"turns-untrusted", false, "", `tls: failed to verify certificate: x509: certificate signed by unknown authority; if you trust that server, set SSL_CERT_FILE to .*`},
		{"turns-wrong-name", true, "turn.example.org", `tls: failed to verify certificate: x509: cannot validate certificate for 203.0.113.1 because it doesn't contain any IP SANs; give the server by a name or address its certificate is valid for`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lab := newLab(t)
			public := lab.LAN("public", "203.0.113.0/24")
			server, h := lab.Host("server"), lab.Host("h")
			serverAddr := public.Attach(server, "eth0").Addr
			public.Attach(h, "eth0")
			ca := netlab.NewCA(t, "pigeon test CA")
			certFor := c.certFor
			if certFor == "" {
				certFor = serverAddr.String()
			}
			cert, key := ca.Issue(certFor)
			addr := netip.AddrPortFrom(serverAddr, turnsPort)
			server.StartTURNS(addr, turnUser, turnPass, cert, key)
			if c.trusted {
				h.Env = append(h.Env, "SSL_CERT_FILE="+ca.File)
			}
			url := "turns:" + turnUser + ":" + turnPass + "@" + addr.String()
			baseline, _, _ := offerTime(t, h)
			offerAt, _, p := offerTime(t, h, "--turn", url)
			want := regexp.MustCompile(`^pigeon: warning: TURN server turns:` + regexp.QuoteMeta(addr.String()) + ` gave no relay: ` + c.want + `$`)
			line, at, ok := p.WaitStderr(want, 0)
			if !ok {
				t.Fatalf("no warning matching %s:\n%s", want, p.Stderr())
			}
			t.Logf("%s after start: %s", at.Round(time.Millisecond), line)
			t.Logf("offer printed %s after start, %s without TURN", offerAt.Round(time.Millisecond), baseline.Round(time.Millisecond))
			if n := strings.Count(p.Stderr(), "pigeon: warning:"); n != 1 {
				t.Errorf("%d warnings, want 1:\n%s", n, p.Stderr())
			}
			// Waiting for the gather timeout (1.5 s) would cost that much
			// more than the baseline; a TLS failure is known before it.
			if extra := offerAt - baseline; extra > peer.DefaultGatherTimeout-250*time.Millisecond {
				t.Errorf("offer printed %s after start, %s later than without TURN: gathering waited instead of ending at the TLS failure", offerAt, extra)
			}
		})
	}

	// e. The offering host is on two LANs and shares only the second with
	// the answering host, whose other LAN uses the same addresses as the
	// offering host's first (two home networks both on 10.1.0.0/24): there
	// a stranger holds the address the offer names. They connect over the
	// LAN they share.
	t.Run("two-lans", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		lan1, lan1b, lan2 := lab.LAN("one", "10.1.0.0/24"), lab.LAN("one-b", "10.1.0.0/24"), lab.LAN("two", "10.2.0.0/24")
		a, b := lab.Host("a"), lab.Host("b")
		lan1.Attach(a, "eth0")                     // 10.1.0.1
		lan1b.Attach(lab.Host("stranger"), "eth0") // 10.1.0.1 too
		lan1b.Attach(b, "eth0")                    // 10.1.0.2
		aAddr, bAddr := lan2.Attach(a, "eth1").Addr, lan2.Attach(b, "eth1").Addr
		chat, join := chatOnce(t, a, b)
		if chat.types() != "host <-> host" || chat.localAddr.Addr() != aAddr || chat.remoteAddr.Addr() != bAddr {
			t.Errorf("chat: path %q, want host %s <-> host %s", chat.line, aAddr, bAddr)
		}
		if join.types() != "host <-> host" || join.localAddr.Addr() != bAddr || join.remoteAddr.Addr() != aAddr {
			t.Errorf("join: path %q, want host %s <-> host %s", join.line, bAddr, aAddr)
		}
	})

	// f. A STUN or TURN server that does not answer (an address of the
	// public segment nobody holds) delays the offer by at most the gather
	// timeout, 1.5 s, and the offer still carries the host's address.
	for _, server := range []struct{ name, flag, url string }{
		{"dead-stun", "--stun", "stun:203.0.113.99:3478"},
		{"dead-turn-udp", "--turn", "turn:u:p@203.0.113.99:3478"},
		{"dead-turn-tcp", "--turn", "turn:u:p@203.0.113.99:3478?transport=tcp"},
	} {
		t.Run(server.name, func(t *testing.T) {
			t.Parallel()
			lab := newLab(t)
			public := lab.LAN("public", "203.0.113.0/24")
			h := lab.Host("h")
			addr := public.Attach(h, "eth0").Addr
			baseline, _, _ := offerTime(t, h)
			at, line, _ := offerTime(t, h, server.flag, server.url)
			t.Logf("%s %s: offer printed %s after start, %s without it", server.flag, server.url, at.Round(time.Millisecond), baseline.Round(time.Millisecond))
			// pion alone waits 5 s for a dead STUN server and 7.8 s for
			// a dead TURN server; pigeon at most its gather timeout,
			// 1.5 s, and a loaded machine adds to that (2.05 s seen with
			// a load average of 9 on 2 cores).
			if extra, limit := at-baseline, 2*peer.DefaultGatherTimeout; extra > limit {
				t.Errorf("offer printed %s after start, %s later than without the server; want at most %s later", at, extra, limit)
			}
			b, err := sdpcodec.Parse(line)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Candidates) == 0 || b.Candidates[0].Addr != addr || b.Candidates[0].Type != sdpcodec.Host {
				t.Errorf("offer carries %v, want the host candidate %s", b.Candidates, addr)
			}
		})
	}

	// a''. Two computers on one LAN: a file of 24 MiB goes over two
	// connections at once (the default between two machines), and arrives
	// whole.
	t.Run("lan-send-lanes", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		a, b := twoOnLAN(lab, "192.168.9.0/24")
		x := startSend(t, a, b, 24<<20)
		x.wait(t)
		t.Logf("send: %s", lastLine(x.send.Stderr()))
	})

	// a'''. A LAN whose switch carries frames of 1,500 bytes and drops
	// larger ones without a word, while both computers' interfaces say
	// 9,000 (jumbo frames): their lanes' full-size packets never arrive.
	// The lanes find out while they are set up, and the file goes over the
	// first connection instead of stalling, whole.
	t.Run("lan-mtu-black-hole", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		a, b := twoOnLAN(lab, "192.168.10.0/24")
		jumbo(a)
		jumbo(b)
		x := startSend(t, a, b, 24<<20)
		for name, side := range x.sides() {
			code, err := side.Wait(60 * time.Second)
			if err != nil || code != 0 {
				t.Fatalf("pigeon %s: exit %d, %v\n%s\njoin:\n%s", name, code, err, side.Stderr(), x.join.Stderr())
			}
			if strings.Contains(side.Stderr(), "carrying the data over") {
				t.Errorf("pigeon %s used lanes the path cannot carry:\n%s", name, side.Stderr())
			}
		}
		x.check(t)
		if !regexp.MustCompile(`(?m)^pigeon: a further connection for the data did not open: the path did not carry packets of 8192 bytes: `).MatchString(x.send.Stderr()) {
			t.Errorf("pigeon send did not say why it used no lanes:\n%s", x.send.Stderr())
		}
		t.Logf("send: %s", lastLine(x.send.Stderr()))
	})

	// a''''. Jumbo frames on one computer only (9,000 bytes; the other
	// and the switch take 1,500): each side's lanes send no larger packets
	// than the other announced it takes, so they carry the file.
	t.Run("lan-mtu-mismatch", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		a, b := twoOnLAN(lab, "192.168.11.0/24")
		jumbo(a)
		x := startSend(t, a, b, 24<<20)
		x.wait(t)
		t.Logf("send: %s", lastLine(x.send.Stderr()))
	})

	// g. A connected peer killed with SIGKILL: the other side reports the
	// connection lost, exits 1, within 10 s.
	t.Run("peer-killed", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		a, b := twoOnLAN(lab, "192.168.7.0/24")
		p := startPair(t, a, b)
		defer p.logOutput(t)
		write(t, p.chat, "are you there?\n")
		if _, _, ok := p.join.WaitStdout(regexp.MustCompile(`^are you there\?$`), 15*time.Second); !ok {
			t.Fatal("the line never arrived")
		}
		killed := time.Now()
		p.chat.Kill()
		code, err := p.join.Wait(20 * time.Second)
		took := time.Since(killed)
		t.Logf("the peer was killed; pigeon join exited %d after %s", code, took.Round(10*time.Millisecond))
		if err != nil || code != 1 {
			t.Fatalf("pigeon join: exit %d, %v; want 1", code, err)
		}
		if !strings.Contains(p.join.Stderr(), "pigeon: error: lost the connection to the peer") {
			t.Errorf("pigeon join did not say it lost the peer")
		}
		if took > 10*time.Second {
			t.Errorf("pigeon join took %s to notice, want at most 10s", took)
		}
	})

	// g. The link of one side is down for 3 s mid-chat: lines typed on
	// both sides meanwhile arrive once it is back, in order, and the chat
	// ends well.
	t.Run("link-outage", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		lan := lab.LAN("lan", "192.168.7.0/24")
		a, b := lab.Host("a"), lab.Host("b")
		link := lan.Attach(a, "eth0")
		lan.Attach(b, "eth0")
		p := startPair(t, a, b)
		defer p.logOutput(t)
		write(t, p.chat, "before from chat\n")
		write(t, p.join, "before from join\n")
		for _, w := range []struct {
			proc *netlab.Proc
			line string
		}{{p.join, "before from chat"}, {p.chat, "before from join"}} {
			if _, _, ok := w.proc.WaitStdout(regexp.MustCompile("^"+w.line+"$"), 15*time.Second); !ok {
				t.Fatalf("%q never arrived", w.line)
			}
		}
		link.Down()
		write(t, p.chat, "during from chat\n")
		write(t, p.join, "during from join\n")
		time.Sleep(3 * time.Second)
		link.Up()
		up := time.Now()
		for _, w := range []struct {
			proc *netlab.Proc
			line string
		}{{p.join, "during from chat"}, {p.chat, "during from join"}} {
			if _, _, ok := w.proc.WaitStdout(regexp.MustCompile("^"+w.line+"$"), 15*time.Second); !ok {
				t.Fatalf("%q never arrived", w.line)
			}
			t.Logf("%q arrived %s after the link came back", w.line, time.Since(up).Round(10*time.Millisecond))
		}
		p.chat.Stdin.Close()
		for _, side := range []struct {
			name string
			proc *netlab.Proc
			want string
		}{{"chat", p.chat, "before from join\nduring from join\n"}, {"join", p.join, "before from chat\nduring from chat\n"}} {
			code, err := side.proc.Wait(15 * time.Second)
			if err != nil || code != 0 {
				t.Errorf("pigeon %s: exit %d, %v; want 0", side.name, code, err)
			}
			if got := side.proc.Stdout(); got != side.want {
				t.Errorf("pigeon %s printed %q, want %q", side.name, got, side.want)
			}
			if strings.Contains(side.proc.Stderr(), "interrupted") {
				t.Logf("pigeon %s reported the interruption", side.name)
			}
		}
	})

	// g. The sending computer's cable is out for 3 s in the middle of a
	// file going over the LAN, over two connections (the default there):
	// the transfer waits, goes on when the link is back, and the file
	// arrives byte for byte; both exit 0.
	t.Run("send-link-outage", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		lan := lab.LAN("lan", "192.168.11.0/24")
		a, b := lab.Host("a"), lab.Host("b")
		link := lan.Attach(a, "eth0")
		lan.Attach(b, "eth0")
		x := startSend(t, a, b, 96<<20)
		// The cable goes out once the first 4 MiB are on the receiver's disk.
		x.arrived(t, 4<<20)
		partial := filepath.Join(x.dst, ".big.bin.pigeon-partial")
		link.Down()
		time.Sleep(3 * time.Second)
		fi, err := os.Stat(partial)
		if err != nil || fi.Size() >= int64(len(x.data)) {
			t.Fatalf("the transfer was not under way when the link went down (%v)", err)
		}
		t.Logf("link down for 3 s with %d of %d bytes received", fi.Size(), len(x.data))
		link.Up()
		up := time.Now()
		x.wait(t)
		t.Logf("both done %s after the link came back", time.Since(up).Round(10*time.Millisecond))
		for name, side := range x.sides() {
			if strings.Contains(side.Stderr(), "restarting the connection") {
				t.Logf("pigeon %s restarted ICE", name)
			}
		}
		t.Logf("all %d bytes intact; send: %s", len(x.data), lastLine(x.send.Stderr()))
	})

	// h'. A move mid-transfer: the joining host gets a second address,
	// then loses the first, once 4 MiB of a file sent over lanes arrived.
	// The lanes restart ICE with the first connection, and the file
	// arrives whole.
	t.Run("send-address-change", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		lan := lab.LAN("lan", "192.168.12.0/24")
		a, b := lab.Host("a"), lab.Host("b")
		lan.Attach(a, "eth0")
		old := lan.Attach(b, "eth0").Addr
		b.Sysctl("net.ipv4.conf.eth0.promote_secondaries=1")
		x := startSend(t, a, b, 96<<20)
		x.arrived(t, 4<<20)
		b.IP("addr", "add", "192.168.12.50/24", "dev", "eth0")
		b.IP("addr", "del", old.String()+"/24", "dev", "eth0")
		moved := time.Now()
		x.wait(t)
		t.Logf("both done %s after the move; send: %s", time.Since(moved).Round(10*time.Millisecond), lastLine(x.send.Stderr()))
	})

	// h. Make before break: the joining host gets a second address on its
	// LAN, then loses the first, mid-chat (a laptop moving from one address
	// to the next). Each change restarts ICE, asked for over the live
	// connection; the chat goes on over the new address with nothing
	// carried by hand, and no line is lost.
	t.Run("address-change-in-band", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		lan := lab.LAN("lan", "192.168.9.0/24")
		a, b := lab.Host("a"), lab.Host("b")
		lan.Attach(a, "eth0")
		old := lan.Attach(b, "eth0").Addr
		moved := netip.MustParseAddr("192.168.9.50")
		// Without this, removing the first address of a subnet removes the
		// others in it too.
		b.Sysctl("net.ipv4.conf.eth0.promote_secondaries=1")
		p := startPair(t, a, b)
		defer p.logOutput(t)
		say := func(line string) {
			t.Helper()
			write(t, p.chat, line+" from chat\n")
			write(t, p.join, line+" from join\n")
		}
		arrived := func(line string) {
			t.Helper()
			for _, w := range []struct {
				proc *netlab.Proc
				line string
			}{{p.join, line + " from chat"}, {p.chat, line + " from join"}} {
				if _, _, ok := w.proc.WaitStdout(regexp.MustCompile("^"+w.line+"$"), 20*time.Second); !ok {
					t.Fatalf("%q never arrived", w.line)
				}
			}
		}
		say("before")
		arrived("before")
		b.IP("addr", "add", moved.String()+"/24", "dev", "eth0")
		say("while adding")
		told := regexp.MustCompile(`^pigeon: this computer's network changed; the other computer was told over the connection$`)
		if _, at, ok := p.join.WaitStderr(told, 20*time.Second); !ok {
			t.Fatal("pigeon join never told the other side of the new address")
		} else {
			t.Logf("join: restarted and told chat over the connection (%s after start)", at.Round(10*time.Millisecond))
		}
		arrived("while adding")
		b.IP("addr", "del", old.String()+"/24", "dev", "eth0")
		changed := time.Now()
		say("while moving")
		back := regexp.MustCompile(`^pigeon: the connection is back: host ` + regexp.QuoteMeta(moved.String()) + `:\d+ <-> `)
		deadline := time.Now().Add(20 * time.Second)
		for !slices.ContainsFunc(strings.Split(p.join.Stderr(), "\n"), back.MatchString) {
			if time.Now().After(deadline) {
				t.Fatal("pigeon join never reported the connection back on its new address")
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("join: back on %s (%s after the old address went)", moved, time.Since(changed).Round(10*time.Millisecond))
		arrived("while moving")
		say("after")
		arrived("after")
		p.chat.Stdin.Close()
		for _, side := range []*netlab.Proc{p.chat, p.join} {
			if code, err := side.Wait(15 * time.Second); err != nil || code != 0 {
				t.Errorf("exit %d, %v; want 0", code, err)
			}
			if strings.Contains(side.Stderr(), "reconnect blob") {
				t.Errorf("a reconnect blob was shown though the change was told over the connection")
			}
		}
	})

	// i. Break before make, where only a blob helps: the chatting host is
	// behind a NAT with no STUN server, the joining host on the public
	// segment; the joiner's address changes at once. It cannot reach the
	// chatting host (the NAT only lets in what answers its own traffic,
	// which went to the old address), and the chatting host does not know
	// the new address: the joiner prints a reconnect blob, a person pastes
	// it into the chat, and the chat goes on. Both wait (--reconnect-wait)
	// instead of ending when the connection counts as lost.
	t.Run("address-change-by-hand", func(t *testing.T) {
		t.Parallel()
		lab := newLab(t)
		public := lab.LAN("public", "203.0.113.0/24")
		lanA := lab.LAN("a", "10.0.1.0/24")
		router := lab.Router("router-a", public, lanA, netlab.EndpointIndependent)
		a, b := lab.Host("a"), lab.Host("b")
		lanA.Attach(a, "eth0")
		a.DefaultRoute(router.LAN.Addr)
		old := public.Attach(b, "eth0").Addr
		moved := netip.MustParseAddr("203.0.113.77")
		p := startPair(t, a, b, "--reconnect-wait", "60s")
		defer p.logOutput(t)
		write(t, p.chat, "before from chat\n")
		if _, _, ok := p.join.WaitStdout(regexp.MustCompile(`^before from chat$`), 20*time.Second); !ok {
			t.Fatal("the first line never arrived")
		}
		b.IP("addr", "del", old.String()+"/24", "dev", "eth0")
		b.IP("addr", "add", moved.String()+"/24", "dev", "eth0")
		changed := time.Now()
		write(t, p.chat, "during from chat\n")
		write(t, p.join, "during from join\n")
		var blob string
		for deadline := time.Now().Add(30 * time.Second); blob == ""; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("pigeon join showed no reconnect blob")
			}
			_, after, _ := strings.Cut(p.join.Stderr(), "Carry this reconnect blob")
			for _, line := range strings.Split(after, "\n") {
				if strings.HasPrefix(line, sdpcodec.Prefix) {
					blob = line
					break
				}
			}
		}
		b2, err := sdpcodec.Parse(blob)
		if err != nil {
			t.Fatalf("the reconnect blob %q: %v", blob, err)
		}
		t.Logf("reconnect blob shown %s after the change: %s (%d characters)", time.Since(changed).Round(10*time.Millisecond), blob, len(blob))
		if b2.Kind != sdpcodec.Reconnect || len(b2.Candidates) == 0 || b2.Candidates[0].Addr != moved {
			t.Errorf("reconnect blob %+v, want one naming %s", b2, moved)
		}
		pasted := time.Now()
		write(t, p.chat, blob+"\n")
		back := regexp.MustCompile(`^pigeon: the connection is back: `)
		line, _, ok := p.chat.WaitStderr(back, 20*time.Second)
		if !ok {
			t.Fatal("pigeon chat never reported the connection back")
		}
		t.Logf("chat: %s (%s after the paste)", line, time.Since(pasted).Round(10*time.Millisecond))
		for _, w := range []struct {
			proc *netlab.Proc
			line string
		}{{p.join, "during from chat"}, {p.chat, "during from join"}} {
			if _, _, ok := w.proc.WaitStdout(regexp.MustCompile("^"+w.line+"$"), 20*time.Second); !ok {
				t.Fatalf("%q never arrived", w.line)
			}
		}
		p.chat.Stdin.Close()
		for _, side := range []struct {
			name string
			proc *netlab.Proc
			want string
		}{{"chat", p.chat, "during from join\n"}, {"join", p.join, "before from chat\nduring from chat\n"}} {
			if code, err := side.proc.Wait(15 * time.Second); err != nil || code != 0 {
				t.Errorf("pigeon %s: exit %d, %v; want 0", side.name, code, err)
			}
			if got := side.proc.Stdout(); got != side.want {
				t.Errorf("pigeon %s printed %q, want %q", side.name, got, side.want)
			}
		}
	})
}

// offerTime starts `pigeon chat` in h with args and returns how long it
// took to print its offer, the offer, and the process (killed by then).
// A scenario compares it with the same without its args, measured just
// before on the same machine as loaded as it is then.
func offerTime(t *testing.T, h *netlab.Host, args ...string) (time.Duration, string, *netlab.Proc) {
	t.Helper()
	p := h.Start(20*time.Second, pigeonPath(t), append([]string{"chat", "--in", filepath.Join(t.TempDir(), "never")}, args...)...)
	line, at, ok := p.WaitStderr(regexp.MustCompile(`^`+sdpcodec.Prefix), 10*time.Second)
	p.Kill()
	<-p.Done()
	if !ok {
		t.Fatalf("no offer within 10 s:\n%s", p.Stderr())
	}
	return at, line, p
}

func reflexive(typ string) bool { return typ == "srflx" || typ == "prflx" }

func pathOf(t *testing.T, cmd string) string {
	t.Helper()
	p, err := exec.LookPath(cmd)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// twoOnLAN builds a LAN with two hosts on it, a and b.
func twoOnLAN(lab *netlab.Lab, cidr string) (a, b *netlab.Host) {
	lan := lab.LAN("lan", cidr)
	a, b = lab.Host("a"), lab.Host("b")
	lan.Attach(a, "eth0")
	lan.Attach(b, "eth0")
	return a, b
}

// jumbo gives h's eth0 an MTU of 9,000 bytes. As a real interface does, it
// then cuts a run of packets sent in one call into packets of their size
// before they leave: the virtual link would otherwise carry the run whole,
// past what the LAN takes.
func jumbo(h *netlab.Host) {
	h.IP("link", "set", "dev", "eth0", "mtu", "9000", "gso_max_segs", "1")
}

// sending is `pigeon send` of one file of random bytes, big.bin, to
// `pigeon join --yes` into the folder dst.
type sending struct {
	send, join *netlab.Proc
	data       []byte
	dst        string
}

// startSend starts `pigeon join` in b and `pigeon send` in a for a file
// of size random bytes; they have 90 seconds.
func startSend(t *testing.T, a, b *netlab.Host, size int) *sending {
	t.Helper()
	dir := t.TempDir()
	x := &sending{data: make([]byte, size), dst: filepath.Join(dir, "dst")}
	src := filepath.Join(dir, "big.bin")
	_, _ = rand.Read(x.data)
	if err := os.WriteFile(src, x.data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(x.dst, 0o755); err != nil {
		t.Fatal(err)
	}
	offer, answer := filepath.Join(dir, "offer"), filepath.Join(dir, "answer")
	bin := pigeonPath(t)
	x.join = b.Start(90*time.Second, bin, "join", "--in", offer, "--out", answer, "--connect-timeout", "15s", "--yes", "--dir", x.dst)
	x.send = a.Start(90*time.Second, bin, "send", "--out", offer, "--in", answer, "--connect-timeout", "15s", src)
	return x
}

// arrived waits until n bytes of the file are on the receiver's disk.
func (x *sending) arrived(t *testing.T, n int64) {
	t.Helper()
	partial := filepath.Join(x.dst, ".big.bin.pigeon-partial")
	var got int64
	for deadline := time.Now().Add(40 * time.Second); got < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the file never started arriving\nsend: %s\njoin: %s", x.send.Stderr(), x.join.Stderr())
		}
		if fi, err := os.Stat(partial); err == nil {
			got = fi.Size()
		}
	}
}

// sides yields the two processes by command name, the sender first.
func (x *sending) sides() iter.Seq2[string, *netlab.Proc] {
	return func(yield func(string, *netlab.Proc) bool) {
		_ = yield("send", x.send) && yield("join", x.join)
	}
}

// wait checks that both sides exit 0, having carried the data over two
// connections at once (the default between two machines), and that the
// file arrived whole.
func (x *sending) wait(t *testing.T) {
	t.Helper()
	for name, side := range x.sides() {
		code, err := side.Wait(60 * time.Second)
		if err != nil || code != 0 {
			t.Fatalf("pigeon %s: exit %d, %v\n%s", name, code, err, side.Stderr())
		}
		if !strings.Contains(side.Stderr(), "pigeon: carrying the data over 2 connections at once\n") {
			t.Errorf("pigeon %s did not use two connections:\n%s", name, side.Stderr())
		}
	}
	x.check(t)
}

// check checks that the file arrived whole.
func (x *sending) check(t *testing.T) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(x.dst, "big.bin"))
	if err != nil || !bytes.Equal(got, x.data) {
		t.Fatalf("the received file differs from the one sent (%v)", err)
	}
}

// lastLine is the last line of text.
func lastLine(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return lines[len(lines)-1]
}

package netlab_test

import (
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"pigeon/internal/netlab"
	"pigeon/internal/testenv"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"turnserver": netlab.TURNServerMain,
		"stunprobe":  netlab.STUNProbeMain,
	})
}

// TestNAT: a STUN server on two ports sees a host behind a router without
// NAT at its own address, behind an endpoint-independent NAT at one mapped
// address for both, and behind a symmetric NAT at a different port for
// each.
func TestNAT(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t)
	public := lab.LAN("public", "203.0.113.0/24")
	server := lab.Host("server")
	srv := public.Attach(server, "eth0").Addr
	server.StartTURN(netip.AddrPortFrom(srv, 3478), "u", "p")
	server.StartTURN(netip.AddrPortFrom(srv, 3479), "u", "p")
	servers := []netip.AddrPort{netip.AddrPortFrom(srv, 3478), netip.AddrPortFrom(srv, 3479)}

	for i, nat := range []netlab.NAT{netlab.NoNAT, netlab.EndpointIndependent, netlab.Symmetric} {
		lan := lab.LAN("lan"+string(rune('a'+i)), "10.0."+string(rune('1'+i))+".0/24")
		r := lab.Router("router"+string(rune('a'+i)), public, lan, nat)
		h := lab.Host("host" + string(rune('a'+i)))
		addr := lan.Attach(h, "eth0").Addr
		h.DefaultRoute(r.LAN.Addr)
		if nat == netlab.NoNAT {
			server.IP("route", "add", lan.Prefix.String(), "via", r.WAN.Addr.String())
		}

		m := h.STUNMapped(servers...)
		t.Logf("%s: %s sent from one socket is seen at %s and %s", nat, addr, m[0], m[1])
		switch nat {
		case netlab.NoNAT:
			if m[0].Addr() != addr || m[1] != m[0] {
				t.Errorf("%s: mapped %v, want %s twice", nat, m, addr)
			}
		case netlab.EndpointIndependent:
			if m[0].Addr() != r.WAN.Addr || m[1] != m[0] {
				t.Errorf("%s: mapped %v, want one port of %s for both servers", nat, m, r.WAN.Addr)
			}
		case netlab.Symmetric:
			if m[0].Addr() != r.WAN.Addr || m[1].Addr() != r.WAN.Addr || m[1].Port() == m[0].Port() {
				t.Errorf("%s: mapped %v, want two ports of %s", nat, m, r.WAN.Addr)
			}
		}
	}
}

// TestIsolation: hosts reach each other on a LAN, and a router's WAN
// address through their router; a host behind a NAT cannot reach a
// private address behind another one, nor its LAN neighbour while its
// link is down, nor anything outside the lab. (Reaching is a STUN
// request answered.)
func TestIsolation(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t)
	public := lab.LAN("public", "203.0.113.0/24")
	lanA := lab.LAN("a", "10.0.1.0/24")
	lanB := lab.LAN("b", "10.0.2.0/24")
	ra := lab.Router("ra", public, lanA, netlab.EndpointIndependent)
	rb := lab.Router("rb", public, lanB, netlab.EndpointIndependent)
	a, a2, b, server := lab.Host("a"), lab.Host("a2"), lab.Host("b"), lab.Host("server")
	linkA := lanA.Attach(a, "eth0")
	a2Addr := lanA.Attach(a2, "eth0").Addr
	bAddr := lanB.Attach(b, "eth0").Addr
	srv := public.Attach(server, "eth0").Addr
	a.DefaultRoute(ra.LAN.Addr)
	b.DefaultRoute(rb.LAN.Addr)
	for _, s := range []struct {
		h    *netlab.Host
		addr netip.Addr
	}{{a2, a2Addr}, {b, bAddr}, {server, srv}} {
		s.h.StartTURN(netip.AddrPortFrom(s.addr, 3478), "u", "p")
	}
	stunprobe, err := exec.LookPath("stunprobe")
	if err != nil {
		t.Fatal(err)
	}
	reaches := func(h *netlab.Host, to netip.Addr) bool {
		return h.Command(t.Context(), stunprobe, netip.AddrPortFrom(to, 3478).String()).Run() == nil
	}
	if !reaches(a, a2Addr) {
		t.Errorf("a cannot reach a2 on their LAN")
	}
	if !reaches(a, srv) || !reaches(b, srv) {
		t.Errorf("a or b cannot reach the public server through its router")
	}
	if reaches(a, bAddr) {
		t.Errorf("a reaches b's private address %s across two NATs", bAddr)
	}
	if reaches(a, netip.MustParseAddr("192.0.2.1")) {
		t.Errorf("a reaches an address outside the lab")
	}
	linkA.Down()
	if reaches(a, a2Addr) {
		t.Errorf("a reaches a2 with its link down")
	}
	linkA.Up()
	if !reaches(a, a2Addr) {
		t.Errorf("a cannot reach a2 once its link is up again")
	}
}

// TestCleanup: a lab's namespaces and processes are gone once its test
// has ended.
func TestCleanup(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "needs root to make network namespaces")
	}
	var prefix string
	var proc *netlab.Proc
	t.Run("lab", func(t *testing.T) {
		lab := netlab.New(t)
		h := lab.Host("h")
		lab.LAN("lan", "10.9.0.0/24").Attach(h, "eth0")
		prefix = strings.TrimSuffix(h.NS, "h")
		proc = h.Start(time.Minute, "sleep", "60")
		if _, err := proc.Wait(100 * time.Millisecond); err == nil {
			t.Fatal("sleep 60 ended at once")
		}
	})
	if proc == nil {
		t.Fatal("the lab was not made")
	}
	select {
	case <-proc.Done():
	default:
		t.Errorf("the lab's process still runs after its test ended")
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(prefix)).Match(out) {
		t.Errorf("namespaces %s* left behind:\n%s", prefix, out)
	}
}

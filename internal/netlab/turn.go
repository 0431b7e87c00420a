package netlab

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// turnRealm is the realm of the lab's TURN servers.
const turnRealm = "netlab"

// TURNServerMain is the main function of the helper command
//
//	turnserver [-cert FILE -key FILE] ADDR USER PASS
//
// a STUN and TURN server (pion/turn) on ADDR (IP:PORT), over UDP and TCP,
// for the one user USER with password PASS (long-term credentials). With
// -cert and -key (PEM files) it listens with TLS over TCP on ADDR instead,
// as a turns: server does. Its relay addresses are on ADDR's IP. It prints
// "turnserver: ready" once it listens and runs until it is signalled or
// its standard input ends.
func TURNServerMain() {
	if err := turnServer(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "turnserver: %v\n", err)
		os.Exit(1)
	}
}

func turnServer(args []string, stdin io.Reader, stdout io.Writer) error {
	const usage = "usage: turnserver [-cert FILE -key FILE] IP:PORT USER PASS"
	fs := flag.NewFlagSet("turnserver", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	certFile := fs.String("cert", "", "")
	keyFile := fs.String("key", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 3 || (*certFile == "") != (*keyFile == "") {
		return errors.New(usage)
	}
	args = fs.Args()
	addr, err := netip.ParseAddrPort(args[0])
	if err != nil {
		return err
	}
	user, key := args[1], turn.GenerateAuthKey(args[1], turnRealm, args[2])
	relays := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: net.IP(addr.Addr().AsSlice()), Address: addr.Addr().String()}
	}
	cfg := turn.ServerConfig{
		Realm: turnRealm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username != user {
				return "", nil, false
			}
			return user, key, true
		},
	}
	var over string
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return err
		}
		l, err := tls.Listen("tcp4", addr.String(), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			return err
		}
		cfg.ListenerConfigs = []turn.ListenerConfig{{Listener: l, RelayAddressGenerator: relays()}}
		over = "tls"
	} else {
		udp, err := net.ListenPacket("udp4", addr.String())
		if err != nil {
			return err
		}
		tcp, err := net.Listen("tcp4", addr.String())
		if err != nil {
			return err
		}
		cfg.PacketConnConfigs = []turn.PacketConnConfig{{PacketConn: udp, RelayAddressGenerator: relays()}}
		cfg.ListenerConfigs = []turn.ListenerConfig{{Listener: tcp, RelayAddressGenerator: relays()}}
		over = "udp, tcp"
	}
	srv, err := turn.NewServer(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "turnserver: ready on %s (%s)\n", addr, over)
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(ended)
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sigs:
	case <-ended:
	}
	return srv.Close()
}

// StartTURN starts the helper command turnserver (see [TURNServerMain]) in
// h on addr and waits until it is ready. It runs until the test ends.
func (h *Host) StartTURN(addr netip.AddrPort, user, pass string) *Proc {
	h.lab.t.Helper()
	return h.startTURN(addr, addr.String(), user, pass)
}

// StartTURNS starts the helper command turnserver in h listening with TLS
// over TCP on addr, with the certificate and key in certFile and keyFile
// (see [CA.Issue]), and waits until it is ready. It runs until the test
// ends.
func (h *Host) StartTURNS(addr netip.AddrPort, user, pass, certFile, keyFile string) *Proc {
	h.lab.t.Helper()
	return h.startTURN(addr, "-cert", certFile, "-key", keyFile, addr.String(), user, pass)
}

func (h *Host) startTURN(addr netip.AddrPort, args ...string) *Proc {
	t := h.lab.t
	t.Helper()
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Fatalf("netlab: %v (register netlab.TURNServerMain as turnserver)", err)
	}
	p := h.Start(10*time.Minute, bin, args...)
	if _, _, ok := p.WaitStdout(regexp.MustCompile(`^turnserver: ready`), 10*time.Second); !ok {
		p.Kill()
		<-p.Done()
		t.Fatalf("netlab: turnserver on %s did not start:\n%s", addr, p.Stderr())
	}
	return p
}

// STUNProbeMain is the main function of the helper command
//
//	stunprobe SERVER...
//
// which sends a STUN binding request to each SERVER (IP:PORT) from one
// UDP socket, in turn, and prints "SERVER MAPPED" for each: the address
// the server saw. Behind an endpoint-independent NAT the mapped addresses
// are all the same; behind a symmetric NAT they differ.
func STUNProbeMain() {
	if err := stunProbe(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "stunprobe: %v\n", err)
		os.Exit(1)
	}
}

func stunProbe(servers []string, stdout io.Writer) error {
	if len(servers) == 0 {
		return errors.New("usage: stunprobe IP:PORT [IP:PORT ...]")
	}
	conn, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range servers {
		server, err := net.ResolveUDPAddr("udp4", s)
		if err != nil {
			return err
		}
		mapped, err := bindingRequest(conn, server)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		fmt.Fprintf(stdout, "%s %s\n", s, mapped)
	}
	return nil
}

// bindingRequest asks server for our mapped address, trying a few times.
func bindingRequest(conn *net.UDPConn, server *net.UDPAddr) (netip.AddrPort, error) {
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return netip.AddrPort{}, err
	}
	buf := make([]byte, 1500)
	for range 5 {
		if _, err := conn.WriteToUDP(req.Raw, server); err != nil {
			return netip.AddrPort{}, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				break // timed out: ask again
			}
			if !from.IP.Equal(server.IP) || from.Port != server.Port {
				continue
			}
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if res.Decode() != nil || res.TransactionID != req.TransactionID {
				continue
			}
			var xor stun.XORMappedAddress
			if err := xor.GetFrom(res); err != nil {
				return netip.AddrPort{}, err
			}
			ip, _ := netip.AddrFromSlice(xor.IP)
			return netip.AddrPortFrom(ip.Unmap(), uint16(xor.Port)), nil
		}
	}
	return netip.AddrPort{}, errors.New("no answer")
}

// STUNMapped runs the helper command stunprobe (see [STUNProbeMain]) in h
// and returns the address each server saw, in order.
func (h *Host) STUNMapped(servers ...netip.AddrPort) []netip.AddrPort {
	t := h.lab.t
	t.Helper()
	bin, err := exec.LookPath("stunprobe")
	if err != nil {
		t.Fatalf("netlab: %v (register netlab.STUNProbeMain as stunprobe)", err)
	}
	args := []string{}
	for _, s := range servers {
		args = append(args, s.String())
	}
	out := h.Run(bin, args...)
	var mapped []netip.AddrPort
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		_, m, _ := strings.Cut(line, " ")
		a, err := netip.ParseAddrPort(m)
		if err != nil {
			t.Fatalf("netlab: stunprobe printed %q", line)
		}
		mapped = append(mapped, a)
	}
	if len(mapped) != len(servers) {
		t.Fatalf("netlab: stunprobe answered for %d of %d servers:\n%s", len(mapped), len(servers), out)
	}
	return mapped
}

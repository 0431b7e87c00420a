package hostnet

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// TestMapped: the STUN server's answer names the socket itself (on
// loopback no NAT is between, so the mapped address is the socket's), and
// a server that does not answer costs the wait given, no more.
func TestMapped(t *testing.T) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:             "pigeon.test",
		AuthHandler:       func(*turn.RequestAttributes) (string, []byte, bool) { return "", nil, false },
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: conn, RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h, err := Listen(Policy{Loopback: true, IPv4Only: true}, logging.NewDefaultLoggerFactory())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addrs := h.GetListenAddresses()
	if len(addrs) != 1 {
		t.Fatalf("sockets on %v, want one on 127.0.0.1", addrs)
	}
	socket := addrs[0].(*net.UDPAddr).AddrPort()

	server := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := h.Mapped(ctx, []netip.AddrPort{server})
	if len(got) != 1 || got[0].Mapped != socket || got[0].Local != socket {
		t.Fatalf("Mapped = %+v, want the socket %s seen as itself", got, socket)
	}

	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	start := time.Now()
	got = h.Mapped(ctx, []netip.AddrPort{silent.LocalAddr().(*net.UDPAddr).AddrPort(), server})
	if took := time.Since(start); len(got) != 1 || took > 2*time.Second {
		t.Errorf("with a silent server: %+v after %s, want the other's answer after about 600ms", got, took)
	}
	if _, err := silent.(*net.UDPConn).Read(make([]byte, 100)); err != nil {
		t.Errorf("the silent server was not asked: %v", err)
	}
}

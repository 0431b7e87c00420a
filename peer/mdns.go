package peer

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/mdns/v2"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The other side's mDNS names.
//
// Browsers hide their LAN addresses behind random names ending in .local
// (draft-ietf-mmusic-mdns-ice-candidates), answered by multicast DNS on
// the LAN; so does pigeon with --mdns. pion resolves such names itself,
// but only after the description was applied and while checks already
// run: the other side's first check then makes a peer-reflexive
// candidate, which pion (as the controlling side) waits a second to
// nominate, and the path names no host. So pigeon asks for the names
// first, all at once and for at most mdnsWait, and gives pion the
// description with the addresses in place of the names it resolved; a
// name that does not resolve stays for pion to try.

// mdnsWait bounds how long the names are asked for: an answer on a LAN
// comes within milliseconds.
const mdnsWait = time.Second

// resolveNames resolves the mDNS names of the other side's description,
// which it returns with their addresses in place, and keeps them for
// [Peer.Path].
func (p *Peer) resolveNames(ctx context.Context, description string) string {
	description, p.names = resolveNames(ctx, description, p.relay)
	return description
}

// resolveNames returns description with every mDNS name of its candidate
// lines that resolved on the LAN replaced by its address, and the names
// it resolved.
func resolveNames(ctx context.Context, description string, lf logging.LoggerFactory) (string, map[string]netip.Addr) {
	lines := strings.Split(description, "\n")
	var names []string
	for _, l := range lines {
		if name, ok := candidateName(l); ok {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return description, nil
	}
	resolved := queryNames(ctx, names, lf)
	if len(resolved) == 0 {
		return description, nil
	}
	for i, l := range lines {
		name, ok := candidateName(l)
		if !ok {
			continue
		}
		if addr, ok := resolved[name]; ok {
			f := strings.Fields(l)
			f[4] = addr.String()
			lines[i] = strings.Join(f, " ")
			if strings.HasSuffix(l, "\r") && !strings.HasSuffix(lines[i], "\r") {
				lines[i] += "\r"
			}
		}
	}
	return strings.Join(lines, "\n"), resolved
}

// candidateName returns the mDNS name of a candidate line, if it has one.
func candidateName(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "a=candidate:")
	if !ok {
		return "", false
	}
	f := strings.Fields(rest)
	if len(f) < 8 || !strings.HasSuffix(strings.ToLower(f[4]), ".local") {
		return "", false
	}
	return f[4], true
}

// queryNames asks the LAN for names by multicast DNS and returns those
// that were answered within mdnsWait.
func queryNames(ctx context.Context, names []string, lf logging.LoggerFactory) map[string]netip.Addr {
	conn := mdnsConn(lf)
	if conn == nil {
		return nil
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, mdnsWait)
	defer cancel()
	var (
		mu       sync.Mutex
		resolved = map[string]netip.Addr{}
		wg       sync.WaitGroup
	)
	for _, name := range names {
		wg.Go(func() {
			_, addr, err := conn.QueryAddr(ctx, name)
			if err != nil || !addr.IsValid() {
				return
			}
			mu.Lock()
			resolved[name] = addr.WithZone("")
			mu.Unlock()
		})
	}
	wg.Wait()
	return resolved
}

// mdnsConn opens a multicast DNS client on the families this machine has,
// or returns nil.
func mdnsConn(lf logging.LoggerFactory) *mdns.Conn {
	var p4 *ipv4.PacketConn
	var p6 *ipv6.PacketConn
	if a, err := net.ResolveUDPAddr("udp4", mdns.DefaultAddressIPv4); err == nil {
		if l, err := net.ListenUDP("udp4", a); err == nil {
			p4 = ipv4.NewPacketConn(l)
		}
	}
	if a, err := net.ResolveUDPAddr("udp6", mdns.DefaultAddressIPv6); err == nil {
		if l, err := net.ListenUDP("udp6", a); err == nil {
			p6 = ipv6.NewPacketConn(l)
		}
	}
	if p4 == nil && p6 == nil {
		return nil
	}
	conn, err := mdns.NewServer(p4, p6, mdns.WithLoggerFactory(lf))
	if err != nil {
		if p4 != nil {
			_ = p4.Close()
		}
		if p6 != nil {
			_ = p6.Close()
		}
		return nil
	}
	return conn
}

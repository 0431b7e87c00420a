package link

import "testing"

// TestSCTPPacketSize: a link's packets fill the path's IP packets, within
// what pion reads whole and never below a PeerConnection's.
func TestSCTPPacketSize(t *testing.T) {
	for _, c := range []struct {
		path int
		ipv4 bool
		want uint32
	}{
		{65536, true, 8155}, // loopback
		{1500, true, 1435},  // Ethernet
		{1500, false, 1415}, // Ethernet, IPv6
		{9000, true, 8155},  // jumbo frames
		{1420, true, 1355},  // WireGuard
		{1280, false, 1195}, // IPv6's minimum
		{576, true, 1191},   // below pion's: the kernel fragments, as for pion
		{0, false, 1191},    // unknown
	} {
		if got := PacketSize(c.path, c.ipv4); got != c.want {
			t.Errorf("path MTU %d (IPv4 %v): %d, want %d", c.path, c.ipv4, got, c.want)
		}
	}
}

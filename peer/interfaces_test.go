package peer

import (
	"context"
	"testing"
	"time"

	"pigeon/sdpcodec"
)

// TestAddressFamilies: IPv4Only and IPv6Only choose what the blob carries.
func TestAddressFamilies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cases := []struct {
		name string
		opts Options
		is4  bool
	}{
		{"ipv4", Options{Loopback: true, IPv4Only: true}, true},
		{"ipv6", Options{IPv6Only: true}, false}, // pion never gathers ::1
	}
	for _, c := range cases {
		p, err := Offer(ctx, c.opts, sdpcodec.AppChat)
		if err != nil {
			t.Fatal(err)
		}
		cands := p.Local().Candidates
		p.Close()
		if len(cands) == 0 {
			if !c.is4 && !hasIPv6() {
				continue // no routable IPv6 address on this machine
			}
			t.Errorf("%s: no candidates", c.name)
		}
		for _, cand := range cands {
			if cand.Addr.Is4() != c.is4 {
				t.Errorf("%s: candidate %s has the wrong address family", c.name, cand)
			}
		}
	}
}

func hasIPv6() bool {
	for _, p := range localPrefixes() {
		if a := p.Addr(); a.Is6() && !a.IsLoopback() && !a.IsLinkLocalUnicast() {
			return true
		}
	}
	return false
}

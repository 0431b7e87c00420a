package sdpcodec

import (
	"net/netip"
	"testing"

	"pigeon/qrcode"
)

// sizeCases are realistic candidate sets, as pigeon's peer carries them.
func sizeCases() []struct {
	name  string
	cands []Candidate
} {
	host := func(a string, port uint16) Candidate {
		return Candidate{Type: Host, Addr: netip.MustParseAddr(a), Port: port}
	}
	return []struct {
		name  string
		cands []Candidate
	}{
		{"one IPv4 host", []Candidate{host("192.168.1.23", 54321)}},
		{"laptop: Wi-Fi IPv4 and global IPv6", []Candidate{host("192.168.1.23", 54321), host("2001:db8:1::23", 54321)}},
		{"two interfaces sharing a port", []Candidate{host("192.168.1.23", 54321), host("10.8.0.5", 54321)}},
		{"IPv6 only", []Candidate{host("2001:db8:1::23", 54321)}},
		{"host, srflx and relay", []Candidate{host("192.168.1.23", 54321),
			{Type: Srflx, Addr: netip.MustParseAddr("203.0.113.7"), Port: 61000},
			{Type: Relay, Addr: netip.MustParseAddr("198.51.100.9"), Port: 49152}}},
		{"mDNS name", []Candidate{{Type: Host, Hostname: "0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local", Port: 54321}}},
	}
}

func sizeOf(t testing.TB, b *Blob) (chars, version int) {
	t.Helper()
	text, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	version, err = qrcode.Version(text)
	if err != nil {
		t.Fatal(err)
	}
	return len(text), version
}

// TestSizeTargets: one IPv4 host fits 80 characters and QR version 3 (the
// floor: a SHA-256 fingerprint alone needs it); a laptop fits 130 and
// version 4; an answer is never larger than the offer it answers.
func TestSizeTargets(t *testing.T) {
	for _, c := range sizeCases() {
		offer := &Blob{Kind: Offer, App: AppChat, Fingerprint: [32]byte{9}, Candidates: c.cands}
		answer := &Blob{Kind: Answer, Binding: BindingOf(offer), Fingerprint: [32]byte{7}, Candidates: c.cands}
		oc, ov := sizeOf(t, offer)
		ac, av := sizeOf(t, answer)
		t.Logf("%-36s offer %3d characters, QR version %d", c.name, oc, ov)
		if ac > oc || av > ov {
			t.Errorf("%s: answer %d characters (QR %d) is larger than the offer's %d (QR %d)", c.name, ac, av, oc, ov)
		}
		switch c.name {
		case "one IPv4 host":
			if oc > 80 || ov > 3 {
				t.Errorf("%s: %d characters, QR version %d; want at most 80 and 3", c.name, oc, ov)
			}
		case "laptop: Wi-Fi IPv4 and global IPv6":
			if oc > 130 || ov > 4 {
				t.Errorf("%s: %d characters, QR version %d; want at most 130 and 4", c.name, oc, ov)
			}
		}
	}
}

// BenchmarkSizes reports the characters and QR version of each case, and
// the characters of the same description as base64 JSON:
//
//	go test -run '^$' -bench Sizes ./sdpcodec/
func BenchmarkSizes(b *testing.B) {
	for _, c := range sizeCases() {
		b.Run(c.name, func(b *testing.B) {
			blob := &Blob{Kind: Offer, App: AppChat, Fingerprint: [32]byte{9}, Candidates: c.cands}
			for b.Loop() {
				if _, err := blob.Encode(); err != nil {
					b.Fatal(err)
				}
			}
			chars, version := sizeOf(b, blob)
			b.ReportMetric(float64(chars), "chars")
			b.ReportMetric(float64(version), "qr-version")
			// The baseline: the same description as pion's examples print
			// it, base64 JSON (of the rebuilt SDP, shorter than pion's own).
			b.ReportMetric(float64(len(Base64JSON(Offer, blob.SDP()))), "base64json-chars")
		})
	}
}

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pigeon/internal/netlab"
	"pigeon/qrcode"
	"pigeon/sdpcodec"
)

// laptopNamespace makes a host shaped like a laptop: Wi-Fi with an IPv4
// and a global IPv6 address (plus the kernel's link-local ones) and a
// docker0 bridge. It needs root and iproute2 (see internal/netlab).
func laptopNamespace(t *testing.T) *netlab.Host {
	t.Helper()
	h := netlab.New(t).Host("laptop")
	h.IP("link", "add", "name", "wlan0", "type", "veth", "peer", "name", "wlan0-peer")
	h.IP("link", "add", "name", "docker0", "type", "veth", "peer", "name", "docker0-peer")
	for _, dev := range []string{"wlan0", "wlan0-peer", "docker0", "docker0-peer"} {
		h.IP("link", "set", dev, "up")
	}
	h.IP("addr", "add", "192.168.1.23/24", "dev", "wlan0")
	h.IP("addr", "add", "2001:db8:1::23/64", "dev", "wlan0", "nodad")
	h.IP("addr", "add", "172.17.0.1/16", "dev", "docker0")
	return h
}

// offerIn runs `pigeon chat --out FILE ARGS...` in the namespace and reads
// the offer it wrote (pigeon then gives up: its input is empty).
func offerIn(t *testing.T, h *netlab.Host, args ...string) (*sdpcodec.Blob, string) {
	t.Helper()
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "offer")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := h.Command(ctx, bin, append([]string{"chat", "--out", out}, args...)...)
	output, _ := cmd.CombinedOutput()
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no offer written: %v\n%s", err, output)
	}
	b, err := sdpcodec.Parse(string(text))
	if err != nil {
		t.Fatal(err)
	}
	return b, strings.TrimSpace(string(text))
}

// TestLaptopOffer: on a laptop-like host the offer carries the Wi-Fi IPv4
// and global IPv6 addresses only (no loopback, link-local or docker0), in
// at most 130 characters and QR version 4; --ipv4, --ipv6 and --interface
// choose.
func TestLaptopOffer(t *testing.T) {
	laptop := laptopNamespace(t)
	cases := []struct {
		args []string
		want []string
	}{
		{nil, []string{"host udp 192.168.1.23:", "host udp [2001:db8:1::23]:"}},
		{[]string{"--ipv4"}, []string{"host udp 192.168.1.23:"}},
		{[]string{"--ipv6"}, []string{"host udp [2001:db8:1::23]:"}},
		{[]string{"--interface", "docker0"}, []string{"host udp 172.17.0.1:"}},
	}
	for _, c := range cases {
		b, text := offerIn(t, laptop, c.args...)
		var got []string
		for _, cand := range b.Candidates {
			got = append(got, cand.String())
		}
		// The order of the candidates is not part of what is checked
		// (host candidates come out of pion's gathering in any order);
		// want is sorted.
		slices.Sort(got)
		ok := len(got) == len(c.want)
		for i := range got {
			ok = ok && strings.HasPrefix(got[i], c.want[i])
		}
		if !ok {
			t.Errorf("pigeon chat %v: candidates %q, want %q", c.args, got, c.want)
		}
		version, err := qrcode.Version(text)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("pigeon chat %v: %d characters, QR version %d", c.args, len(text), version)
		if c.args == nil && (len(text) > 130 || version > 4) {
			t.Errorf("laptop offer is %d characters, QR version %d; want at most 130 and 4", len(text), version)
		}
	}
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pigeon/qrcode"
	"pigeon/sdpcodec"
)

// laptopNamespace makes a network namespace shaped like a laptop: Wi-Fi
// with an IPv4 and a global IPv6 address (plus the kernel's link-local
// ones) and a docker0 bridge. It needs root and iproute2.
func laptopNamespace(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command (apt-get install iproute2)")
	}
	ns := fmt.Sprintf("pigeon-laptop-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	in := func(args ...string) { run(append([]string{"-n", ns}, args...)...) }
	in("link", "set", "lo", "up")
	in("link", "add", "wlan0", "type", "veth", "peer", "name", "wlan0-peer")
	in("link", "add", "docker0", "type", "veth", "peer", "name", "docker0-peer")
	for _, dev := range []string{"wlan0", "wlan0-peer", "docker0", "docker0-peer"} {
		in("link", "set", dev, "up")
	}
	in("addr", "add", "192.168.1.23/24", "dev", "wlan0")
	in("addr", "add", "2001:db8:1::23/64", "dev", "wlan0", "nodad")
	in("addr", "add", "172.17.0.1/16", "dev", "docker0")
	return ns
}

// offerIn runs `pigeon chat --out FILE ARGS...` in the namespace and reads
// the offer it wrote (pigeon then gives up: its input is empty).
func offerIn(t *testing.T, ns string, args ...string) (*sdpcodec.Blob, string) {
	t.Helper()
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "offer")
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin, "chat", "--out", out}, args...)...)
	cmd.WaitDelay = 5 * time.Second
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
	ns := laptopNamespace(t)
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
		b, text := offerIn(t, ns, c.args...)
		var got []string
		for _, cand := range b.Candidates {
			got = append(got, cand.String())
		}
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

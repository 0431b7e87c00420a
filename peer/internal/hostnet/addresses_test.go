package hostnet

import "testing"

// TestIsVirtual: container and VM bridges are told from real interfaces.
func TestIsVirtual(t *testing.T) {
	for name, want := range map[string]bool{
		"docker0": true, "br-3f2a1b": true, "veth12ab": true, "virbr0": true, "vboxnet0": true,
		"eth0": false, "wlan0": false, "enp3s0": false, "wlp2s0": false, "tailscale0": false, "wg0": false, "lo": false,
	} {
		if got := IsVirtual(name); got != want {
			t.Errorf("IsVirtual(%q) = %v, want %v", name, got, want)
		}
	}
}

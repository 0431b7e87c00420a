package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"pigeon/internal/netlab"
	"pigeon/internal/testenv"
)

// BenchmarkSendLAN: `pigeon send FILE` to `pigeon join --yes` of 256 MiB
// between two hosts on one LAN, against the same file between the same two
// hosts over pion's plain data channel (bench/pionfile) and with OpenSSH's
// scp to an sshd of the benchmark's own on the receiving host (default
// cipher; without sshd, scp or ssh-keygen the scp runs skip). The hosts are
// network namespaces joined by veth links and a bridge, with Ethernet's
// 1,500-byte MTU: there pigeon's lanes send SCTP packets of 1,435 bytes
// (doc/lanes.md) where a PeerConnection sends 1,191. Both hosts run on
// this machine's cores, which two real computers would not share. It needs
// root and iproute2, and skips without them.
//
//	go test -run '^$' -bench SendLAN -benchtime 1x -count 3 ./bench/
func BenchmarkSendLAN(b *testing.B) {
	lab := netlab.New(b)
	lan := lab.LAN("lan", "192.168.50.0/24")
	hosts := []*netlab.Host{lab.Host("a"), lab.Host("b")}
	var links []*netlab.Link
	for _, h := range hosts {
		links = append(links, lan.Attach(h, "eth0"))
	}
	onLAN := func(side int, name string, args ...string) *exec.Cmd {
		cmd := hosts[side].Command(context.Background(), name, args...)
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, "PIONFILE_INTERFACE=eth0")
		return cmd
	}
	dir := b.TempDir()
	pigeon := build(b, dir, "pigeon/cmd/pigeon")
	pionfile := build(b, dir, "pigeon/bench/pionfile")
	const size = 256 << 20
	src := filepath.Join(dir, "file")
	writeRandom(b, src, size)
	ssh, noSSH := startSSH(b, onLAN, 1, links[1].Addr.String())
	b.Run("pigeon", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			sendOnce(b, onLAN, pigeon, dir, src)
		}
	})
	b.Run("pion-plain", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			pionOnce(b, onLAN, pionfile, dir, src)
		}
	})
	b.Run("scp", func(b *testing.B) {
		if ssh == nil {
			testenv.Unavailable(b, "%s", noSSH)
		}
		want := sumFile(b, src)
		b.SetBytes(size)
		for b.Loop() {
			scpOnce(b, ssh, onLAN, 0, dir, src, want)
		}
	})
}

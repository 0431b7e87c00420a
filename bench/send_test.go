package bench

import (
	"crypto/rand"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"pigeon/internal/testenv"
)

// BenchmarkSendFile: `pigeon send FILE` to `pigeon join --yes`, two
// processes over loopback, for a 256 MiB and a 1 GiB file. It reports the
// rate and each side's peak memory (maximum resident set size), against
// three baselines: the same file between two processes over pion's plain
// data channel (bench/pionfile), the same file copied with OpenSSH's scp
// to an sshd of the benchmark's own on 127.0.0.1 (default cipher), and a
// raw TCP copy between two sockets in this process. Without sshd, scp or
// ssh-keygen the scp runs skip.
//
//	go test -run '^$' -bench SendFile -benchtime 1x ./bench/
func BenchmarkSendFile(b *testing.B) {
	dir := b.TempDir()
	pigeon := build(b, dir, "pigeon/cmd/pigeon")
	pionfile := build(b, dir, "pigeon/bench/pionfile")
	ssh, noSSH := startSSH(b, here, 1, "127.0.0.1")
	for _, size := range []int64{256 << 20, 1 << 30} {
		src := filepath.Join(dir, "file")
		writeRandom(b, src, size)
		name := map[int64]string{256 << 20: "256MiB", 1 << 30: "1GiB"}[size]
		b.Run("pigeon/"+name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				sendOnce(b, here, pigeon, dir, src)
			}
		})
		b.Run("pion-plain/"+name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				pionOnce(b, here, pionfile, dir, src)
			}
		})
		b.Run("scp/"+name, func(b *testing.B) {
			if ssh == nil {
				testenv.Unavailable(b, "%s", noSSH)
			}
			want := sumFile(b, src)
			b.SetBytes(size)
			for b.Loop() {
				scpOnce(b, ssh, here, 0, dir, src, want)
			}
		})
		b.Run("tcp/"+name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				tcpCopy(b, src, filepath.Join(dir, "tcp-copy"))
			}
		})
		os.Remove(src)
	}
}

func writeRandom(b *testing.B, path string, size int64) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// commands makes the commands of one session: the offering side's (0)
// and the answering side's (1).
type commands func(side int, name string, args ...string) *exec.Cmd

// here runs both sides on this machine as it is.
func here(_ int, name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func sendOnce(b *testing.B, cmd commands, pigeon, dir, src string) {
	b.Helper()
	b.StopTimer()
	work, offer, answer := runDir(b, dir)
	defer os.RemoveAll(work)
	dst := filepath.Join(work, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		b.Fatal(err)
	}
	send := cmd(0, pigeon, "send", "--out", offer, "--in", answer, src)
	join := cmd(1, pigeon, "join", "--yes", "--dir", dst, "--in", offer, "--out", answer)
	runPair(b, send, join)
	b.ReportMetric(peakMiB(send), "send-peak-MiB")
	b.ReportMetric(peakMiB(join), "join-peak-MiB")
	b.StartTimer()
}

// pionOnce carries src between two pionfile processes.
func pionOnce(b *testing.B, cmd commands, pionfile, dir, src string) {
	b.Helper()
	b.StopTimer()
	work, offer, answer := runDir(b, dir)
	defer os.RemoveAll(work)
	send := cmd(0, pionfile, "send", src, offer, answer)
	receive := cmd(1, pionfile, "receive", filepath.Join(work, "copy"), offer, answer)
	runPair(b, send, receive)
	b.ReportMetric(peakMiB(send), "send-peak-MiB")
	b.ReportMetric(peakMiB(receive), "join-peak-MiB")
	b.StartTimer()
}

// runDir makes a folder in dir for one run (the caller removes it) and
// names the offer and answer files in it.
func runDir(b *testing.B, dir string) (work, offer, answer string) {
	b.Helper()
	work, err := os.MkdirTemp(dir, "run")
	if err != nil {
		b.Fatal(err)
	}
	return work, filepath.Join(work, "offer"), filepath.Join(work, "answer")
}

// runPair times one session: the offering command and the one that
// answers it, from the offerer's start until both have exited well.
func runPair(b *testing.B, offerer, answerer *exec.Cmd) {
	b.Helper()
	for _, c := range []*exec.Cmd{offerer, answerer} {
		c.Stderr = io.Discard
		c.WaitDelay = time.Minute
	}
	b.StartTimer()
	if err := offerer.Start(); err != nil {
		b.Fatal(err)
	}
	if err := answerer.Run(); err != nil {
		b.Fatalf("%s %s: %v", filepath.Base(answerer.Path), answerer.Args[1], err)
	}
	if err := offerer.Wait(); err != nil {
		b.Fatalf("%s %s: %v", filepath.Base(offerer.Path), offerer.Args[1], err)
	}
	b.StopTimer()
}

// peakMiB is a finished process's maximum resident set size.
func peakMiB(c *exec.Cmd) float64 {
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return 0
}

func tcpCopy(b *testing.B, src, dst string) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		f, err := os.Create(dst)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, c)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(c, f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	c.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	os.Remove(dst)
}

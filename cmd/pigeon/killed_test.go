package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestKilledMidway: a `pigeon send` or `pigeon join` killed (SIGKILL, no
// goodbye) in the middle of a large file leaves the file only under its
// partial name on the receiving side; the side still running fails with a
// clear error within 10 s of the kill. Running the same commands again
// continues from what arrived, sends fewer bytes, and ends with the same
// SHA-256 as the source.
func TestKilledMidway(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	const size = 96 << 20
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	want := writeRandomFile(t, src, size)
	for _, victim := range []string{"send", "join"} {
		t.Run("kill "+victim, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			if err := os.Mkdir(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			final := filepath.Join(dst, "big.bin")
			partial := filepath.Join(dst, ".big.bin.pigeon-partial")

			run := startTransfer(t, bin, src, dst)
			// Kill once an eighth of the file is in the partial file.
			deadline := time.Now().Add(60 * time.Second)
			for {
				if info, err := os.Stat(partial); err == nil && info.Size() >= size/8 {
					break
				}
				if run.exited() || time.Now().After(deadline) {
					t.Fatalf("the transfer did not get under way:\nsend:\n%s\njoin:\n%s", run.send.stderr, run.join.stderr)
				}
				time.Sleep(5 * time.Millisecond)
			}
			killed, other := run.send, run.join
			if victim == "join" {
				killed, other = run.join, run.send
			}
			if err := killed.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killedAt := time.Now()
			<-killed.done
			select {
			case <-other.done:
			case <-time.After(10 * time.Second):
				t.Fatalf("pigeon %s still runs 10 s after the other side was killed:\n%s", other.name, other.stderr)
			}
			t.Logf("pigeon %s exited %v after the kill:\n%s", other.name, time.Since(killedAt).Round(time.Millisecond), other.stderr)
			if code := other.cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("pigeon %s exited %d, want 1:\n%s", other.name, code, other.stderr)
			}
			lost := regexp.MustCompile(`(?m)^pigeon: error: (receiving big\.bin: )?lost the connection to the peer\npigeon: hint: the other computer stopped answering .*: run the same send and join again to finish`)
			if !lost.MatchString(other.stderr.String()) {
				t.Errorf("pigeon %s said:\n%s\nwant that it lost the peer, and a hint", other.name, other.stderr)
			}
			if other.stdout.Len() != 0 {
				t.Errorf("pigeon %s wrote %q on stdout, want nothing", other.name, other.stdout)
			}
			if _, err := os.Lstat(final); err == nil {
				t.Fatalf("%s exists after the transfer was cut", final)
			}
			info, err := os.Stat(partial)
			if err != nil {
				t.Fatalf("the partial file: %v", err)
			}
			arrived := info.Size()
			if arrived < size/8 || arrived >= size {
				t.Fatalf("the partial file holds %d bytes, want at least %d and less than %d", arrived, size/8, size)
			}

			// Again: it continues where it stopped.
			run = startTransfer(t, bin, src, dst)
			for _, side := range []*process{run.send, run.join} {
				select {
				case <-side.done:
				case <-time.After(90 * time.Second):
					t.Fatalf("pigeon %s did not finish the resumed transfer:\n%s", side.name, side.stderr)
				}
				if code := side.cmd.ProcessState.ExitCode(); code != 0 {
					t.Fatalf("pigeon %s exited %d on the resumed transfer:\n%s", side.name, code, side.stderr)
				}
			}
			if !regexp.MustCompile(`(?m)^pigeon: \d+\.\d MiB already arrived before and will not be sent again$`).MatchString(run.join.stderr.String()) {
				t.Errorf("join did not announce the resume:\n%s", run.join.stderr)
			}
			m := regexp.MustCompile(`(?m)^pigeon: sent 1 file \(([0-9.]+) MiB\) in .*; ([0-9.]+) MiB resumed$`).FindStringSubmatch(run.send.stderr.String())
			if m == nil {
				t.Fatalf("send did not report a resumed file:\n%s", run.send.stderr)
			}
			sent, _ := strconv.ParseFloat(m[1], 64)
			resumed, _ := strconv.ParseFloat(m[2], 64)
			if sent >= float64(size>>20)-float64(arrived>>20)+1 || resumed < float64(arrived>>20)-1 {
				t.Errorf("sent %.1f MiB and resumed %.1f MiB of %d MiB with %d bytes there", sent, resumed, size>>20, arrived)
			}
			if got := fileSHA256(t, final); got != want {
				t.Errorf("SHA-256 of the received file %s, want %s", got, want)
			}
			if _, err := os.Lstat(partial); err == nil {
				t.Errorf("%s is still there after the transfer", partial)
			}
		})
	}
}

// process is a pigeon started by a test, with what it printed.
type process struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
	done           chan struct{} // closed when it exited
}

type transferRun struct{ send, join *process }

func (r transferRun) exited() bool {
	for _, p := range []*process{r.send, r.join} {
		select {
		case <-p.done:
			return true
		default:
		}
	}
	return false
}

// startTransfer starts `pigeon send src` and `pigeon join --yes --dir dst`
// with blobs carried in files; both are killed when the test ends.
func startTransfer(t *testing.T, bin, src, dst string) transferRun {
	t.Helper()
	blobs := t.TempDir()
	offer, answer := filepath.Join(blobs, "offer"), filepath.Join(blobs, "answer")
	start := func(name string, args ...string) *process {
		p := &process{name: name, cmd: exec.Command(bin, append([]string{name}, args...)...),
			stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), done: make(chan struct{})}
		p.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
		p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
		return p
	}
	return transferRun{
		send: start("send", "--out", offer, "--in", answer, "--connect-timeout", "10s", src),
		join: start("join", "--in", offer, "--out", answer, "--connect-timeout", "10s", "--yes", "--dir", dst),
	}
}

// writeRandomFile writes size pseudo-random bytes to path and returns
// their SHA-256 in hex.
func writeRandomFile(t *testing.T, path string, size int) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	r := mrand.NewChaCha8([32]byte{1})
	if _, err := io.CopyN(io.MultiWriter(f, h), r, int64(size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

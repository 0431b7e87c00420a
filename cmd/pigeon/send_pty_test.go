//go:build !windows

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReceiveAsks: join on an offer of files asks the person at the
// terminal before anything is written; "y" receives, anything else
// refuses, and the sender is told.
func TestReceiveAsks(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	for _, reply := range []string{"y", "n"} {
		dir := t.TempDir()
		data := bytes.Repeat([]byte("pigeon "), 3<<20/7)
		if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "src", "data.bin"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "dst")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		send := exec.Command(bin, "send", "--out", filepath.Join(dir, "offer"), "--in", filepath.Join(dir, "answer"), "--connect-timeout", "10s", filepath.Join(dir, "src"))
		send.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
		var sendErr bytes.Buffer
		send.Stderr = &sendErr
		send.WaitDelay = time.Second
		if err := send.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { send.Process.Kill(); send.Wait() })

		term := startTerminal(t, "join", "--in", filepath.Join(dir, "offer"), "--out", filepath.Join(dir, "answer"), "--dir", dst)
		term.waitFor(`pigeon: the other computer offers "src/"`, 1)
		term.waitFor("Receive 1 file and 1 folder (3.0 MiB) into "+dst+"? [y/N]", 1)
		term.typeLine(reply)
		code := term.wait()
		sendDone := make(chan error, 1)
		go func() { sendDone <- send.Wait() }()
		var sent error
		select {
		case sent = <-sendDone:
		case <-time.After(10 * time.Second):
			t.Fatal("pigeon send did not exit")
		}
		if reply == "y" {
			if code != 0 || sent != nil {
				t.Fatalf("join exited %d, send %v; send said:\n%s", code, sent, sendErr.String())
			}
			got, err := os.ReadFile(filepath.Join(dst, "src", "data.bin"))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("data.bin: %d bytes (%v), want the %d sent", len(got), err, len(data))
			}
			term.waitFor("pigeon: received 1 file (3.0 MiB) in ", 1)
			if !strings.Contains(sendErr.String(), "pigeon: sent 1 file (3.0 MiB) in ") {
				t.Errorf("send said:\n%s", sendErr.String())
			}
			if strings.Contains(sendErr.String(), "\r") {
				t.Errorf("send drew a progress bar on a stream that is not a terminal:\n%q", sendErr.String())
			}
		} else {
			if code != 1 || sent == nil {
				t.Fatalf("join exited %d, send %v; want both to fail", code, sent)
			}
			term.waitFor("pigeon: error: the transfer was declined", 1)
			if !strings.Contains(sendErr.String(), "pigeon: error: the other computer refused the transfer: the transfer was declined\n") {
				t.Errorf("send said:\n%s", sendErr.String())
			}
			if names, _ := os.ReadDir(dst); len(names) != 0 {
				t.Errorf("%s holds %d entries after a refusal, want none", dst, len(names))
			}
		}
		if term.stdout.Len() != 0 {
			t.Errorf("stdout = %q, want nothing", term.stdout.String())
		}
	}
}

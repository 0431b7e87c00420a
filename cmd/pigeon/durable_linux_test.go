package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReceiveFlushes follows the system calls of `pigeon join` with
// strace: every file is flushed (fsync) before it takes its final name,
// and every folder that gained an entry (a renamed file, a new folder, a
// link) is flushed after the last rename into it. So what a successful
// transfer left under its final names survives a crash of the machine.
func TestReceiveFlushes(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("needs strace")
	}
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	var files []string
	for d := range 2 {
		for f := range 3 {
			name := fmt.Sprintf("f%d%d", d, f)
			files = append(files, name)
			p := filepath.Join(src, fmt.Sprintf("d%d", d), name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(name+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Symlink("d0/f00", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	offer, answer, trace := filepath.Join(dir, "offer"), filepath.Join(dir, "answer"), filepath.Join(dir, "trace")

	send := exec.Command(bin, "send", "--out", offer, "--in", answer, "--connect-timeout", "20s", src)
	join := exec.Command(strace, "-f", "-o", trace, "-e", "trace=openat,fsync,renameat,renameat2,close",
		bin, "join", "--in", offer, "--out", answer, "--connect-timeout", "20s", "--yes", "--dir", dst)
	var sendErr, joinErr bytes.Buffer
	for _, c := range []*exec.Cmd{send, join} {
		c.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
		c.WaitDelay = time.Second
	}
	send.Stderr, join.Stderr = &sendErr, &joinErr
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { send.Process.Kill(); send.Wait() })
	timer := time.AfterFunc(60*time.Second, func() { join.Process.Kill() })
	defer timer.Stop()
	if err := join.Run(); err != nil {
		if strings.Contains(joinErr.String(), "ptrace") {
			t.Skipf("strace cannot trace here: %s", joinErr.String())
		}
		t.Fatalf("pigeon join under strace: %v\n%s", err, joinErr.String())
	}
	if err := send.Wait(); err != nil {
		t.Fatalf("pigeon send: %v\n%s", err, sendErr.String())
	}

	calls := readTrace(t, trace)
	t.Logf("%d flushes and renames traced", len(calls))
	synced := map[string]int{}  // name of a file or folder -> the last call flushing it
	renamed := map[string]int{} // final name -> its rename
	renamedIn := map[string]string{}
	for i, c := range calls {
		switch c.name {
		case "fsync":
			synced[c.path] = i
		case "renameat", "renameat2":
			if !strings.HasSuffix(c.from, ".pigeon-partial") {
				continue
			}
			if _, ok := synced[c.from]; !ok {
				t.Errorf("%s was renamed to %s without a flush before", c.from, c.to)
			}
			renamed[c.to] = i
			renamedIn[c.to] = c.path
		}
	}
	for _, f := range files {
		at, ok := renamed[f]
		if !ok {
			t.Errorf("no rename of .%s.pigeon-partial to %s in the trace", f, f)
			continue
		}
		folder := renamedIn[f]
		if last, ok := synced[folder]; !ok || last < at {
			t.Errorf("the folder %s was not flushed after %s was renamed into it", folder, f)
		}
	}
	// The new folders' entries: d0 and d1 in src, src and the link's
	// folder in the target.
	for _, folder := range []string{"src", "."} {
		if _, ok := synced[folder]; !ok {
			t.Errorf("the folder %s, which gained entries, was never flushed", folder)
		}
	}
	if got, err := os.Readlink(filepath.Join(dst, "src", "link")); err != nil || got != "d0/f00" {
		t.Errorf("link: %q, %v", got, err)
	}
}

// traceCall is a finished system call from strace: the name it was given
// for its file descriptor (path, for fsync; the new name's folder, for
// renameat), and the two names of a rename.
type traceCall struct {
	name     string
	path     string
	from, to string
}

var (
	traceLine    = regexp.MustCompile(`^(\d+) +(.*)$`)
	traceOpen    = regexp.MustCompile(`^openat\((?:AT_FDCWD|\d+), "([^"]*)".*\) = (\d+)$`)
	traceFsync   = regexp.MustCompile(`^fsync\((\d+)\) = 0$`)
	traceRename  = regexp.MustCompile(`^renameat2?\(\d+, "([^"]*)", (\d+), "([^"]*)".*\) = 0$`)
	traceClose   = regexp.MustCompile(`^close\((\d+)`)
	traceResumed = regexp.MustCompile(`^<\.\.\. \w+ resumed>(.*)$`)
)

// readTrace turns strace -f output into the calls that finished, in the
// order they finished, naming each file descriptor by the last name
// opened as it (its last path component: os.Root opens one at a time).
func readTrace(t *testing.T, path string) []traceCall {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]string{}   // fd -> name
	pending := map[string]string{} // pid -> a call's start
	var calls []traceCall
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := traceLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		pid, text := m[1], m[2]
		if start, ok := strings.CutSuffix(text, " <unfinished ...>"); ok {
			pending[pid] = start
			// A descriptor is free for reuse once its close started.
			if c := traceClose.FindStringSubmatch(start); c != nil {
				delete(names, c[1])
			}
			continue
		}
		if r := traceResumed.FindStringSubmatch(text); r != nil {
			text = pending[pid] + r[1]
			delete(pending, pid)
		}
		text = regexp.MustCompile(`\s+= `).ReplaceAllString(text, " = ")
		if c := traceClose.FindStringSubmatch(text); c != nil {
			delete(names, c[1])
		} else if o := traceOpen.FindStringSubmatch(text); o != nil {
			names[o[2]] = o[1]
		} else if s := traceFsync.FindStringSubmatch(text); s != nil {
			calls = append(calls, traceCall{name: "fsync", path: names[s[1]]})
		} else if r := traceRename.FindStringSubmatch(text); r != nil {
			calls = append(calls, traceCall{name: "renameat", path: names[r[2]], from: r[1], to: r[3]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatal("no fsync or rename in the trace")
	}
	return calls
}

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

	"pigeon/internal/testenv"
)

// TestReceiveFlushes follows the system calls of `pigeon join` with
// strace: every file is flushed before it takes its final name (by an
// fsync of it, or a syncfs of its whole filesystem, after its last
// change), and every folder that gained an entry (a renamed file, a new
// folder, a link) is flushed after the last rename into it. So what a
// successful transfer left under its final names survives a crash of the
// machine. One file is flushed by itself; a batch of small files with one
// syncfs.
func TestReceiveFlushes(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		testenv.Unavailable(t, "needs strace (apt-get install strace)")
	}
	bin, err := exec.LookPath("pigeon")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	var files []string
	for d := range 2 {
		for f := range 4 {
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
	one := filepath.Join(dir, "one")
	if err := os.WriteFile(one, []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// One file, flushed by itself.
	calls := tracedTransfer(t, strace, bin, one)
	checkFlushes(t, calls, []string{"one"}, nil)
	for _, c := range calls {
		if c.name == "syncfs" {
			t.Errorf("one file was flushed with syncfs, which waits for every program's writes")
		}
	}

	// A tree: its files in batches; the new folders' entries (d0 and d1
	// in src, src in the target) are flushed too.
	calls = tracedTransfer(t, strace, bin, src)
	checkFlushes(t, calls, files, []string{"src", "."})
}

// tracedTransfer sends src to `pigeon join` run under strace and returns
// the calls join made; the target folder is named ".".
func tracedTransfer(t *testing.T, strace, bin, src string) []traceCall {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	offer, answer, trace := filepath.Join(dir, "offer"), filepath.Join(dir, "answer"), filepath.Join(dir, "trace")
	send := exec.Command(bin, "send", "--out", offer, "--in", answer, "--connect-timeout", "20s", src)
	join := exec.Command(strace, "-f", "-o", trace, "-e", "trace=openat,fchmod,fsync,syncfs,renameat,renameat2,close",
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
			testenv.Unavailable(t, "strace cannot trace here: %s", joinErr.String())
		}
		t.Fatalf("pigeon join under strace: %v\n%s", err, joinErr.String())
	}
	if err := send.Wait(); err != nil {
		t.Fatalf("pigeon send: %v\n%s", err, sendErr.String())
	}
	calls := readTrace(t, trace)
	for i := range calls {
		if calls[i].path == dst {
			calls[i].path = "." // the target folder, opened by its path
		}
	}
	return calls
}

// checkFlushes checks in calls that each of files was flushed after its
// last change and before its rename, and its folder after the rename; and
// that each of folders was flushed.
func checkFlushes(t *testing.T, calls []traceCall, files, folders []string) {
	t.Helper()
	changed := map[string]int{} // partial file -> its last change (fchmod, after the data)
	synced := map[string]int{}  // file or folder -> its last fsync
	lastSyncFS := -1
	renamed := map[string]int{} // final name -> its rename
	renamedIn := map[string]string{}
	for i, c := range calls {
		switch c.name {
		case "fchmod":
			changed[c.path] = i
		case "fsync":
			synced[c.path] = i
		case "syncfs":
			lastSyncFS = i
		case "renameat":
			if !strings.HasSuffix(c.from, ".pigeon-partial") {
				continue
			}
			last, ok := changed[c.from]
			if !ok {
				t.Errorf("%s was renamed to %s without its mode set first", c.from, c.to)
			}
			if s, ok := synced[c.from]; (!ok || s < last) && lastSyncFS < last {
				t.Errorf("%s was renamed to %s without a flush after its last change", c.from, c.to)
			}
			renamed[c.to] = i
			renamedIn[c.to] = c.path
		}
	}
	syncfs := 0
	for _, c := range calls {
		if c.name == "syncfs" {
			syncfs++
		}
	}
	t.Logf("%d files renamed, %d fsync, %d syncfs", len(renamed), len(synced), syncfs)
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
	for _, folder := range folders {
		if _, ok := synced[folder]; !ok {
			t.Errorf("the folder %s, which gained entries, was never flushed", folder)
		}
	}
}

// traceCall is a finished system call from strace: the name its file
// descriptor was opened as (path; for renameat, the new name's folder),
// and the two names of a rename.
type traceCall struct {
	name     string
	path     string
	from, to string
}

var (
	traceLine    = regexp.MustCompile(`^(\d+) +(.*)$`)
	traceOpen    = regexp.MustCompile(`^openat\((?:AT_FDCWD|\d+), "([^"]*)".*\) = (\d+)$`)
	traceFsync   = regexp.MustCompile(`^(fsync|fchmod)\((\d+)(?:, \d+)?\) = 0$`)
	traceSyncFS  = regexp.MustCompile(`^syncfs\(\d+\) = 0$`)
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
			calls = append(calls, traceCall{name: s[1], path: names[s[2]]})
		} else if traceSyncFS.MatchString(text) {
			calls = append(calls, traceCall{name: "syncfs"})
		} else if r := traceRename.FindStringSubmatch(text); r != nil {
			calls = append(calls, traceCall{name: "renameat", path: names[r[2]], from: r[1], to: r[3]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatal("no flush or rename in the trace")
	}
	return calls
}

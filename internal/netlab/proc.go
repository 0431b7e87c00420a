package netlab

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a process running in a host, started with [Host.Start]: its
// standard input is a pipe the test writes to, and the lines of its
// standard output and error are recorded with the time each arrived.
type Proc struct {
	Cmd     *exec.Cmd
	Stdin   io.WriteCloser // close it for end of file
	Started time.Time      // just before the process started

	stdout *lineLog
	stderr *lineLog
	done   chan struct{} // closed once the process has exited
	err    error         // from Cmd.Wait, once done
}

// Start starts name in h and returns at once. The process is killed after
// limit, and when the test ends if it still runs then.
func (h *Host) Start(limit time.Duration, name string, args ...string) *Proc {
	t := h.lab.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := h.Command(ctx, name, args...)
	p := &Proc{Cmd: cmd, stdout: newLineLog(), stderr: newLineLog(), done: make(chan struct{})}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatalf("netlab: %v", err)
	}
	p.Stdin = stdin
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	cmd.Stdout, cmd.Stderr = outW, errW
	var copied sync.WaitGroup
	copied.Add(2)
	go func() { defer copied.Done(); p.stdout.read(outR) }()
	go func() { defer copied.Done(); p.stderr.read(errR) }()
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		outW.Close()
		errW.Close()
		t.Fatalf("netlab: starting %s in %s: %v", name, h.Name, err)
	}
	go func() {
		p.err = cmd.Wait()
		outW.Close()
		errW.Close()
		copied.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		<-p.done
	})
	return p
}

// Kill kills the process with SIGKILL.
func (p *Proc) Kill() { _ = p.Cmd.Process.Signal(syscall.SIGKILL) }

// Done is closed once the process has exited and its output was read.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits up to d for the process to exit and returns its exit code;
// -1 and an error if it did not exit in time or was killed by a signal.
func (p *Proc) Wait(d time.Duration) (int, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		return -1, errors.New("still running after " + d.String())
	}
	if p.err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) && ee.ExitCode() >= 0 {
		return ee.ExitCode(), nil
	}
	return -1, p.err
}

// Stdout is everything the process wrote to its standard output so far.
func (p *Proc) Stdout() string { return p.stdout.text() }

// Stderr is everything the process wrote to its standard error so far.
func (p *Proc) Stderr() string { return p.stderr.text() }

// WaitStdout waits up to d for a line of standard output that matches re
// and returns it with the time since the process started. ok is false if
// none came (the process exited, or d passed).
func (p *Proc) WaitStdout(re *regexp.Regexp, d time.Duration) (line string, at time.Duration, ok bool) {
	return p.stdout.wait(re, d, p.Started, p.done)
}

// WaitStderr is [Proc.WaitStdout] for standard error.
func (p *Proc) WaitStderr(re *regexp.Regexp, d time.Duration) (line string, at time.Duration, ok bool) {
	return p.stderr.wait(re, d, p.Started, p.done)
}

// lineLog records the lines of a stream with their arrival times.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	at      []time.Time
	changed chan struct{} // closed and replaced at every new line
	ended   bool
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) read(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		l.add(s.Text())
	}
	_, _ = io.Copy(io.Discard, r) // a line too long: keep the pipe flowing
	l.mu.Lock()
	l.ended = true
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *lineLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	l.at = append(l.at, time.Now())
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return ""
	}
	return strings.Join(l.lines, "\n") + "\n"
}

func (l *lineLog) wait(re *regexp.Regexp, d time.Duration, start time.Time, done <-chan struct{}) (string, time.Duration, bool) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	seen := 0
	for {
		l.mu.Lock()
		for ; seen < len(l.lines); seen++ {
			if re.MatchString(l.lines[seen]) {
				line, at := l.lines[seen], l.at[seen]
				l.mu.Unlock()
				return line, at.Sub(start), true
			}
		}
		changed, ended := l.changed, l.ended
		l.mu.Unlock()
		if ended {
			return "", 0, false
		}
		select {
		case <-changed:
		case <-done:
			// The stream may still hold lines: read them, then stop.
			done = nil
		case <-deadline.C:
			return "", 0, false
		}
	}
}

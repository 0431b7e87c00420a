// Package bench measures pigeon as a user meets it: whole processes.
//
//	go test -run '^$' -bench . -benchtime 20x ./bench/
package bench

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// build compiles a package of this module into dir.
func build(b *testing.B, dir, pkg string) string {
	b.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("building %s: %v", pkg, err)
	}
	return out
}

// untilBlob starts the command and returns once it printed a line with the
// given prefix on stderr; then it kills the process.
func untilBlob(b *testing.B, prefix string, name string, args ...string) {
	cmd := exec.Command(name, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return
		}
	}
	b.Fatalf("%s exited without printing its blob", name)
}

// BenchmarkStartToBlob: from starting the process to the offer on the
// terminal, for `pigeon chat` and for pion's default peer.
func BenchmarkStartToBlob(b *testing.B) {
	dir := b.TempDir()
	pigeon := build(b, dir, "pigeon/cmd/pigeon")
	baseline := build(b, dir, "pigeon/bench/pionoffer")
	never := filepath.Join(dir, "never") // the answer file never comes
	b.Run("pigeon-chat", func(b *testing.B) {
		for b.Loop() {
			untilBlob(b, "PIGEON", pigeon, "chat", "--in", never)
		}
	})
	b.Run("pion-default", func(b *testing.B) {
		for b.Loop() {
			untilBlob(b, "eyJ", baseline)
		}
	})
}

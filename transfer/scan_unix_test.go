//go:build unix

package transfer

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestScanRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "src", "ok.txt"), nil, 0o644)
	fifo := filepath.Join(dir, "src", "queue")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	_, err := Scan([]string{filepath.Join(dir, "src")})
	if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("Scan: %v, want an error naming %s as a named pipe", err, fifo)
	}
	if _, err := Scan([]string{"/dev/null"}); err == nil || !strings.Contains(err.Error(), "device") {
		t.Errorf("Scan /dev/null: %v, want an error about a device", err)
	}
	_ = os.Remove(fifo)
}

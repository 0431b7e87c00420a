package transfer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStreamLimits: a stream that would pass MaxSize, or take the disk
// below KeepFree, is stopped; its partial file is removed, a file that
// arrived whole before it is kept, and the sender is told why.
func TestStreamLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(dst string) ReceiveOptions
		disk bool
		want string
	}{
		{"max size", func(string) ReceiveOptions { return ReceiveOptions{MaxSize: 1 << 20} }, false,
			"the transfer may write at most 1.0 MiB; the partial file was removed"},
		{"keep free", func(dst string) ReceiveOptions {
			// A disk with 100 MiB free before the transfer, less what
			// the partial file holds.
			free := func() int64 {
				var n int64
				if info, err := os.Stat(filepath.Join(dst, ".stream.bin"+partialSuffix)); err == nil {
					n = info.Size()
				}
				return 100<<20 - n
			}
			return ReceiveOptions{KeepFree: 96 << 20, freeSpace: free}
		}, true, "the disk would have less than 96.0 MiB free; the partial file was removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a.txt"), []byte("whole\n"), 0o644)
			entries, err := Scan([]string{filepath.Join(dir, "a.txt")})
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, Stream("stream.bin", bytes.NewReader(randomBytes(8<<20, 7))))
			dst := filepath.Join(dir, "dst")
			if err := os.Mkdir(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			opts := tc.opts(dst)
			opts.Root = openRoot(t, dst)
			sent, received := transfer(t, ctx, entries, opts)
			var se *SpaceError
			if !errors.As(received.err, &se) || !se.Stream || se.Disk != tc.disk {
				t.Fatalf("receive: %v, want a SpaceError for the stream (disk %v)", received.err, tc.disk)
			}
			if !strings.HasPrefix(received.err.Error(), "receiving stream.bin: stopped after ") || !strings.HasSuffix(received.err.Error(), tc.want) {
				t.Errorf("receive: %q, want it to end with %q", received.err, tc.want)
			}
			if se.Size > 4<<20 {
				t.Errorf("stopped after %d bytes", se.Size)
			}
			var pe *PeerError
			if !errors.As(sent.err, &pe) || pe.Refused || !strings.Contains(pe.Reason, tc.want) {
				t.Errorf("send: %v, want the receiver's reason", sent.err)
			}
			if got := listing(t, dst, false); !strings.Contains(got, "a.txt") || strings.Contains(got, "stream") {
				t.Errorf("target folder:\n%s\nwant a.txt and nothing of the stream", got)
			}
		})
	}
}

// TestOfferTooLarge: files of known size that would pass MaxSize, or not
// fit above KeepFree, refuse the transfer before anything is written or
// asked; bytes already there in a partial file count as written.
func TestOfferTooLarge(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	data := randomBytes(2<<20, 8)
	writeFile(t, filepath.Join(dir, "src", "big.bin"), data, 0o644)
	entries, err := Scan([]string{filepath.Join(dir, "src")})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	tenMiB := func() int64 { return 10 << 20 }
	for _, tc := range []struct {
		opts ReceiveOptions
		want string
	}{
		{ReceiveOptions{MaxSize: 1 << 20}, "the offer holds 2.0 MiB, more than the 1.0 MiB allowed"},
		{ReceiveOptions{KeepFree: 9 << 20, freeSpace: tenMiB}, "the offer needs 2.0 MiB, and the disk has 10.0 MiB free, of which 9.0 MiB are kept free"},
	} {
		asked := false
		tc.opts.Root = openRoot(t, dst)
		tc.opts.Confirm = func(Offer) error { asked = true; return nil }
		sent, received := transfer(t, ctx, entries, tc.opts)
		var se *SpaceError
		if !errors.As(received.err, &se) || se.Stream || received.err.Error() != tc.want {
			t.Errorf("receive: %v, want %q", received.err, tc.want)
		}
		var pe *PeerError
		if !errors.As(sent.err, &pe) || !pe.Refused || pe.Reason != tc.want {
			t.Errorf("send: %v, want a refusal: %s", sent.err, tc.want)
		}
		if asked {
			t.Error("the person was asked about a transfer that is refused")
		}
		if names, _ := os.ReadDir(dst); len(names) != 0 {
			t.Errorf("%d entries written, want none", len(names))
		}
	}

	// 1.5 MiB already there: the 0.5 MiB left fit in 1 MiB.
	writeFile(t, filepath.Join(dst, "src", ".big.bin"+partialSuffix), data[:3<<19], 0o600)
	sent, received := transfer(t, ctx, entries, ReceiveOptions{Root: openRoot(t, dst), MaxSize: 1 << 20})
	if sent.err != nil || received.err != nil {
		t.Fatalf("resumed: send: %v; receive: %v", sent.err, received.err)
	}
	if got, err := os.ReadFile(filepath.Join(dst, "src", "big.bin")); err != nil || !bytes.Equal(got, data) {
		t.Errorf("big.bin: %d bytes (%v), want the %d sent", len(got), err, len(data))
	}
}

// TestFreeSpace: the free space of a real disk is known here, and more
// than nothing.
func TestFreeSpace(t *testing.T) {
	if free := freeSpace(openRoot(t, t.TempDir())); free <= 0 {
		t.Errorf("freeSpace = %d", free)
	}
}

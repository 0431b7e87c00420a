package transfer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// makeTree writes a folder with nested, empty, unicode- and space-named
// files, an empty folder, a link and various modes, all with old times.
func makeTree(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("hello\n"), 0o640)
	writeFile(t, filepath.Join(src, "empty"), nil, 0o600)
	writeFile(t, filepath.Join(src, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	writeFile(t, filepath.Join(src, "with space.txt"), randomBytes(1000, 1), 0o644)
	writeFile(t, filepath.Join(src, "ünïcødé ✓", "日本語.bin"), randomBytes(200_000, 2), 0o644)
	writeFile(t, filepath.Join(src, "nested", "deeper", "big.bin"), randomBytes(3<<20+17, 3), 0o644)
	if err := os.MkdirAll(filepath.Join(src, "empty dir"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	// Times last, deepest first: writing inside a folder changes its own.
	old := time.Date(2021, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	var paths []string
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if d.Type()&os.ModeSymlink == 0 {
			paths = append(paths, p)
		}
		return err
	})
	for i := len(paths) - 1; i >= 0; i-- {
		old = old.Add(time.Hour)
		if err := os.Chtimes(paths[i], old, old); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

func TestTreeArrives(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	src := makeTree(t, dir)
	dst := filepath.Join(dir, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := Scan([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	var offered Offer
	sent, received := transfer(t, ctx, entries, ReceiveOptions{
		Root:    openRoot(t, dst),
		Confirm: func(o Offer) error { offered = o; return nil },
	})
	if sent.err != nil || received.err != nil {
		t.Fatalf("send: %v; receive: %v", sent.err, received.err)
	}
	if got, want := listing(t, filepath.Join(dst, "src"), true), listing(t, src, true); got != want {
		t.Errorf("received tree:\n%s\nwant:\n%s", got, want)
	}
	const size = 6 + 0 + 18 + 1000 + 200_000 + 3<<20 + 17
	if offered.Files != 6 || offered.Dirs != 5 || offered.Links != 1 || offered.Size != size || offered.Existing != 0 {
		t.Errorf("offer: %d files, %d folders, %d links, %d bytes, %d existing", offered.Files, offered.Dirs, offered.Links, offered.Size, offered.Existing)
	}
	for _, st := range []Stats{sent.stats, received.stats} {
		if st.Files != 6 || st.Bytes != size || st.Skipped != 0 || st.Resumed != 0 {
			t.Errorf("stats %+v, want 6 files, %d bytes", st, size)
		}
	}
	if leftovers := partials(t, dst); len(leftovers) > 0 {
		t.Errorf("partial files left: %q", leftovers)
	}
}

func partials(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.HasSuffix(p, partialSuffix) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestStream(t *testing.T) {
	ctx := testContext(t)
	dst := t.TempDir()
	data := randomBytes(300_000, 4)
	sent, received := transfer(t, ctx, []Entry{Stream("notes.txt", bytes.NewReader(data))}, ReceiveOptions{Root: openRoot(t, dst)})
	if sent.err != nil || received.err != nil {
		t.Fatalf("send: %v; receive: %v", sent.err, received.err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "notes.txt"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("received %d bytes (%v), want the %d sent", len(got), err, len(data))
	}
	if received.stats.Bytes != int64(len(data)) {
		t.Errorf("stats %+v", received.stats)
	}
}

func TestExistingFileRefusesTransfer(t *testing.T) {
	for _, sameSize := range []bool{false, true} {
		ctx := testContext(t)
		dir := t.TempDir()
		src := filepath.Join(dir, "src")
		writeFile(t, filepath.Join(src, "a.txt"), []byte("new content\n"), 0o644)
		writeFile(t, filepath.Join(src, "b.txt"), []byte("b\n"), 0o644)
		dst := filepath.Join(dir, "dst")
		old := []byte("old content\n")
		if !sameSize {
			old = []byte("old\n")
		}
		writeFile(t, filepath.Join(dst, "src", "a.txt"), old, 0o644)
		before := listing(t, dir, true)
		entries, err := Scan([]string{src})
		if err != nil {
			t.Fatal(err)
		}
		asked := false
		sent, received := transfer(t, ctx, entries, ReceiveOptions{
			Root:    openRoot(t, dst),
			Confirm: func(Offer) error { asked = true; return nil },
		})
		var ee *ExistsError
		if !errors.As(received.err, &ee) || len(ee.Paths) != 1 || ee.Paths[0] != "src/a.txt" {
			t.Errorf("same size %v: receive: %v, want an ExistsError for src/a.txt", sameSize, received.err)
		}
		var pe *PeerError
		if !errors.As(sent.err, &pe) || !pe.Refused || !strings.Contains(pe.Reason, `"src/a.txt" already exists`) {
			t.Errorf("same size %v: send: %v, want a refusal naming src/a.txt", sameSize, sent.err)
		}
		if asked {
			t.Errorf("same size %v: the person was asked about a transfer that is refused", sameSize)
		}
		if after := listing(t, dir, true); after != before {
			t.Errorf("same size %v: the folders changed:\n%s\nwere:\n%s", sameSize, after, before)
		}

		// With Overwrite, the file is replaced.
		var offered Offer
		sent, received = transfer(t, ctx, entries, ReceiveOptions{
			Root: openRoot(t, dst), Overwrite: true,
			Confirm: func(o Offer) error { offered = o; return nil },
		})
		if sent.err != nil || received.err != nil {
			t.Fatalf("send: %v; receive: %v", sent.err, received.err)
		}
		if got, want := listing(t, filepath.Join(dst, "src"), true), listing(t, src, true); got != want {
			t.Errorf("received tree:\n%s\nwant:\n%s", got, want)
		}
		if len(offered.Replace) != 1 || offered.Replace[0] != "src/a.txt" {
			t.Errorf("offer says it replaces %q, want src/a.txt", offered.Replace)
		}
	}
}

func TestIdenticalFileIsSkipped(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	a := randomBytes(100_000, 5)
	writeFile(t, filepath.Join(src, "a.bin"), a, 0o644)
	writeFile(t, filepath.Join(src, "b.txt"), []byte("b\n"), 0o644)
	dst := filepath.Join(dir, "dst")
	writeFile(t, filepath.Join(dst, "src", "a.bin"), a, 0o644)
	entries, err := Scan([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	var offered Offer
	sent, received := transfer(t, ctx, entries, ReceiveOptions{Root: openRoot(t, dst), Confirm: func(o Offer) error { offered = o; return nil }})
	if sent.err != nil || received.err != nil {
		t.Fatalf("send: %v; receive: %v", sent.err, received.err)
	}
	if offered.Existing != 1 {
		t.Errorf("offer: %d files already here, want 1", offered.Existing)
	}
	for _, st := range []Stats{sent.stats, received.stats} {
		if st.Files != 1 || st.Skipped != 1 || st.Bytes != 2 {
			t.Errorf("stats %+v, want 1 file of 2 bytes sent, 1 skipped", st)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dst, "src", "b.txt"))
	if string(got) != "b\n" {
		t.Errorf("b.txt holds %q", got)
	}
}

func TestResumeFromPartialFile(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	data := randomBytes(1<<20, 6)
	writeFile(t, filepath.Join(src, "big.bin"), data, 0o644)
	entries, err := Scan([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		partial     []byte
		wantResumed int64
	}{
		{"matching", data[:300_000], 300_000},
		{"different", append(append([]byte{}, data[:299_999]...), data[0]+1), 0},
		{"longer", append(append([]byte{}, data...), 'x'), 0},
	} {
		dst := filepath.Join(dir, "dst-"+tc.name)
		writeFile(t, filepath.Join(dst, "src", ".big.bin.pigeon-partial"), tc.partial, 0o600)
		var offered Offer
		sent, received := transfer(t, ctx, entries, ReceiveOptions{Root: openRoot(t, dst), Confirm: func(o Offer) error { offered = o; return nil }})
		if sent.err != nil || received.err != nil {
			t.Fatalf("%s: send: %v; receive: %v", tc.name, sent.err, received.err)
		}
		got, err := os.ReadFile(filepath.Join(dst, "src", "big.bin"))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: big.bin differs (%d bytes, %v)", tc.name, len(got), err)
		}
		if offered.Resumed != tc.wantResumed {
			t.Errorf("%s: offer says %d bytes resumed, want %d", tc.name, offered.Resumed, tc.wantResumed)
		}
		for _, st := range []Stats{sent.stats, received.stats} {
			if st.Resumed != tc.wantResumed || st.Bytes != int64(len(data))-tc.wantResumed {
				t.Errorf("%s: stats %+v, want %d bytes resumed and the rest sent", tc.name, st, tc.wantResumed)
			}
		}
		if p := partials(t, dst); len(p) > 0 {
			t.Errorf("%s: partial files left: %q", tc.name, p)
		}
	}
}

// TestReceiverVanishes: when the receiver goes away mid-transfer, the
// sender fails, and no file appears under its final name.
func TestReceiverVanishes(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "big.bin"), randomBytes(32<<20, 7), 0o644)
	dst := filepath.Join(dir, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := Scan([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	_, receiver, a, b := pairPeers(t, ctx)
	sendErr := make(chan error, 1)
	go func() { _, err := Send(ctx, a, entries, SendOptions{}); sendErr <- err }()
	_, err = Receive(ctx, b, ReceiveOptions{Root: openRoot(t, dst), Progress: func(done, total int64, current string) {
		if done > 1<<20 {
			go receiver.Close() // the process ends
		}
	}})
	if err == nil {
		t.Fatal("Receive succeeded though its connection closed mid-file")
	}
	select {
	case err := <-sendErr:
		if err == nil {
			t.Fatal("Send succeeded though the receiver went away")
		}
		t.Logf("sender: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("Send did not notice the receiver going away")
	}
	if _, err := os.Lstat(filepath.Join(dst, "src", "big.bin")); !os.IsNotExist(err) {
		t.Errorf("big.bin exists under its final name (%v)", err)
	}
	if p := partials(t, dst); len(p) != 1 {
		t.Errorf("partial files %q, want the one to resume from", p)
	}
}

func TestScanRefusesDuplicateNames(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "one", "x"), nil, 0o644)
	writeFile(t, filepath.Join(dir, "two", "x"), nil, 0o644)
	_, err := Scan([]string{filepath.Join(dir, "one", "x"), filepath.Join(dir, "two", "x")})
	if err == nil || !strings.Contains(err.Error(), "offered twice") {
		t.Fatalf("Scan: %v, want an error about the name given twice", err)
	}
}

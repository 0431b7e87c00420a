package transfer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pigeon/peer"
)

// fakeSender drives a receiver by hand over a real connection: it sends
// the manifest m, answers the receiver's have with no match, and once the
// plan arrives calls data to send frames. It returns the first error the
// receiver's side causes (an abort arrives as a *PeerError).
func fakeSender(ctx context.Context, a *peer.Conn, m manifest, data func(l *link) error) error {
	l := newLink(a)
	defer l.close()
	if err := l.writeJSON(frameManifest, m); err != nil {
		return err
	}
	var h have
	if err := l.readJSON(ctx, frameHave, &h); err != nil {
		return refused(err)
	}
	if err := l.writeJSON(frameVerdict, verdict{}); err != nil {
		return err
	}
	var p plan
	if err := l.readJSON(ctx, framePlan, &p); err != nil {
		return refused(err)
	}
	if data == nil {
		return nil
	}
	if err := data(l); err != nil {
		return err
	}
	typ, _, err := l.read(ctx)
	if err == nil {
		err = fmt.Errorf("the receiver answered with type %d", typ)
	}
	return err
}

// hostileSetup makes a folder holding the target folder and a folder
// "outside" with a file in it.
func hostileSetup(t *testing.T) (parent, target string) {
	parent = t.TempDir()
	target = filepath.Join(parent, "target")
	writeFile(t, filepath.Join(parent, "outside", "keep.txt"), []byte("keep\n"), 0o644)
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	return parent, target
}

func file(p string, size int64) wireEntry {
	return wireEntry{Path: p, Kind: "file", Size: size, Mode: 0o644}
}

func TestHostileNamesAreRefused(t *testing.T) {
	escape := fmt.Sprintf("pigeon-escape-%d", rand.Uint64())
	tmp := os.TempDir()
	long := strings.Repeat("x", MaxNameLen+1)
	cases := []struct {
		name    string
		entries []wireEntry
	}{
		{"dot dot", []wireEntry{file("../escape", 5)}},
		{"absolute", []wireEntry{file(filepath.ToSlash(filepath.Join(tmp, escape)), 5)}},
		{"etc", []wireEntry{file("/etc/"+escape, 5)}},
		{"dot dot inside", []wireEntry{file("a/../../b", 5)}},
		{"dot", []wireEntry{file("./a", 5)}},
		{"empty component", []wireEntry{file("a//b", 5)}},
		{"empty", []wireEntry{file("", 5)}},
		{"NUL", []wireEntry{file("a\x00b", 5)}},
		{"newline", []wireEntry{file("a\nb", 5)}},
		{"escape sequence", []wireEntry{file("a\x1b[2Jb", 5)}},
		{"backslash", []wireEntry{file(`..\escape`, 5)}},
		{"CON", []wireEntry{file("CON", 5)}},
		{"con.txt", []wireEntry{file("dir/con.txt", 5)}},
		{"LPT1", []wireEntry{file("lpt1", 5)}},
		{"partial name", []wireEntry{file(".a.pigeon-partial", 5)}},
		{"too long", []wireEntry{file(long, 5)}},
		{"twice", []wireEntry{file("a", 5), file("a", 5)}},
		{"inside a file", []wireEntry{file("a", 5), file("a/b", 5)}},
		{"link to tmp", []wireEntry{{Path: "link", Kind: "symlink", Target: tmp}, file("link/"+escape, 5)}},
		{"link to parent", []wireEntry{{Path: "up", Kind: "symlink", Target: ".."}, {Path: "up/sub", Kind: "dir", Mode: 0o755}, file("up/sub/escape", 5)}},
		{"negative size", []wireEntry{file("a", -2)}},
		{"unknown kind", []wireEntry{{Path: "a", Kind: "device"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			parent, target := hostileSetup(t)
			before := listing(t, parent, true)
			a, b := pair(t, ctx)
			sendErr := make(chan error, 1)
			go func() {
				sendErr <- fakeSender(ctx, a, manifest{Version: protocolVersion, Entries: tc.entries}, func(l *link) error {
					for range 10 {
						if err := l.write(frameData, []byte("hello")); err != nil {
							return err
						}
					}
					return nil
				})
			}()
			_, err := Receive(ctx, b, ReceiveOptions{Root: openRoot(t, target), Confirm: func(Offer) error {
				t.Error("the person was asked about a transfer with a bad name")
				return nil
			}})
			var ne *NameError
			if !errors.As(err, &ne) {
				t.Errorf("Receive: %v, want a NameError", err)
			}
			var pe *PeerError
			if err := <-sendErr; !errors.As(err, &pe) || !pe.Refused {
				t.Errorf("the sender got %v, want a refusal", err)
			}
			if after := listing(t, parent, true); after != before {
				t.Errorf("files changed:\n%s\nwere:\n%s", after, before)
			}
			for _, p := range []string{filepath.Join(tmp, escape), "/etc/" + escape, filepath.Join(filepath.Dir(parent), "escape"), filepath.Join(filepath.Dir(parent), "b")} {
				if _, err := os.Lstat(p); !os.IsNotExist(err) {
					t.Errorf("%s exists (%v)", p, err)
				}
			}
		})
	}
}

// TestExistingLinkLeadsNowhere: a link already in the target folder that
// points outside it is not followed.
func TestExistingLinkLeadsNowhere(t *testing.T) {
	ctx := testContext(t)
	parent, target := hostileSetup(t)
	if err := os.Symlink(filepath.Join(parent, "outside"), filepath.Join(target, "out")); err != nil {
		t.Fatal(err)
	}
	before := listing(t, parent, true)
	a, b := pair(t, ctx)
	go fakeSender(ctx, a, manifest{Version: protocolVersion, Entries: []wireEntry{{Path: "out", Kind: "dir", Mode: 0o755}, file("out/x", 5)}}, nil)
	_, err := Receive(ctx, b, ReceiveOptions{Root: openRoot(t, target)})
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Errorf("Receive: %v, want a ConflictError", err)
	}
	if after := listing(t, parent, true); after != before {
		t.Errorf("files changed:\n%s\nwere:\n%s", after, before)
	}
}

// receiveFrom runs Receive against a fake sender that announces entries
// and then sends data.
func receiveFrom(t *testing.T, target string, entries []wireEntry, data func(l *link) error) (recvErr, sendErr error) {
	ctx := testContext(t)
	a, b := pair(t, ctx)
	errs := make(chan error, 1)
	go func() { errs <- fakeSender(ctx, a, manifest{Version: protocolVersion, Entries: entries}, data) }()
	_, recvErr = Receive(ctx, b, ReceiveOptions{Root: openRoot(t, target)})
	select {
	case sendErr = <-errs:
	case <-time.After(10 * time.Second):
		t.Fatal("the fake sender did not end")
	}
	return recvErr, sendErr
}

func TestMoreThanAnnouncedIsStopped(t *testing.T) {
	_, target := hostileSetup(t)
	recvErr, sendErr := receiveFrom(t, target, []wireEntry{file("a", 10)}, func(l *link) error {
		for range 1000 {
			if err := l.write(frameData, make([]byte, 7)); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(recvErr, ErrProtocol) || !strings.Contains(recvErr.Error(), "more than the 10 bytes") {
		t.Errorf("Receive: %v, want an error about more bytes than announced", recvErr)
	}
	var pe *PeerError
	if !errors.As(sendErr, &pe) {
		t.Errorf("the sender got %v, want the receiver's abort", sendErr)
	}
	if names := dirNames(t, target); len(names) != 0 {
		t.Errorf("the target holds %q, want nothing", names)
	}
}

func TestDamagedFileIsNotKept(t *testing.T) {
	_, target := hostileSetup(t)
	recvErr, _ := receiveFrom(t, target, []wireEntry{file("a", 5)}, func(l *link) error {
		if err := l.write(frameData, []byte("hello")); err != nil {
			return err
		}
		sum := sha256.Sum256([]byte("hellO"))
		return l.write(frameFileEnd, sum[:])
	})
	if recvErr == nil || !strings.Contains(recvErr.Error(), "damaged") {
		t.Errorf("Receive: %v, want an error about a damaged file", recvErr)
	}
	if names := dirNames(t, target); len(names) != 0 {
		t.Errorf("the target holds %q, want nothing", names)
	}
}

func TestSenderClosesMidFile(t *testing.T) {
	ctx := testContext(t)
	_, target := hostileSetup(t)
	sender, _, a, b := pairPeers(t, ctx)
	go fakeSender(ctx, a, manifest{Version: protocolVersion, Entries: []wireEntry{file("a", 1000), file("b", 0)}}, func(l *link) error {
		if err := l.write(frameData, make([]byte, 100)); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
		return sender.Close()
	})
	_, err := Receive(ctx, b, ReceiveOptions{Root: openRoot(t, target)})
	if err == nil {
		t.Fatal("Receive succeeded though the sender left mid-file")
	}
	if !strings.Contains(err.Error(), "receiving a: ") {
		t.Errorf("Receive: %v, want an error naming the file", err)
	}
	if names := dirNames(t, target); len(names) != 1 || names[0] != ".a.pigeon-partial" {
		t.Errorf("the target holds %q, want only the partial file", names)
	}
}

func TestOtherVersionIsRefused(t *testing.T) {
	_, target := hostileSetup(t)
	ctx := testContext(t)
	a, b := pair(t, ctx)
	errs := make(chan error, 1)
	go func() { errs <- fakeSender(ctx, a, manifest{Version: 2, Entries: []wireEntry{file("a", 1)}}, nil) }()
	_, err := Receive(ctx, b, ReceiveOptions{Root: openRoot(t, target)})
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("Receive: %v, want an error about the version", err)
	}
	if err := <-errs; err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("the sender got %v, want the reason", err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestCheckName(t *testing.T) {
	good := []string{"a", "a/b/c", "with space", "ünïcødé/日本語.txt", ".hidden", "a..b", "...", "CONSOLE", "com0", "COM10", "con_x"}
	for _, p := range good {
		if err := checkName(p); err != nil {
			t.Errorf("checkName(%q): %v", p, err)
		}
	}
	bad := []string{"", "/a", "a/", "../a", "a/..", ".", "a\\b", "a\x00", "\x7f", "aux", "Aux.c", "nul .txt", "COM1", "lpt9.x", "CONIN$", "x/.y.pigeon-partial", "\xff", strings.Repeat("a/", 2049) + "a"}
	for _, p := range bad {
		if err := checkName(p); err == nil {
			t.Errorf("checkName(%q) accepted it", p)
		}
	}
}

package transfer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"pigeon/internal/peertest"
	"pigeon/peer"
	"pigeon/sdpcodec"
)

// pair connects two real peers on loopback: a is the sender's end.
func pair(t testing.TB, ctx context.Context) (a, b *peer.Conn) {
	t.Helper()
	_, _, a, b = pairPeers(t, ctx)
	return a, b
}

// pairPeers is pair that also returns the peers.
func pairPeers(t testing.TB, ctx context.Context) (offerer, answerer *peer.Peer, a, b *peer.Conn) {
	t.Helper()
	offerer, answerer = peertest.Peers(t, ctx, sdpcodec.AppSend)
	a, err := offerer.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = answerer.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	return offerer, answerer, a, b
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openRoot(t testing.TB, dir string) *os.Root {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

type result struct {
	stats Stats
	err   error
}

// transfer sends entries from a to b's receiver and returns both results.
func transfer(t testing.TB, ctx context.Context, entries []Entry, ropts ReceiveOptions) (sent, received result) {
	t.Helper()
	_, answerer, a, b := pairPeers(t, ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sent.stats, sent.err = Send(ctx, a, entries, SendOptions{})
	}()
	go func() {
		defer wg.Done()
		received.stats, received.err = Receive(ctx, b, ropts)
		if received.err != nil {
			// As the CLI does when it gives up: it exits. A sender
			// waiting for room to write notices only then.
			answerer.Close()
		}
	}()
	wg.Wait()
	return sent, received
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// listing describes every entry under dir: kind, mode, time, content hash
// or link target, one line each, sorted. with selects what it shows.
func listing(t testing.TB, dir string, times bool) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := filepath.ToSlash(rel) + " " + info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " " + shortHash(data)
			fallthrough
		default:
			if times {
				line += " " + info.ModTime().UTC().Format(time.RFC3339Nano)
			}
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func shortHash(data []byte) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%x", sum[:8])
}

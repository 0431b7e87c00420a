package transfer

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// BenchmarkSend moves 10,000 files of 1 KiB, and one file of 256 MiB,
// from disk to disk over two real peers on loopback; the tcp cases move
// the same files with a bare length-prefixed copy over a loopback TCP
// connection, as a baseline. Run with -benchtime 1x or 3x.
func BenchmarkSend(b *testing.B) {
	dir := b.TempDir()
	small := filepath.Join(dir, "small")
	const files = 10_000
	for i := range files {
		writeFile(b, filepath.Join(small, fmt.Sprintf("d%02d", i%100), fmt.Sprintf("f%05d", i)), randomBytes(1024, uint64(i)), 0o644)
	}
	big := filepath.Join(dir, "big")
	writeFile(b, filepath.Join(big, "big.bin"), randomBytes(256<<20, 1), 0o644)
	for _, tc := range []struct {
		name  string
		src   string
		files int
		bytes int64
	}{
		{"10000x1KiB", small, files, files * 1024},
		{"256MiB", big, 1, 256 << 20},
	} {
		entries, err := Scan([]string{tc.src})
		if err != nil {
			b.Fatal(err)
		}
		report := func(b *testing.B) {
			b.SetBytes(tc.bytes)
			if tc.files > 1 {
				b.ReportMetric(float64(tc.files*b.N)/b.Elapsed().Seconds(), "files/s")
			}
		}
		b.Run("pigeon/"+tc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				ctx := testContext(b)
				dst := filepath.Join(b.TempDir(), "dst")
				if err := os.Mkdir(dst, 0o755); err != nil {
					b.Fatal(err)
				}
				root := openRoot(b, dst)
				a, c := pair(b, ctx)
				b.StartTimer()
				var wg sync.WaitGroup
				var sendErr error
				wg.Add(1)
				go func() { defer wg.Done(); _, sendErr = Send(ctx, a, entries, SendOptions{}) }()
				st, err := Receive(ctx, c, ReceiveOptions{Root: root})
				wg.Wait()
				if err != nil || sendErr != nil {
					b.Fatalf("receive: %v; send: %v", err, sendErr)
				}
				if st.Files != tc.files || st.Bytes != tc.bytes {
					b.Fatalf("stats %+v", st)
				}
				b.StopTimer()
				os.RemoveAll(dst)
				b.StartTimer()
			}
			report(b)
		})
		b.Run("tcp/"+tc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dst := filepath.Join(b.TempDir(), "dst")
				b.StartTimer()
				if err := tcpCopy(entries, tc.src, dst); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.RemoveAll(dst)
				b.StartTimer()
			}
			report(b)
		})
	}
}

// tcpCopy copies the files of entries through a loopback TCP connection
// into dst: a name, a size, the bytes; folders are made as needed. It is
// the least a file copy over a stream does.
func tcpCopy(entries []Entry, src, dst string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	errs := make(chan error, 1)
	go func() {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			errs <- err
			return
		}
		defer conn.Close()
		w := bufio.NewWriterSize(conn, 256<<10)
		for _, e := range entries {
			if e.Kind != File {
				continue
			}
			f, err := os.Open(e.src)
			if err != nil {
				errs <- err
				return
			}
			var hdr [16]byte
			binary.BigEndian.PutUint64(hdr[:8], uint64(len(e.Path)))
			binary.BigEndian.PutUint64(hdr[8:], uint64(e.Size))
			w.Write(hdr[:])
			w.WriteString(e.Path)
			_, err = io.Copy(w, f)
			f.Close()
			if err != nil {
				errs <- err
				return
			}
		}
		errs <- w.Flush()
	}()
	conn, err := ln.Accept()
	if err != nil {
		return err
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 256<<10)
	made := map[string]bool{}
	for {
		var hdr [16]byte
		if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		name := make([]byte, binary.BigEndian.Uint64(hdr[:8]))
		if _, err := io.ReadFull(r, name); err != nil {
			return err
		}
		p := filepath.Join(dst, filepath.FromSlash(string(name)))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		_, err = io.CopyN(f, r, int64(binary.BigEndian.Uint64(hdr[8:])))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return <-errs
}

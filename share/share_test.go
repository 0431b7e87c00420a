package share

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"pigeon/internal/peertest"
	"pigeon/peer"
	"pigeon/sdpcodec"
)

// session is a sharing side and a joining side, connected on loopback, with
// their reports.
type session struct {
	sharer, joiner *peer.Peer
	addr           string // the joiner's listener
	served, fwd    chan error

	mu                  sync.Mutex
	sharerConns, joined []Report
	sharedAddr          string
}

func (s *session) reports() (sharer, joiner []Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Report(nil), s.sharerConns...), append([]Report(nil), s.joined...)
}

// startSession shares addr between two real peers in this process.
func startSession(t testing.TB, ctx context.Context, addr string) *session {
	t.Helper()
	sharer, joiner := peertest.Peers(t, ctx, sdpcodec.AppShare)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &session{sharer: sharer, joiner: joiner, addr: ln.Addr().String(), served: make(chan error, 1), fwd: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		s.served <- Serve(ctx, sharer, addr, Options{OnConn: func(r Report) {
			s.mu.Lock()
			s.sharerConns = append(s.sharerConns, r)
			s.mu.Unlock()
		}})
	}()
	go func() {
		s.fwd <- Forward(ctx, joiner, ln, Options{
			OnReady: func(a string) {
				s.mu.Lock()
				s.sharedAddr = a
				s.mu.Unlock()
				close(ready)
			},
			OnConn: func(r Report) {
				s.mu.Lock()
				s.joined = append(s.joined, r)
				s.mu.Unlock()
			},
		})
	}()
	select {
	case <-ready:
	case err := <-s.fwd:
		t.Fatalf("Forward: %v", err)
	case <-ctx.Done():
		t.Fatal("the joining side never heard what is shared")
	}
	if s.sharedAddr != addr {
		t.Errorf("the joining side was told %q is shared, want %q", s.sharedAddr, addr)
	}
	return s
}

// end closes the joining side and checks that both sides end: Serve with
// nil, as the other side left.
func (s *session) end(t testing.TB) {
	t.Helper()
	s.joiner.Close()
	for name, ch := range map[string]chan error{"Serve": s.served, "Forward": s.fwd} {
		select {
		case err := <-ch:
			if name == "Serve" && err != nil {
				t.Errorf("Serve returned %v, want nil after the joining side left", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not return after the joining side left", name)
		}
	}
}

func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// body is the distinct body the test server sends for n.
func body(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, 100<<10)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 30 * time.Second}
}

// TestShareHTTP: 50 HTTP clients at once through the joining side's
// listener, each getting its own 100 KiB body intact.
func TestShareHTTP(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(body(n))
	}))
	defer srv.Close()
	s := startSession(t, ctx, srv.Listener.Addr().String())
	client := newClient()
	const clients = 50
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for n := range clients {
		wg.Go(func() {
			resp, err := client.Get(fmt.Sprintf("http://%s/?n=%d", s.addr, n))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				errs <- fmt.Errorf("client %d: %v", n, err)
				return
			}
			if sha256.Sum256(got) != sha256.Sum256(body(n)) {
				errs <- fmt.Errorf("client %d: %d bytes that differ from the %d bytes sent", n, len(got), len(body(n)))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every connection ends on both sides (the client closed it).
	deadline := time.Now().Add(10 * time.Second)
	for {
		sharer, joiner := s.reports()
		if len(sharer) == clients && len(joiner) == clients {
			for _, r := range append(sharer, joiner...) {
				if r.Err != nil {
					t.Errorf("connection %d: %v", r.ID, r.Err)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections ended on the sharing side and %d on the joining side, want %d", len(sharer), len(joiner), clients)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.end(t)
}

// TestShareHalfClose: a client writes its request and shuts down its
// writing half; the service reads to the end, then answers, and the client
// gets the whole answer.
func TestShareHalfClose(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	service := serve(t, func(c net.Conn) {
		data, err := io.ReadAll(c) // until the client's half close
		if err != nil {
			return
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(c, "%d bytes, sha256 %x\n", len(data), sum)
		_, _ = c.Write(bytes.Repeat([]byte("z"), 3<<20))
	})
	s := startSession(t, ctx, service)
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	request := bytes.Repeat([]byte("request "), 200_000) // 1.6 MB
	if _, err := c.Write(request); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(request)
	want := append([]byte(fmt.Sprintf("%d bytes, sha256 %x\n", len(request), sum)), bytes.Repeat([]byte("z"), 3<<20)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes (%.60q...), want %d", len(got), got, len(want))
	}
	s.end(t)
}

// serve runs handle for each connection to a TCP listener on loopback and
// returns its address.
func serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// echo writes back every line it reads.
func echo(c net.Conn) { _, _ = io.Copy(c, c) }

func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo: %q, %v; want %q", buf, err, msg)
	}
}

// TestShareDialFailure: when the service cannot be reached for one
// connection, that connection is closed on the joining side and reported on
// both; the connections already carried and the session go on.
func TestShareDialFailure(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	s := startSession(t, ctx, addr)
	first, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	served := <-accepted
	go echo(served)
	defer served.Close()
	roundTrip(t, first, "before\n")

	ln.Close() // the service stops taking connections
	second, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := second.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read from a connection the service refused: %d bytes, %v; want EOF", n, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		sharer, joiner := s.reports()
		if len(sharer) == 1 && len(joiner) == 1 {
			var de *DialError
			if !errors.As(sharer[0].Err, &de) || de.Addr != addr || sharer[0].ID != 2 {
				t.Errorf("the sharing side reported %+v, want a DialError for %s and connection 2", sharer[0], addr)
			}
			var re *RefusedError
			if !errors.As(joiner[0].Err, &re) || re.Reason != de.Error() || joiner[0].ID != 2 {
				t.Errorf("the joining side reported %+v, want a RefusedError saying %q", joiner[0], de)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reports: sharing side %v, joining side %v; want one each", sharer, joiner)
		}
		time.Sleep(20 * time.Millisecond)
	}
	roundTrip(t, first, "after\n")
	if err := s.sharer.Err(); err != nil {
		t.Fatalf("the session ended: %v", err)
	}
	s.end(t)
}

// TestShareStalledClient: a client that does not read a large response
// holds up only its own connection, and the service's writes to it are held
// back by the connection's window instead of piling up in memory. (The SCTP
// receive buffer is shared by all channels: if the stalled data sat there,
// it would stop every connection.)
func TestShareStalledClient(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	big := bytes.Repeat([]byte("b"), 24<<20) // three times the SCTP receive buffer
	wrote := make(chan struct{})
	service := serve(t, func(c net.Conn) {
		line := make([]byte, 1)
		if _, err := c.Read(line); err != nil {
			return
		}
		if line[0] == 'b' {
			_, _ = c.Write(big)
			close(wrote)
			return
		}
		_, _ = c.Write(line)
		echo(c)
	})
	s := startSession(t, ctx, service)
	stalled, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if _, err := stalled.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // everything that can move has moved
	other, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	roundTrip(t, other, "e")
	roundTrip(t, other, "still moving\n")
	select {
	case <-wrote:
		t.Error("the service wrote all of its response to a client that reads nothing: it was not held back")
	default:
	}
	// The stalled client now reads everything.
	_ = stalled.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := io.CopyN(io.Discard, stalled, int64(len(big))); err != nil {
		t.Fatalf("the stalled client read %d bytes: %v", n, err)
	}
}

// TestPeerLeavingEndsServe: Serve returns nil once the joining side
// leaves, closing the connections it carried.
func TestSharerLeaving(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	service := serve(t, echo)
	s := startSession(t, ctx, service)
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "hello\n")
	s.sharer.Close()
	for name, ch := range map[string]chan error{"Serve": s.served, "Forward": s.fwd} {
		select {
		case err := <-ch:
			if name == "Forward" && err != nil {
				t.Errorf("Forward returned %v, want nil after the sharing side left", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not return after the sharing side left", name)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("a carried connection is still open after the session ended")
	}
	if _, err := net.Dial("tcp", s.addr); err == nil {
		t.Error("the listener still accepts after the session ended")
	}
}

// BenchmarkShare measures one connection's throughput, one way.
func BenchmarkShare(b *testing.B) {
	ctx := testContext(b, 5*time.Minute)
	const size = 64 << 20
	data := bytes.Repeat([]byte("x"), 1<<20)
	service := serve(b, func(c net.Conn) {
		for range size / len(data) {
			if _, err := c.Write(data); err != nil {
				return
			}
		}
	})
	s := startSession(b, ctx, service)
	b.SetBytes(size)
	for b.Loop() {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, c); err != nil || n != size {
			b.Fatalf("read %d bytes, %v", n, err)
		}
		c.Close()
	}
}

package pipe_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/internal/peertest"
	"pigeon/pipe"
	"pigeon/sdpcodec"
)

// closeRecorder is an output that notes when it is closed, as a pipe to
// `tar x` would be.
type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestBothWaysWithHalfClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := peertest.Pair(t, ctx, sdpcodec.AppPipe)
	fromA := randomBytes(3<<20+17, 1) // several frames, an odd tail
	fromB := randomBytes(100, 2)
	var outA, outB closeRecorder
	var wg sync.WaitGroup
	var statsA, statsB pipe.Stats
	var errA, errB error
	wg.Add(2)
	go func() { defer wg.Done(); statsA, errA = pipe.Run(ctx, a, bytes.NewReader(fromA), &outA) }()
	go func() { defer wg.Done(); statsB, errB = pipe.Run(ctx, b, bytes.NewReader(fromB), &outB) }()
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("errors: a %v, b %v", errA, errB)
	}
	if !bytes.Equal(outB.Bytes(), fromA) || !bytes.Equal(outA.Bytes(), fromB) {
		t.Fatalf("streams differ: b got %d of %d bytes, a got %d of %d", outB.Len(), len(fromA), outA.Len(), len(fromB))
	}
	if !outA.closed || !outB.closed {
		t.Errorf("outputs closed: a %v, b %v; want both closed at the end of the peer's stream", outA.closed, outB.closed)
	}
	if statsA.Sent != int64(len(fromA)) || statsA.Received != int64(len(fromB)) || statsB.Sent != int64(len(fromB)) {
		t.Errorf("stats a %+v, b %+v", statsA, statsB)
	}
}

// TestOneWay: a side with no input (nil) only receives; both end.
func TestOneWay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := peertest.Pair(t, ctx, sdpcodec.AppPipe)
	data := randomBytes(1<<20, 3)
	var out closeRecorder
	errs := make(chan error, 2)
	go func() { _, err := pipe.Run(ctx, a, bytes.NewReader(data), io.Discard); errs <- err }()
	go func() { _, err := pipe.Run(ctx, b, nil, &out); errs <- err }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if sha256.Sum256(out.Bytes()) != sha256.Sum256(data) {
		t.Fatalf("received %d bytes that differ from the %d sent", out.Len(), len(data))
	}
}

// slowReader holds its stream open until released.
type slowReader struct{ release chan struct{} }

func (r slowReader) Read([]byte) (int, error) { <-r.release; return 0, io.EOF }

// TestPeerGoneIsAnError: when the peer goes away before its stream ended,
// Run fails instead of reporting success.
func TestPeerGoneIsAnError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	offererConn, answererConn := peertest.Pair(t, ctx, sdpcodec.AppPipe)
	release := make(chan struct{})
	defer close(release)
	errs := make(chan error, 1)
	go func() { _, err := pipe.Run(ctx, offererConn, slowReader{release}, io.Discard); errs <- err }()
	time.Sleep(100 * time.Millisecond)
	answererConn.Close()
	select {
	case err := <-errs:
		if err == nil {
			t.Fatal("Run succeeded though the peer closed before its stream ended")
		}
	case <-ctx.Done():
		t.Fatal("Run did not notice the peer leaving")
	}
}

// BenchmarkPipe moves 64 MiB one way through a pipe over two real peers on
// loopback: compare with BenchmarkRawTCP in the same run.
func BenchmarkPipe(b *testing.B) {
	const size = 64 << 20
	data := randomBytes(1<<20, 4)
	b.SetBytes(size)
	for b.Loop() {
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		x, y := peertest.Pair(b, ctx, sdpcodec.AppPipe)
		b.StartTimer()
		errs := make(chan error, 2)
		go func() {
			_, err := pipe.Run(ctx, x, io.LimitReader(repeat(data), size), io.Discard)
			errs <- err
		}()
		go func() { _, err := pipe.Run(ctx, y, nil, io.Discard); errs <- err }()
		for range 2 {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		cancel()
	}
}

type repeater struct {
	data []byte
	off  int
}

func repeat(data []byte) io.Reader { return &repeater{data: data} }

func (r *repeater) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// BenchmarkRawTCP is BenchmarkPipe's baseline: the same bytes copied over
// a TCP connection on loopback.
func BenchmarkRawTCP(b *testing.B) {
	const size = 64 << 20
	data := randomBytes(1<<20, 4)
	b.SetBytes(size)
	for b.Loop() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			_, err = io.Copy(io.Discard, c)
			c.Close()
			done <- err
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(c, io.LimitReader(repeat(data), size)); err != nil {
			b.Fatal(err)
		}
		c.Close()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		ln.Close()
	}
}

// BenchmarkPionPlain is BenchmarkPipe's other baseline: the same bytes over
// one data channel of two peers with pion's default settings (not
// detached, OnMessage), the sender keeping at most 1 MiB queued.
func BenchmarkPionPlain(b *testing.B) {
	const size = 64 << 20
	chunk := randomBytes(64<<10, 5)
	b.SetBytes(size)
	for b.Loop() {
		b.StopTimer()
		var se webrtc.SettingEngine
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
		offerer, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			b.Fatal(err)
		}
		answerer, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			b.Fatal(err)
		}
		received := make(chan struct{})
		answerer.OnDataChannel(func(dc *webrtc.DataChannel) {
			var n int
			dc.OnMessage(func(m webrtc.DataChannelMessage) {
				if n += len(m.Data); n == size {
					close(received)
				}
			})
		})
		dc, err := offerer.CreateDataChannel("data", nil)
		if err != nil {
			b.Fatal(err)
		}
		opened := make(chan struct{})
		drained := make(chan struct{}, 1)
		dc.OnOpen(func() { close(opened) })
		dc.SetBufferedAmountLowThreshold(256 << 10)
		dc.OnBufferedAmountLow(func() {
			select {
			case drained <- struct{}{}:
			default:
			}
		})
		connectPion(b, offerer, answerer)
		<-opened
		b.StartTimer()
		for sent := 0; sent < size; sent += len(chunk) {
			for dc.BufferedAmount() > 1<<20 {
				<-drained
			}
			if err := dc.Send(chunk); err != nil {
				b.Fatal(err)
			}
		}
		<-received
		b.StopTimer()
		offerer.Close()
		answerer.Close()
		b.StartTimer()
	}
}

func connectPion(b *testing.B, offerer, answerer *webrtc.PeerConnection) {
	b.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		b.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		b.Fatal(err)
	}
	<-gathered
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		b.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		b.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		b.Fatal(err)
	}
	<-gathered
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		b.Fatal(err)
	}
}

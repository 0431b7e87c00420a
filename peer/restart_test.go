package peer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/sdpcodec"
)

// stream writes numbered 8 KiB messages from one side until stop is
// closed, then a one-byte end message, and checks on the other side that
// every one arrives, in order and intact. The returned function waits for
// the end message and returns how many messages arrived.
func stream(t *testing.T, from, to *Conn, stop <-chan struct{}) func() int {
	t.Helper()
	const size = 8 << 10
	fill := func(msg []byte, n int) {
		binary.BigEndian.PutUint64(msg, uint64(n))
		for i := 8; i < len(msg); i++ {
			msg[i] = byte(n + i)
		}
	}
	go func() {
		msg := make([]byte, size)
		for n := 0; ; n++ {
			select {
			case <-stop:
				if err := from.WriteMessage([]byte{'E'}); err != nil {
					t.Errorf("end message: %v", err)
				}
				return
			default:
			}
			fill(msg, n)
			if err := from.WriteMessage(msg); err != nil {
				t.Errorf("message %d: WriteMessage: %v", n, err)
				return
			}
		}
	}()
	got := make(chan int, 1)
	go func() {
		buf := make([]byte, MaxMessage)
		want := make([]byte, size)
		for n := 0; ; n++ {
			k, err := to.ReadMessage(buf)
			if err != nil {
				t.Errorf("after %d messages: ReadMessage: %v", n, err)
				got <- n
				return
			}
			if k == 1 && buf[0] == 'E' {
				got <- n
				return
			}
			fill(want, n)
			if !bytes.Equal(buf[:k], want) {
				t.Errorf("message %d arrived wrong (%d bytes, number %d)", n, k, binary.BigEndian.Uint64(buf))
				got <- n
				return
			}
		}
	}()
	return func() int {
		select {
		case n := <-got:
			return n
		case <-time.After(30 * time.Second):
			t.Fatal("the end of the stream did not arrive")
			return 0
		}
	}
}

// waitConnected waits until both peers are connected in generation gen.
func waitConnected(t *testing.T, gen uint16, peers ...*Peer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, p := range peers {
		for {
			p.mu.Lock()
			st := p.state
			p.mu.Unlock()
			if p.Generation() == gen && st == StateConnected {
				break
			}
			if err := p.Err(); err != nil {
				t.Fatalf("peer ended: %v", err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("not connected in generation %d: generation %d, %s", gen, p.Generation(), st)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// connectedPeers makes a pair on loopback with the options given and
// connects it.
func connectedPeers(t *testing.T, ctx context.Context, offerOpts, answerOpts Options) (offerer, answerer *Peer, a, b *Conn) {
	t.Helper()
	offerer, answerer = newPair(t, ctx, offerOpts, answerOpts)
	if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
		t.Fatal(err)
	}
	a, b = connectPair(t, ctx, offerer, answerer)
	return offerer, answerer, a, b
}

// localUfrag is the ICE username fragment of p's current local description.
func localUfrag(t *testing.T, p *Peer) string {
	t.Helper()
	for _, line := range strings.Split(p.pc.LocalDescription().SDP, "\r\n") {
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok {
			return v
		}
	}
	t.Fatal("no ice-ufrag in the local description")
	return ""
}

// TestRestartInBand: the answerer's network changes while the offerer
// streams to it; it tells the offerer over the connection, both restart ICE
// with fresh credentials, and every message arrives.
func TestRestartInBand(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	changes := make(chan NetworkChange, 1)
	offerer, answerer, a, b := connectedPeers(t, ctx, Options{}, Options{OnNetworkChange: func(c NetworkChange) { changes <- c }})
	before := localUfrag(t, offerer)

	stop := make(chan struct{})
	arrived := stream(t, a, b, stop)
	time.Sleep(300 * time.Millisecond)
	answerer.networkChanged()
	c := <-changes
	if !c.Reconnected || c.Generation != 1 || c.Blob.Generation != 1 || c.Blob.FromOfferer {
		t.Errorf("network change = %+v, want reconnected in generation 1, from the answerer", c)
	}
	t.Logf("network change: told over the connection %v, reconnected %v", c.Told, c.Reconnected)
	waitConnected(t, 1, offerer, answerer)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	n := arrived()
	t.Logf("%d messages of 8 KiB arrived intact across the restart", n)

	after := localUfrag(t, offerer)
	want, _ := sdpcodec.CredentialsAt(offerer.Local().Fingerprint, 1)
	if after == before || after != want {
		t.Errorf("offerer's ufrag after the restart = %s (before %s), want fresh %s", after, before, want)
	}
	exchange(t, b, a, "still there")
}

// TestRestartByHand: the answerer restarts without being able to tell the
// offerer; its reconnect blob, carried by hand, brings the offerer along.
func TestRestartByHand(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	offerer, answerer, a, b := connectedPeers(t, ctx, Options{}, Options{})
	stop := make(chan struct{})
	arrived := stream(t, b, a, stop)
	time.Sleep(200 * time.Millisecond)

	if err := answerer.restartTo(1, nil, false); err != nil {
		t.Fatal(err)
	}
	blob, err := answerer.reconnectBlob()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := blob.Encode()
	t.Logf("reconnect blob: %s (%d characters)", text, len(text))
	if err := offerer.Reconnect(carry(t, blob)); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	waitConnected(t, 1, offerer, answerer)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	t.Logf("%d messages arrived intact", arrived())

	// The same blob again changes nothing; an older generation is refused.
	if err := offerer.Reconnect(carry(t, blob)); err != nil {
		t.Errorf("the same blob again: %v", err)
	}
	old := *blob
	old.Generation = 0
	if err := offerer.restartTo(0, nil, true); !errors.Is(err, ErrStaleReconnect) {
		t.Errorf("generation 0 after 1: %v, want ErrStaleReconnect", err)
	}
	exchange(t, a, b, "after")
}

// TestRestartAloneIsJoined: a side that restarts without telling anyone (it
// went silent for a while, or a network change cut the connection at once)
// is followed by the other side as soon as its checks of the new
// generation arrive: the other side never has to notice a silence of its
// own, and the stream goes on intact.
func TestRestartAloneIsJoined(t *testing.T) {
	for _, first := range []string{"offerer", "answerer"} {
		t.Run(first+" first", func(t *testing.T) {
			ctx := testContext(t, 60*time.Second)
			start := time.Now()
			var mu sync.Mutex
			var log []string
			var otherStates []State
			record := func(who string) func(State) {
				return func(s State) {
					mu.Lock()
					defer mu.Unlock()
					log = append(log, fmt.Sprintf("%s %s at %s", who, s, time.Since(start).Round(time.Millisecond)))
					if who != first {
						otherStates = append(otherStates, s)
					}
				}
			}
			offerer, answerer, a, b := connectedPeers(t, ctx, Options{OnState: record("offerer")}, Options{OnState: record("answerer")})
			stop := make(chan struct{})
			arrived := stream(t, a, b, stop)
			restarting := offerer
			if first == "answerer" {
				restarting = answerer
			}
			if err := restarting.restartTo(1, nil, false); err != nil {
				t.Fatal(err)
			}
			waitConnected(t, 1, offerer, answerer)
			close(stop)
			t.Logf("%d messages arrived intact", arrived())
			mu.Lock()
			defer mu.Unlock()
			t.Log(strings.Join(log, "; "))
			if !slices.Contains(otherStates, StateRestarting) || slices.Contains(otherStates, StateDisconnected) {
				t.Errorf("the other side went through %v; want it to restart on the checks, never disconnected", otherStates)
			}
		})
	}
}

// TestRestartsCrossing: both sides' networks change at once; their
// requests cross and both end in the same generation.
func TestRestartsCrossing(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	offerer, answerer, a, b := connectedPeers(t, ctx, Options{}, Options{})
	stop := make(chan struct{})
	arrived := stream(t, a, b, stop)
	for round := uint16(1); round <= 3; round++ {
		var wg sync.WaitGroup
		for _, p := range []*Peer{offerer, answerer} {
			wg.Go(p.networkChanged)
		}
		wg.Wait()
		waitConnected(t, offerer.Generation(), offerer, answerer)
		if g, h := offerer.Generation(), answerer.Generation(); g != h || g < round {
			t.Fatalf("round %d: generations %d and %d", round, g, h)
		}
	}
	close(stop)
	t.Logf("%d messages arrived intact across 3 crossed restarts", arrived())
	exchange(t, b, a, "after")
}

// TestLateStateChanges: pion reports each change of the connection's state
// on a goroutine of its own, so under load a report can run after a later
// one (a restart's "connecting" after its "connected"). A late report
// changes nothing: the peer stays connected, restarts nothing and reports
// nothing; after a restart's Restarting, Connected is reported even when
// pion was connected again before its "connecting" ran.
func TestLateStateChanges(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	var mu sync.Mutex
	var states []State
	record := func(s State) {
		mu.Lock()
		defer mu.Unlock()
		states = append(states, s)
	}
	offerer, answerer, a, b := connectedPeers(t, ctx, Options{OnState: record}, Options{})
	waitConnected(t, 0, offerer, answerer)
	mu.Lock()
	states = nil
	mu.Unlock()

	offerer.onConnectionState(webrtc.PeerConnectionStateConnecting)
	offerer.onConnectionState(webrtc.PeerConnectionStateDisconnected)
	time.Sleep(200 * time.Millisecond) // a restart would have begun
	offerer.mu.Lock()
	st := offerer.state
	offerer.mu.Unlock()
	if st != StateConnected || offerer.Generation() != 0 {
		t.Errorf("after late reports: %s in generation %d, want connected in 0", st, offerer.Generation())
	}

	offerer.restarting()
	offerer.onConnectionState(webrtc.PeerConnectionStateConnecting)
	mu.Lock()
	got := slices.Clone(states)
	mu.Unlock()
	if want := []State{StateRestarting, StateConnected}; !slices.Equal(got, want) {
		t.Errorf("reported %v, want %v", got, want)
	}
	waitConnected(t, 0, offerer)
	exchange(t, a, b, "unharmed")
}

// TestReconnectWrongBlobs: wrong reconnect blobs are refused and the
// session goes on.
func TestReconnectWrongBlobs(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	offerer, _, a, b := connectedPeers(t, ctx, Options{}, Options{})
	_, other2, _, _ := connectedPeers(t, ctx, Options{}, Options{})

	own, err := offerer.reconnectBlob()
	if err != nil {
		t.Fatal(err)
	}
	own.Generation = 1
	foreign, err := other2.reconnectBlob()
	if err != nil {
		t.Fatal(err)
	}
	foreign.Generation = 1
	for _, tc := range []struct {
		name string
		blob *sdpcodec.Blob
		want error
	}{
		{"own", own, ErrOwnReconnect},
		{"other session", foreign, ErrOtherSession},
		{"an offer", offerer.Local(), ErrNotReconnect},
	} {
		if err := offerer.Reconnect(carry(t, tc.blob)); !errors.Is(err, tc.want) {
			t.Errorf("%s: Reconnect = %v, want %v", tc.name, err, tc.want)
		}
	}
	if g := offerer.Generation(); g != 0 {
		t.Errorf("generation %d after refused blobs, want 0", g)
	}
	exchange(t, a, b, "unharmed")
}

// TestLostWaitsForReconnect: with a ReconnectWait, a peer whose other side
// vanished reports Waiting when the connection counts as lost, and ends
// only after the wait.
func TestLostWaitsForReconnect(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	states := make(chan State, 16)
	opts := Options{LostTimeout: 2 * time.Second, ReconnectWait: 2 * time.Second, OnState: func(s State) { states <- s }}
	offerer, answerer := newPair(t, ctx, opts, Options{})
	if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
		t.Fatal(err)
	}
	connectPair(t, ctx, offerer, answerer)
	// The answerer's sockets go away without a word, as with a killed process.
	_ = answerer.host.Close()
	start := time.Now()
	var waitingAt time.Duration
	for waitingAt == 0 {
		select {
		case s := <-states:
			if s == StateWaiting {
				waitingAt = time.Since(start)
				if err := offerer.Err(); err != nil {
					t.Fatalf("ended before waiting: %v", err)
				}
			}
		case <-offerer.Done():
			t.Fatalf("ended without waiting: %v", offerer.Err())
		case <-ctx.Done():
			t.Fatal("never reported waiting")
		}
	}
	select {
	case <-offerer.Done():
	case <-ctx.Done():
		t.Fatal("did not end after the wait")
	}
	endedAt := time.Since(start)
	if !errors.Is(offerer.Err(), ErrPeerLost) || endedAt-waitingAt < opts.ReconnectWait-200*time.Millisecond {
		t.Errorf("waiting at %s, ended at %s with %v; want ErrPeerLost after waiting %s", waitingAt, endedAt, offerer.Err(), opts.ReconnectWait)
	}
	t.Logf("waiting at %s, lost at %s", waitingAt.Round(10*time.Millisecond), endedAt.Round(10*time.Millisecond))
}

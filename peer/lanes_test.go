package peer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/peer/internal/link"
)

// stripePair sets up a striped stream over up to n lanes (channel 0 for
// none) on both sides of a connected pair.
func stripePair(t *testing.T, ctx context.Context, offerer, answerer *Peer, n int) (a, b *Striped) {
	t.Helper()
	type result struct {
		s   *Striped
		err error
	}
	answered := make(chan result, 1)
	go func() {
		s, err := answerer.Stripe(ctx, 0)
		answered <- result{s, err}
	}()
	a, err := offerer.Stripe(ctx, n)
	if err != nil {
		t.Fatalf("offerer: %v", err)
	}
	r := <-answered
	if r.err != nil {
		t.Fatalf("answerer: %v", r.err)
	}
	return a, r.s
}

// TestStripeOrder: a stream striped over three lanes carries messages of
// every size both ways at once, each side's in order, in packets as large
// as loopback carries and pion reads whole.
func TestStripeOrder(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	offerer, answerer, _, _ := connectedPeers(t, ctx, Options{}, Options{})
	a, b := stripePair(t, ctx, offerer, answerer, 3)
	if a.Lanes() != 3 || b.Lanes() != 3 {
		t.Fatalf("lanes: offerer %d, answerer %d, want 3", a.Lanes(), b.Lanes())
	}
	for _, p := range []*Peer{offerer, answerer} {
		p.mu.Lock()
		for _, l := range p.lanes.all {
			if got, want := l.link.PacketSize(), uint32(link.ReadLimit-link.DTLSOverhead); got != want {
				t.Errorf("lane %d sends SCTP packets of %d bytes over loopback, want %d", l.id, got, want)
			}
		}
		p.mu.Unlock()
	}
	const count = 2000
	message := func(from string, i int) []byte {
		m := fmt.Appendf(nil, "%s %d ", from, i)
		return append(m, bytes.Repeat([]byte{byte(i)}, (i*997)%(MaxMessage-len(m)+1))...)
	}
	send := func(s *Striped, from string) chan error {
		done := make(chan error, 1)
		go func() {
			for i := range count {
				if err := s.WriteMessage(message(from, i)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		return done
	}
	receive := func(s *Striped, from string) error {
		buf := make([]byte, MaxMessage)
		for i := range count {
			n, err := s.ReadMessage(buf)
			if err != nil {
				return fmt.Errorf("message %d: %w", i, err)
			}
			if want := message(from, i); !bytes.Equal(buf[:n], want) {
				return fmt.Errorf("message %d: got %d bytes starting %q, want %d starting %q", i, n, buf[:min(n, 12)], len(want), want[:12])
			}
		}
		return nil
	}
	sentA, sentB := send(a, "a"), send(b, "b")
	gotB := make(chan error, 1)
	go func() { gotB <- receive(a, "b") }()
	if err := receive(b, "a"); err != nil {
		t.Fatalf("answerer reading: %v", err)
	}
	if err := <-gotB; err != nil {
		t.Fatalf("offerer reading: %v", err)
	}
	for _, done := range []chan error{sentA, sentB} {
		if err := <-done; err != nil {
			t.Fatalf("writing: %v", err)
		}
	}
}

// TestStripeNone: with n = 0 both sides agree on channel 0 alone, and no
// lane is made.
func TestStripeNone(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	offerer, answerer, _, _ := connectedPeers(t, ctx, Options{}, Options{})
	a, b := stripePair(t, ctx, offerer, answerer, 0)
	if a.conns[0] != offerer.main || b.conns[0] != answerer.main || a.Lanes() != 1 || b.Lanes() != 1 {
		t.Fatalf("the stream runs over %d and %d connections, want channel 0 alone", a.Lanes(), b.Lanes())
	}
	hello(t, a, b)
	for _, p := range []*Peer{offerer, answerer} {
		p.mu.Lock()
		if n := len(p.lanes.all); n != 0 {
			t.Errorf("%d lanes made", n)
		}
		p.mu.Unlock()
	}
}

// hello sends a message from a to b.
func hello(t *testing.T, a, b *Striped) {
	t.Helper()
	if err := a.WriteMessage([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, MaxMessage)
	if n, err := b.ReadMessage(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

// TestLaneOtherCertificate: a lane whose other side shows a certificate
// other than the first connection's is not used: the stream falls back to
// channel 0, on both sides.
func TestLaneOtherCertificate(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	offerer, answerer, _, _ := connectedPeers(t, ctx, Options{}, Options{})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := webrtc.GenerateCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	offerer.cert = other // for its lanes only: the first connection is up
	a, b := stripePair(t, ctx, offerer, answerer, 1)
	if a.conns[0] != offerer.main || b.conns[0] != answerer.main {
		t.Fatal("a lane with another certificate carries the stream")
	}
	hello(t, a, b)
}

// TestLaneLost: a lane that stops answering ends the session on both
// sides with ErrLaneLost, and a reader blocked on it wakes.
func TestLaneLost(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	offerer, answerer, _, _ := connectedPeers(t, ctx, Options{LostTimeout: 2 * time.Second}, Options{LostTimeout: 2 * time.Second})
	a, b := stripePair(t, ctx, offerer, answerer, 2)
	if a.Lanes() != 2 {
		t.Fatalf("lanes %d, want 2", a.Lanes())
	}
	// The answerer's lane sockets go silent: its lane stops answering.
	answerer.mu.Lock()
	l := answerer.lanes.all[0]
	answerer.mu.Unlock()
	l.link.Silence()

	read := make(chan error, 1)
	go func() {
		buf := make([]byte, MaxMessage)
		_, err := a.ReadMessage(buf)
		if err == nil {
			_, err = a.ReadMessage(buf) // the second goes over the silent lane
		}
		read <- err
	}()
	if err := b.WriteMessage([]byte("on the first lane")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-read:
		if !errors.Is(err, ErrLaneLost) {
			t.Errorf("reader: %v, want ErrLaneLost", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader was not woken")
	}
	t.Logf("lane loss noticed after %s", time.Since(start).Round(10*time.Millisecond))
	if err := offerer.Err(); !errors.Is(err, ErrLaneLost) || !errors.Is(err, ErrPeerLost) {
		t.Errorf("offerer ended with %v, want ErrLaneLost", err)
	}
}

// TestLanesFollowRestart: when the connection restarts ICE (the answerer's
// network changed, told in band), the lanes of a striped stream restart
// theirs with it, with fresh credentials on both sides, and the stream goes
// on over both lanes, both ways.
func TestLanesFollowRestart(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	offerer, answerer, _, _ := connectedPeers(t, ctx, Options{}, Options{})
	a, b := stripePair(t, ctx, offerer, answerer, 2)
	ufrags := func() map[*lane]string {
		m := map[*lane]string{}
		for _, p := range []*Peer{offerer, answerer} {
			p.mu.Lock()
			for _, l := range p.lanes.all {
				u, err := l.link.LocalUfrag()
				if err != nil {
					t.Fatal(err)
				}
				m[l] = u
			}
			p.mu.Unlock()
		}
		return m
	}
	before := ufrags()
	if len(before) != 4 {
		t.Fatalf("%d lane agents, want 2 on each side", len(before))
	}
	answerer.networkChanged()
	waitConnected(t, 1, offerer, answerer)
	deadline := time.Now().Add(10 * time.Second)
	for {
		same := 0
		for l, u := range ufrags() {
			if before[l] == u {
				same++
			}
		}
		if same == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 4 lane agents kept their credentials after the restart", same)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 2 { // once over each lane
		hello(t, a, b)
		hello(t, b, a)
	}
}

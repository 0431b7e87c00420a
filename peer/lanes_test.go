package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// stripePair sets up a striped stream of up to n connections on both
// sides of a connected pair.
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

// TestStripeOrder: a stream striped over three connections carries
// messages of every size both ways at once, each side's in order.
func TestStripeOrder(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	offerer, answerer, _, _ := connectedPeers(t, ctx, Options{}, Options{})
	a, b := stripePair(t, ctx, offerer, answerer, 3)
	if a.Lanes() != 3 || b.Lanes() != 3 {
		t.Fatalf("lanes: offerer %d, answerer %d, want 3", a.Lanes(), b.Lanes())
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

// TestStripeOne: with n = 1 both sides agree on channel 0 alone.
func TestStripeOne(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	offerer, answerer, _, _ := connectedPeers(t, ctx, Options{}, Options{})
	a, b := stripePair(t, ctx, offerer, answerer, 1)
	if a.Lanes() != 1 || b.Lanes() != 1 {
		t.Fatalf("lanes: offerer %d, answerer %d, want 1", a.Lanes(), b.Lanes())
	}
	if err := a.WriteMessage([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, MaxMessage)
	if n, err := b.ReadMessage(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
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
	_ = l.host.Close()

	read := make(chan error, 1)
	go func() {
		buf := make([]byte, MaxMessage)
		_, err := a.ReadMessage(buf)
		if err == nil {
			_, err = a.ReadMessage(buf) // the second message is the lane's
		}
		read <- err
	}()
	if err := b.WriteMessage([]byte("on channel 0")); err != nil {
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

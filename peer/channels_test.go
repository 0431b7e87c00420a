package peer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// connectedPair is an offerer and an answerer with channel 0 open.
func connectedPair(t *testing.T, ctx context.Context) (offerer, answerer *Peer, a, b *Conn) {
	t.Helper()
	offerer, answerer = newPair(t, ctx, Options{}, Options{})
	if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
		t.Fatal(err)
	}
	a, b = connectPair(t, ctx, offerer, answerer)
	return offerer, answerer, a, b
}

// TestChannelsBothSides: both sides open channels at the same time; every
// one arrives on the other side with its own stream ID (odd for the
// offerer, even and not 0 for the answerer), carries its own messages, and
// channel 0 still works.
func TestChannelsBothSides(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	offerer, answerer, a, b := connectedPair(t, ctx)
	const n = 20
	type side struct {
		name      string
		p, other  *Peer
		wantOdd   bool
		opened    []*Conn
		accepted  []*Conn
		openErr   error
		acceptErr error
	}
	sides := []*side{
		{name: "offerer", p: offerer, other: answerer, wantOdd: true},
		{name: "answerer", p: answerer, other: offerer},
	}
	var wg sync.WaitGroup
	for _, s := range sides {
		wg.Go(func() {
			var mu sync.Mutex
			var open sync.WaitGroup
			for range n {
				open.Go(func() {
					c, err := s.p.OpenChannel(ctx)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						s.openErr = err
						return
					}
					s.opened = append(s.opened, c)
				})
			}
			open.Wait()
		})
		wg.Go(func() {
			for range n {
				c, err := s.other.AcceptChannel(ctx)
				if err != nil {
					s.acceptErr = err
					return
				}
				s.accepted = append(s.accepted, c)
			}
		})
	}
	wg.Wait()
	ids := map[string]map[uint16]bool{}
	for _, s := range sides {
		if s.openErr != nil || s.acceptErr != nil {
			t.Fatalf("%s: OpenChannel: %v; the other side's AcceptChannel: %v", s.name, s.openErr, s.acceptErr)
		}
		ids[s.name] = map[uint16]bool{}
		for _, c := range s.opened {
			id := *c.q.(*webrtc.DataChannel).ID()
			if id == 0 || (id%2 == 1) != s.wantOdd {
				t.Errorf("%s opened a channel with stream ID %d", s.name, id)
			}
			if ids[s.name][id] {
				t.Errorf("%s opened two channels with stream ID %d", s.name, id)
			}
			ids[s.name][id] = true
		}
		for _, c := range s.accepted {
			if id := *c.q.(*webrtc.DataChannel).ID(); !ids[s.name][id] {
				t.Errorf("the other side accepted stream ID %d, which %s did not open", id, s.name)
			}
		}
	}
	// Each channel carries its own messages: write on every one at once,
	// then read them back in any order.
	for _, s := range sides {
		for i, c := range s.opened {
			msg := fmt.Sprintf("%s channel %d", s.name, *c.q.(*webrtc.DataChannel).ID())
			if err := c.WriteMessage([]byte(msg)); err != nil {
				t.Fatalf("%s WriteMessage on channel %d: %v", s.name, i, err)
			}
		}
		for _, c := range s.accepted {
			buf := make([]byte, MaxMessage)
			m, err := c.ReadMessage(buf)
			if want := fmt.Sprintf("%s channel %d", s.name, *c.q.(*webrtc.DataChannel).ID()); err != nil || string(buf[:m]) != want {
				t.Errorf("ReadMessage = %q, %v; want %q", buf[:m], err, want)
			}
			exchange(t, c, s.opened[indexOf(s.opened, *c.q.(*webrtc.DataChannel).ID())], "reply")
		}
	}
	exchange(t, a, b, "channel 0 still works")
	exchange(t, b, a, "both ways")
}

func indexOf(cs []*Conn, id uint16) int {
	for i, c := range cs {
		if *c.q.(*webrtc.DataChannel).ID() == id {
			return i
		}
	}
	return -1
}

// TestChannelClose: closing one channel ends it on both sides and leaves the
// others and channel 0 open.
func TestChannelClose(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, answerer, a, b := connectedPair(t, ctx)
	// Channels opened at once may arrive in any order: one at a time.
	one, err := answerer.OpenChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oneThere, err := offerer.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	two, err := answerer.OpenChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	twoThere, err := offerer.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, one, oneThere, "last words")
	if err := one.Close(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, MaxMessage)
	if n, err := oneThere.ReadMessage(buf); err != io.EOF {
		t.Fatalf("ReadMessage on a channel the peer closed = %q, %v; want EOF", buf[:n], err)
	}
	if err := one.WriteMessage([]byte("too late")); err != ErrChannelClosed {
		t.Errorf("WriteMessage after Close = %v, want %v", err, ErrChannelClosed)
	}
	if err := one.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	exchange(t, two, twoThere, "still open")
	exchange(t, twoThere, two, "and back")
	exchange(t, a, b, "channel 0 too")
}

// TestChannelsEndWithThePeer: when one side closes, the other side's
// channels read EOF and AcceptChannel and OpenChannel fail.
func TestChannelsEndWithThePeer(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, answerer, _, _ := connectedPair(t, ctx)
	c, err := offerer.OpenChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	there, err := answerer.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	accepting := make(chan error, 1)
	go func() {
		_, err := answerer.AcceptChannel(ctx)
		accepting <- err
	}()
	offerer.Close()
	buf := make([]byte, MaxMessage)
	if _, err := there.ReadMessage(buf); err == nil {
		t.Error("ReadMessage after the peer closed: no error")
	}
	if err := <-accepting; err == nil {
		t.Error("AcceptChannel after the peer closed: no error")
	}
	if _, err := offerer.OpenChannel(ctx); err != ErrClosed {
		t.Errorf("OpenChannel on a closed peer = %v, want %v", err, ErrClosed)
	}
	if err := c.WriteMessage([]byte("x")); err == nil {
		t.Error("WriteMessage on a closed peer: no error")
	}
}

// TestChannelFlowControl: a channel whose writer waits on a full send queue
// does not hold up writers on other channels. (A reader that stops reading
// is another matter: the SCTP receive window is shared by all channels, so
// once a stalled channel fills it, every channel stalls. Package share
// gives each channel its own window on top.)
func TestChannelFlowControl(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	offerer, answerer, _, _ := connectedPair(t, ctx)
	slow, err := answerer.OpenChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slowThere, err := offerer.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := answerer.OpenChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fastThere, err := offerer.AcceptChannel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 4 MiB, read at once on the other side: more than the high-water
	// mark, less than the receive window.
	msg := bytes.Repeat([]byte{'x'}, MaxMessage)
	const total = 64
	written := make(chan error, 1)
	go func() {
		for range total {
			if err := slow.WriteMessage(msg); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	read := make(chan error, 1)
	go func() {
		buf := make([]byte, MaxMessage)
		for i := range total {
			if n, err := slowThere.ReadMessage(buf); err != nil || n != len(msg) {
				read <- fmt.Errorf("message %d: %d bytes, %v", i, n, err)
				return
			}
		}
		read <- nil
	}()
	exchange(t, fast, fastThere, "not held up")
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
}

package room

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/peer"
	"pigeon/sdpcodec"
)

// recorder keeps a member's events.
type recorder struct {
	mu     sync.Mutex
	events []Event
	change chan struct{}
}

func newRecorder() *recorder { return &recorder{change: make(chan struct{}, 1)} }

func (r *recorder) add(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.change <- struct{}{}:
	default:
	}
}

// all are the events so far.
func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// lines are the lines heard, "name: text".
func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Kind == Line {
			out = append(out, e.Member.Name+": "+e.Text)
		}
	}
	return out
}

// wait waits until ok holds of the events.
func (r *recorder) wait(t testing.TB, what string, ok func([]Event) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		done := ok(r.events)
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-r.change:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("%s did not happen; events: %+v", what, r.events)
		}
	}
}

func carry(t testing.TB, b *sdpcodec.Blob) *sdpcodec.Blob {
	t.Helper()
	text, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sdpcodec.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testRoom is a host and guests in one process, on loopback, through an
// open room offer.
type testRoom struct {
	host   *Host
	hostEv *recorder
	guests []*Guest
	evs    []*recorder
	offer  *sdpcodec.Blob // the room's open offer, as carried
	close  func()         // ends the room, and every member's part
}

func openRoom(t testing.TB, ctx context.Context, names ...string) *testRoom {
	t.Helper()
	opts := peer.Options{Loopback: true}
	offer, err := peer.OfferRoom(ctx, opts, MaxMembers-1)
	if err != nil {
		t.Fatal(err)
	}
	tr := &testRoom{hostEv: newRecorder()}
	tr.host = NewHost("host", tr.hostEv.add)
	go func() {
		for p := range offer.Guests() {
			go func() { _, _ = tr.host.Admit(ctx, p) }()
		}
	}()
	tr.close = func() {
		tr.host.Close("the test is over")
		for _, g := range tr.guests {
			g.Leave()
		}
		offer.Close()
	}
	t.Cleanup(tr.close)
	tr.offer = carry(t, offer.Local())
	for _, name := range names {
		openRoomGuest(t, ctx, tr, name)
	}
	return tr
}

// openRoomGuest has name join tr, and returns its index in tr.guests.
func openRoomGuest(t testing.TB, ctx context.Context, tr *testRoom, name string) int {
	t.Helper()
	opts := peer.Options{Loopback: true}
	p, err := peer.Answer(ctx, opts, tr.offer)
	if err != nil {
		t.Fatal(err)
	}
	ev := newRecorder()
	g, err := Join(ctx, p, name, opts, ev.add)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tr.guests, tr.evs = append(tr.guests, g), append(tr.evs, ev)
	return len(tr.guests) - 1
}

// meshed waits until every guest has a direct connection to every other.
func (tr *testRoom) meshed(t testing.TB) {
	t.Helper()
	for i, g := range tr.guests {
		want := len(tr.guests) - 1
		tr.evs[i].wait(t, fmt.Sprintf("%s meshed", g.me.Name), func([]Event) bool { return len(g.Direct()) == want })
	}
}

// TestRoomMesh: a host and three guests through one open room offer: the
// guests connect to each other directly, each pair once (their offers
// crossed), and every line reaches every other member exactly once, in
// its sender's order.
func TestRoomMesh(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	tr := openRoom(t, ctx, "ann", "bob", "cat")
	tr.meshed(t)
	t.Logf("host start to four members meshed: %s", time.Since(start).Round(time.Millisecond))

	const n = 20
	for i := range n {
		tr.host.Say(fmt.Sprintf("host %d", i))
		for _, g := range tr.guests {
			g.Say(fmt.Sprintf("%s %d", g.me.Name, i))
		}
	}
	all := append([]*recorder{tr.hostEv}, tr.evs...)
	names := []string{"host", "ann", "bob", "cat"}
	for i, r := range all {
		r.wait(t, names[i]+" heard every line", func(es []Event) bool {
			lines := 0
			for _, e := range es {
				if e.Kind == Line {
					lines++
				}
			}
			return lines >= 3*n
		})
		got := map[string][]string{}
		for _, l := range r.lines() {
			who, text, _ := strings.Cut(l, ": ")
			got[who] = append(got[who], text)
		}
		for _, who := range names {
			if who == names[i] {
				if len(got[who]) != 0 {
					t.Errorf("%s heard its own lines", who)
				}
				continue
			}
			var want []string
			for j := range n {
				want = append(want, fmt.Sprintf("%s %d", who, j))
			}
			if strings.Join(got[who], "|") != strings.Join(want, "|") {
				t.Errorf("%s heard %s: %q, want each line once, in order", names[i], who, got[who])
			}
		}
	}
}

// TestRoomGlare: every guest negotiates again with every other at once,
// so the offers cross on every pair (the host holds them until all six
// are made); each pair settles on one new direct connection (the polite
// side yields) and lines go on.
func TestRoomGlare(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := openRoom(t, ctx, "ann", "bob", "cat")
	tr.meshed(t)
	var (
		heldMu sync.Mutex
		held   []func()
	)
	tr.host.mu.Lock()
	tr.host.hold = func(m msg, forward func()) bool {
		if b, err := sdpcodec.Parse(m.Blob); err != nil || b.Kind != sdpcodec.Offer {
			return false
		}
		heldMu.Lock()
		defer heldMu.Unlock()
		if held = append(held, forward); len(held) == 6 {
			for _, f := range held {
				go f()
			}
		}
		return true
	}
	tr.host.mu.Unlock()
	before := map[*Guest]int{}
	count := func(g *Guest, es []Event) int {
		n := 0
		for _, e := range es {
			if e.Kind == Direct {
				n++
			}
		}
		return n
	}
	for i, g := range tr.guests {
		tr.evs[i].mu.Lock()
		before[g] = count(g, tr.evs[i].events)
		tr.evs[i].mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, g := range tr.guests {
		wg.Add(1)
		go func() { defer wg.Done(); g.Renegotiate() }()
	}
	wg.Wait()
	for i, g := range tr.guests {
		tr.evs[i].wait(t, g.me.Name+"'s pairs settled again", func(es []Event) bool {
			return count(g, es)-before[g] >= 2 && len(g.Direct()) == 2
		})
	}
	time.Sleep(500 * time.Millisecond) // nothing more settles
	for i, g := range tr.guests {
		tr.evs[i].mu.Lock()
		if d := count(g, tr.evs[i].events) - before[g]; d != 2 {
			t.Errorf("%s opened %d new direct connections, want one per pair (2)", g.me.Name, d)
		}
		tr.evs[i].mu.Unlock()
	}
	tr.guests[0].Say("after the crossing")
	for i := 1; i < 3; i++ {
		tr.evs[i].wait(t, "the line after the crossing", func([]Event) bool {
			l := tr.evs[i].linesLocked()
			return len(l) > 0 && l[len(l)-1] == "ann: after the crossing"
		})
	}
}

func (r *recorder) linesLocked() []string {
	var out []string
	for _, e := range r.events {
		if e.Kind == Line {
			out = append(out, e.Member.Name+": "+e.Text)
		}
	}
	return out
}

// TestRoomLeave: a guest that leaves is announced to the others, who go
// on; the host closing ends the room for everyone with its reason.
func TestRoomLeave(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := openRoom(t, ctx, "ann", "bob", "cat")
	tr.meshed(t)
	tr.guests[2].Leave()
	for i := range 2 {
		tr.evs[i].wait(t, "cat's leaving announced", func(es []Event) bool {
			for _, e := range es {
				if e.Kind == Left && e.Member.Name == "cat" {
					return true
				}
			}
			return false
		})
	}
	tr.guests[0].Say("two of us")
	tr.evs[1].wait(t, "bob hears ann", func([]Event) bool {
		l := tr.evs[1].linesLocked()
		return len(l) > 0 && l[len(l)-1] == "ann: two of us"
	})
	tr.host.Close("the host left")
	for i := range 2 {
		tr.evs[i].wait(t, "the room's end", func(es []Event) bool {
			for _, e := range es {
				if e.Kind == Ended && e.Text == "the host left" && e.Err == nil {
					return true
				}
			}
			return false
		})
	}
	// A guest leaving, or the room ending, closes direct links: that is
	// a leave, not a link that failed.
	for i := range 2 {
		for _, e := range tr.evs[i].all() {
			if e.Kind == Relayed {
				t.Errorf("%s: %s said to go through the host (%s) as the room emptied", tr.guests[i].Me().Name, e.Member.Name, e.Text)
			}
		}
	}
}

// TestAnswerAppliedTwice: the mistake of a room built on one connection,
// shown with pion's own peers: a second answer applied to a connection
// already answered fails with "wrong state: stable"; pigeon's host gives
// each guest a connection of its own, and a second answer to one of them
// is refused with an explanation, leaving the first guest's session be.
func TestAnswerAppliedTwice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	offerer, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer offerer.Close()
	if _, err := offerer.CreateDataChannel("chat", nil); err != nil {
		t.Fatal(err)
	}
	o, _ := offerer.CreateOffer(nil)
	if err := offerer.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	var answers []webrtc.SessionDescription
	for range 2 {
		a, err := webrtc.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if err := a.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
			t.Fatal(err)
		}
		d, _ := a.CreateAnswer(nil)
		if err := a.SetLocalDescription(d); err != nil {
			t.Fatal(err)
		}
		answers = append(answers, *a.LocalDescription())
	}
	if err := offerer.SetRemoteDescription(answers[0]); err != nil {
		t.Fatal(err)
	}
	err = offerer.SetRemoteDescription(answers[1])
	if err == nil || !strings.Contains(err.Error(), "stable") {
		t.Fatalf("pion applied a second answer: %v", err)
	}
	t.Logf("pion: %v", err)

	host, err := peer.Offer(ctx, peer.Options{Loopback: true}, sdpcodec.AppRoom)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	var guests []*peer.Peer
	for range 2 {
		g, err := peer.Answer(ctx, peer.Options{Loopback: true}, carry(t, host.Local()))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		guests = append(guests, g)
	}
	if err := host.Accept(carry(t, guests[0].Local())); err != nil {
		t.Fatal(err)
	}
	err = host.Accept(carry(t, guests[1].Local()))
	if err != peer.ErrAlreadyAnswered {
		t.Fatalf("a second answer: %v, want ErrAlreadyAnswered", err)
	}
	t.Logf("pigeon: %v", err)
	if _, err := host.Connect(ctx); err != nil {
		t.Fatalf("the first guest's session: %v", err)
	}
}

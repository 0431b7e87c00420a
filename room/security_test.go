package room

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pigeon/peer"
)

// TestRoomNoOneSpeaksForAnother: a member with a pigeon of its own making
// (it holds the room's offer, so it is in) cannot pass for someone else.
// Asking for another member's name, or one with terminal escapes, gets a
// name of its own; messages only the host sends (a join, a leave, the
// end), sent by a guest, do nothing; a line claiming to come from the host
// or from bob is shown as the sender's.
func TestRoomNoOneSpeaksForAnother(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := openRoom(t, ctx, "bob")
	bob, bobEv := tr.guests[0], tr.evs[0]

	mallory, _, welcome := rawMember(t, ctx, tr, msg{T: tHello, Name: "\x1bBob\x07"})
	if welcome.T != tWelcome || welcome.Name != "Bob (2)" {
		t.Fatalf("welcome %+v: want the name Bob (2), no escape and not bob's", welcome)
	}
	bobEv.wait(t, "mallory's join", func(es []Event) bool {
		return slices.ContainsFunc(es, func(e Event) bool { return e.Kind == Joined && e.Member.ID == welcome.ID })
	})
	for _, m := range []msg{
		{T: tEnd, Why: "the host left the room"},
		{T: tLeft, ID: bob.Me().ID, Name: "bob"},
		{T: tJoined, ID: 6, Name: "ghost"},
		{T: tWelcome, ID: bob.Me().ID, Name: "host"},
		{T: tLine, From: HostID, To: []int{HostID, bob.Me().ID}, Starts: []int{HostID, bob.Me().ID}, Seq: 1, Text: "I am the host"},
		{T: tLine, From: bob.Me().ID, To: []int{HostID}, Seq: 2, Text: "and I am bob"},
	} {
		if err := mallory.send(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*recorder{bobEv, tr.hostEv} {
		r.wait(t, "mallory's lines", func([]Event) bool {
			return slices.Contains(r.linesLocked(), "Bob (2): I am the host")
		})
	}
	tr.hostEv.wait(t, "mallory's second line", func([]Event) bool {
		return slices.Contains(tr.hostEv.linesLocked(), "Bob (2): and I am bob")
	})
	tr.host.Say("still the host")
	bobEv.wait(t, "the host's line", func([]Event) bool {
		return slices.Contains(bobEv.linesLocked(), "host: still the host")
	})
	for _, e := range bobEv.all() {
		if e.Kind == Ended || e.Kind == Left || (e.Kind == Joined && e.Member.Name == "ghost") {
			t.Errorf("bob heard %+v from a guest", e)
		}
		if e.Kind == Line && !strings.HasPrefix(e.Text, "still") && e.Member.ID != welcome.ID {
			t.Errorf("bob heard %q as %s's", e.Text, e.Member.Name)
		}
	}
	if got := len(tr.host.Members()); got != 3 {
		t.Errorf("the room has %d members, want 3", got)
	}
}

// rawMember joins tr with a member of the test's own making, which says
// hello and returns its link, the messages that come after the welcome,
// and the welcome.
func rawMember(t *testing.T, ctx context.Context, tr *testRoom, hello msg) (*link, <-chan msg, msg) {
	t.Helper()
	p, err := peer.Answer(ctx, peer.Options{Loopback: true}, tr.offer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	conn, err := p.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := &link{conn: conn}
	ms := l.messages()
	if err := l.send(hello); err != nil {
		t.Fatal(err)
	}
	select {
	case w := <-ms:
		return l, ms, w
	case <-time.After(10 * time.Second):
		t.Fatal("no welcome")
	}
	return nil, nil, msg{}
}

// TestRoomPageMember: a member that says it is a page (as pigeon's page
// does) is reached through the host: the guests make it no offer, say so
// at once, and lines cross between it and them, once each, through the
// host, as they do to a guest that joins after it.
func TestRoomPageMember(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := openRoom(t, ctx, "bob")
	page, ms, welcome := rawMember(t, ctx, tr, msg{T: tHello, Name: "eve", Page: true})
	late := openRoomGuest(t, ctx, tr, "cat")
	for _, r := range []*recorder{tr.evs[0], tr.evs[late]} {
		e := r.waitKind(t, Relayed, "eve")
		if !strings.Contains(e.Text, "page") {
			t.Errorf("relayed because %q", e.Text)
		}
	}
	tr.evs[0].waitKind(t, Joined, "cat")
	if err := page.send(msg{T: tLine, Seq: 1, Text: "hi from the page", To: []int{HostID, 1, 3}, Starts: []int{HostID, 1, 3}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*recorder{tr.hostEv, tr.evs[0], tr.evs[late]} {
		r.wait(t, "the page's line", func([]Event) bool {
			return slices.Contains(r.linesLocked(), "eve: hi from the page")
		})
	}
	tr.guests[0].Say("hi eve")
	var heard []string
	deadline := time.After(10 * time.Second)
	for len(heard) == 0 {
		select {
		case m := <-ms:
			if m.T == tSignal {
				t.Fatalf("the page was made an offer: %+v", m)
			}
			if m.T == tLine {
				heard = append(heard, fmt.Sprintf("%d: %s", m.From, m.Text))
			}
		case <-deadline:
			t.Fatal("the page never heard bob")
		}
	}
	if heard[0] != "1: hi eve" || welcome.ID != 2 {
		t.Errorf("the page (member %d) heard %q", welcome.ID, heard)
	}
}

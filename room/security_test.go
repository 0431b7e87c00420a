package room

import (
	"context"
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

	p, err := peer.Answer(ctx, peer.Options{Loopback: true}, tr.offer)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn, err := p.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mallory := &link{conn: conn}
	ms := mallory.messages()
	if err := mallory.send(msg{T: tHello, Name: "\x1bBob\x07"}); err != nil {
		t.Fatal(err)
	}
	var welcome msg
	select {
	case welcome = <-ms:
	case <-time.After(10 * time.Second):
		t.Fatal("no welcome")
	}
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

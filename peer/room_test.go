package peer

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"pigeon/sdpcodec"
)

// TestRoomOffer: one open room offer admits several joiners, each with a
// connection of its own to the host (its own code, its own messages) on
// the room's one certificate and sockets; the one past the room's size is
// told the room is full.
func TestRoomOffer(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	refused := make(chan JoinRefusal, 4)
	room, err := OfferRoom(ctx, Options{Loopback: true, OnJoinRefused: func(r JoinRefusal) { refused <- r }}, 3)
	if err != nil {
		t.Fatal(err)
	}
	offer := carry(t, room.Local())
	if offer.App != sdpcodec.AppRoom || offer.Open == nil {
		t.Fatalf("the room's offer: %+v", offer)
	}
	var hosts, joiners []*Conn
	var peers []*Peer
	for i := range 3 {
		j := join(t, ctx, offer, Options{})
		var h *Peer
		select {
		case h = <-room.Guests():
		case <-time.After(5 * time.Second):
			t.Fatalf("joiner %d was not admitted", i)
		}
		t.Cleanup(func() { h.Close() })
		a, b := connectPair(t, ctx, h, j)
		if h.Remote().Fingerprint != j.Local().Fingerprint || h.Local().Fingerprint != offer.Fingerprint {
			t.Errorf("joiner %d: the host's connection is not between the offer and the joiner", i)
		}
		if h.VerificationCode() != j.VerificationCode() {
			t.Errorf("joiner %d: codes differ", i)
		}
		hosts, joiners, peers = append(hosts, a), append(joiners, b), append(peers, h)
	}
	for i := range 3 {
		exchange(t, hosts[i], joiners[i], fmt.Sprintf("to joiner %d", i))
		exchange(t, joiners[i], hosts[i], fmt.Sprintf("from joiner %d", i))
	}
	if peers[0].VerificationCode() == peers[1].VerificationCode() {
		t.Error("two joiners show the same code")
	}
	fourth := join(t, ctx, offer, Options{})
	select {
	case <-fourth.Done():
		if !errors.Is(fourth.Err(), ErrRoomFull) {
			t.Errorf("the fourth joiner: %v, want ErrRoomFull", fourth.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the fourth joiner was not turned away")
	}
	select {
	case r := <-refused:
		if !r.Full {
			t.Errorf("refusal %+v, want full", r)
		}
	case <-time.After(time.Second):
		t.Error("the host did not hear of the refused joiner")
	}
	// A member leaves: its place is free again.
	peers[2].Close()
	room.Admit(1)
	again := join(t, ctx, offer, Options{})
	select {
	case h := <-room.Guests():
		t.Cleanup(func() { h.Close() })
		connectPair(t, ctx, h, again)
	case <-time.After(5 * time.Second):
		t.Fatal("a joiner was not admitted to the freed place")
	}
	exchange(t, joiners[0], hosts[0], "still here")
}

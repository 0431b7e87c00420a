package peer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"

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

// TestRoomWithoutTheOffer: no one gets into an open room without having
// read its offer: a joiner of a forged offer (another secret, the
// checksum made right), and checks that do not prove the secret for the
// joiner they name (a one-joiner open offer's credentials, the room's
// credentials of one joiner claimed for another, a wrong password). The
// host admits none of them and turns none away (they are not told a room
// is there); the genuine joiner then gets in, alone.
func TestRoomWithoutTheOffer(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	refused := make(chan JoinRefusal, 8)
	room, err := OfferRoom(ctx, Options{Loopback: true, OnJoinRefused: func(r JoinRefusal) { refused <- r }}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close()
	offer := carry(t, room.Local())

	forged := carry(t, offer)
	forged.Open.Secret[7] ^= 0x04
	mallory := join(t, ctx, carry(t, forged), Options{AnswerWait: 3 * time.Second})

	c := offer.Candidates[0]
	to := &net.UDPAddr{IP: c.Addr.AsSlice(), Port: int(c.Port)}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	alice, eve := [32]byte{1}, [32]byte{2}
	eveUfrag := base64.RawStdEncoding.EncodeToString(eve[:])
	openUfrag, openPwd := sdpcodec.OpenCredentials(offer.Fingerprint, offer.Open.Secret)
	aliceUfrag, alicePwd := sdpcodec.RoomCredentials(offer.Fingerprint, offer.Open.Secret, alice)
	eveRoomUfrag, _ := sdpcodec.RoomCredentials(offer.Fingerprint, offer.Open.Secret, eve)
	for _, check := range []struct{ username, pwd string }{
		{openUfrag + ":" + eveUfrag, openPwd},     // a one-joiner open offer's
		{aliceUfrag + ":" + eveUfrag, alicePwd},   // alice's credentials, for eve
		{eveRoomUfrag + ":" + eveUfrag, alicePwd}, // eve's fragment, alice's password
	} {
		m, err := stun.Build(stun.TransactionID, stun.BindingRequest,
			stun.NewUsername(check.username), stun.NewShortTermIntegrity(check.pwd), stun.Fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := conn.WriteToUDP(m.Raw, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case h := <-room.Guests():
		h.Close()
		t.Fatalf("the room admitted %x without its offer", h.Remote().Fingerprint[:4])
	case r := <-refused:
		t.Fatalf("the room turned away %+v: it told someone without the offer that it is there", r)
	case <-mallory.Opened():
		t.Fatal("the forged offer's joiner connected")
	case <-time.After(4 * time.Second):
	}

	joiner := join(t, ctx, offer, Options{})
	select {
	case h := <-room.Guests():
		defer h.Close()
		connectPair(t, ctx, h, joiner)
		if h.Remote().Fingerprint != joiner.Local().Fingerprint {
			t.Error("the room admitted someone other than the joiner")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the genuine joiner was not admitted")
	}
	select {
	case h := <-room.Guests():
		h.Close()
		t.Error("the room admitted a second peer")
	case <-time.After(200 * time.Millisecond):
	}
}

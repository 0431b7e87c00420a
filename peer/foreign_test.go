package peer

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/sdpcodec"
)

// foreignPeer is another WebRTC program: a pion peer with pion's defaults
// (its own random ICE credentials) and a pre-negotiated channel 0.
func foreignPeer(t *testing.T) (*webrtc.PeerConnection, chan string) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return isLoopbackInterface(name) })
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	negotiated, id := true, uint16(0)
	dc, err := pc.CreateDataChannel("page", &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	dc.OnOpen(func() { _ = dc.SendText("hello from the other program") })
	dc.OnMessage(func(m webrtc.DataChannelMessage) { got <- string(m.Data) })
	return pc, got
}

// localJSON is what a browser page shows: JSON.stringify(pc.localDescription)
// once gathering completed.
func localJSON(t *testing.T, pc *webrtc.PeerConnection, desc webrtc.SessionDescription) string {
	t.Helper()
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		t.Fatal(err)
	}
	<-gathered
	js, err := json.Marshal(pc.LocalDescription())
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

func readForeign(t *testing.T, text string) *sdpcodec.Foreign {
	t.Helper()
	f, err := sdpcodec.ParseForeign(text)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func talk(t *testing.T, ctx context.Context, p *Peer, got chan string) {
	t.Helper()
	conn, err := p.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	buf := make([]byte, MaxMessage)
	n, err := conn.ReadMessage(buf)
	if err != nil || string(buf[:n]) != "hello from the other program" {
		t.Fatalf("ReadMessage = %q, %v", buf[:n], err)
	}
	if err := conn.WriteMessage([]byte("hello from pigeon")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "hello from pigeon" {
			t.Fatalf("the other program got %q", m)
		}
	case <-ctx.Done():
		t.Fatal("the other program got nothing")
	}
}

// TestForeignAnswersOurOffer: pigeon's offer, as the base64 JSON of its
// rebuilt SDP, is answered by another program whose JSON answer pigeon
// reads.
func TestForeignAnswersOurOffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := Offer(ctx, Options{Loopback: true}, sdpcodec.AppChat)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	other, got := foreignPeer(t)
	offer := readForeign(t, sdpcodec.Base64JSON(sdpcodec.Offer, p.Local().SDP()))
	if err := other.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	desc, err := other.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	answer := readForeign(t, localJSON(t, other, desc))
	if err := p.AcceptForeign(answer); err != nil {
		t.Fatal(err)
	}
	if err := p.AcceptForeign(answer); err != ErrAnswerApplied {
		t.Errorf("the same answer again: %v, want %v", err, ErrAnswerApplied)
	}
	talk(t, ctx, p, got)
	if p.VerificationCode() == "" {
		t.Error("no verification code")
	}
}

// TestWeAnswerAForeignOffer: another program's JSON offer is answered by
// pigeon, whose rebuilt answer SDP the program accepts.
func TestWeAnswerAForeignOffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	other, got := foreignPeer(t)
	desc, err := other.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := AnswerForeign(ctx, Options{Loopback: true}, readForeign(t, localJSON(t, other, desc)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	answer := readForeign(t, sdpcodec.Base64JSON(sdpcodec.Answer, p.Local().SDP()))
	if err := other.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		t.Fatal(err)
	}
	talk(t, ctx, p, got)
}

package peer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/sdpcodec"
)

// foreignPeer is another WebRTC program: a pion peer with pion's defaults
// (its own random ICE credentials) and a pre-negotiated channel 0.
func foreignPeer(t *testing.T) (*webrtc.PeerConnection, chan string) {
	t.Helper()
	pc := loopbackPC(t)
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

// loopbackPC is a pion peer with pion's defaults (its own random ICE
// credentials) on loopback, closed when the test ends.
func loopbackPC(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return isLoopbackInterface(name) })
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
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
	if conn != p.main || conn.Plain() {
		t.Fatal("the page speaks on channel 0, but the app runs over another channel")
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
	p, err := Offer(ctx, Options{Loopback: true, Announce: "chat"}, sdpcodec.AppChat)
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

// tutorialPeer is the page every WebRTC tutorial writes, as a pion peer:
// pion's defaults, and an announced channel "chat" when it offers
// (withChannel), or ondatachannel when it answers. It sends "hello from
// the page" as a string once its channel opens, and reports the strings
// it receives and when its channel closes.
type tutorialPeer struct {
	pc       *webrtc.PeerConnection
	label    chan string // the label of the channel it uses, once open
	got      chan string
	closed   chan struct{}
	closeOne sync.Once
}

func newTutorialPeer(t *testing.T, withChannel bool) *tutorialPeer {
	t.Helper()
	pc := loopbackPC(t)
	tp := &tutorialPeer{pc: pc, label: make(chan string, 4), got: make(chan string, 16), closed: make(chan struct{})}
	use := func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() {
			tp.label <- dc.Label()
			_ = dc.SendText("hello from the page")
		})
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			if m.IsString {
				tp.got <- string(m.Data)
			} else {
				tp.got <- fmt.Sprintf("(binary %d bytes)", len(m.Data))
			}
		})
		dc.OnClose(func() { tp.closeOne.Do(func() { close(tp.closed) }) })
	}
	if withChannel {
		dc, err := pc.CreateDataChannel("chat", nil)
		if err != nil {
			t.Fatal(err)
		}
		use(dc)
	}
	pc.OnDataChannel(use)
	return tp
}

// plainTalk checks that the app's channel with a tutorial page is the
// page's own, labelled label, and that a string crosses each way.
func plainTalk(t *testing.T, ctx context.Context, p *Peer, tp *tutorialPeer, label string) *Conn {
	t.Helper()
	conn, err := p.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if !conn.Plain() || !p.Foreign() {
		t.Fatalf("the app's channel is pigeon's: plain %v, foreign %v", conn.Plain(), p.Foreign())
	}
	select {
	case l := <-tp.label:
		if l != label {
			t.Fatalf("the page's channel is labelled %q, want %q", l, label)
		}
	case <-ctx.Done():
		t.Fatal("the page's channel did not open")
	}
	buf := make([]byte, MaxMessage)
	n, text, err := conn.ReadMessageType(buf)
	if err != nil || !text || string(buf[:n]) != "hello from the page" {
		t.Fatalf("ReadMessageType = %q, %v, %v", buf[:n], text, err)
	}
	if err := conn.WriteText([]byte("hello from pigeon")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-tp.got:
		if m != "hello from pigeon" {
			t.Fatalf("the page got %q", m)
		}
	case <-ctx.Done():
		t.Fatal("the page got nothing")
	}
	select {
	case l := <-tp.label:
		t.Fatalf("the page saw a second channel, %q", l)
	default:
	}
	return conn
}

// TestTutorialAnswersOurOffer: a page that waits in ondatachannel answers
// an offer made for other programs; the channel the offer announced,
// labelled after the app, carries strings both ways, and closing it
// reaches the page.
func TestTutorialAnswersOurOffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := Offer(ctx, Options{Loopback: true, Announce: "chat"}, sdpcodec.AppChat)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tp := newTutorialPeer(t, false)
	offer := readForeign(t, sdpcodec.Base64JSON(sdpcodec.Offer, p.Local().SDP()))
	if err := tp.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	desc, err := tp.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AcceptForeign(readForeign(t, localJSON(t, tp.pc, desc))); err != nil {
		t.Fatal(err)
	}
	conn := plainTalk(t, ctx, p, tp, "chat")
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tp.closed:
	case <-ctx.Done():
		t.Fatal("the page did not see its channel close")
	}
}

// TestWeAnswerTutorialOffer: a page that announces its channel offers; the
// app runs over that channel, whatever its label, and the page closing it
// ends the app's reading.
func TestWeAnswerTutorialOffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := newTutorialPeer(t, true)
	desc, err := tp.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := AnswerForeign(ctx, Options{Loopback: true}, readForeign(t, localJSON(t, tp.pc, desc)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	answer := readForeign(t, sdpcodec.Base64JSON(sdpcodec.Answer, p.Local().SDP()))
	if err := tp.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		t.Fatal(err)
	}
	conn := plainTalk(t, ctx, p, tp, "chat")
	_ = tp.pc.Close()
	buf := make([]byte, MaxMessage)
	if _, _, err := conn.ReadMessageType(buf); err != io.EOF {
		t.Fatalf("after the page closed: %v, want EOF", err)
	}
}

// TestWeAnswerOfferWithoutChannel: an offer that announces no channel (its
// page only has one agreed on for something else) gets one announced by
// pigeon, which the page's ondatachannel takes.
func TestWeAnswerOfferWithoutChannel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tp := newTutorialPeer(t, false)
	negotiated, id := true, uint16(7)
	if _, err := tp.pc.CreateDataChannel("agreed", &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id}); err != nil {
		t.Fatal(err)
	}
	desc, err := tp.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := AnswerForeign(ctx, Options{Loopback: true, Announce: "talk"}, readForeign(t, localJSON(t, tp.pc, desc)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	answer := readForeign(t, sdpcodec.Base64JSON(sdpcodec.Answer, p.Local().SDP()))
	if err := tp.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		t.Fatal(err)
	}
	plainTalk(t, ctx, p, tp, "talk")
}

// TestPigeonReadsPigeonJSON: an offer made for other programs, read by a
// pigeon from its base64 JSON, gives a pigeon session: channel 0 on both
// sides, the announced channel closed and never offered to the app.
func TestPigeonReadsPigeonJSON(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o, err := Offer(ctx, Options{Loopback: true, Announce: "chat"}, sdpcodec.AppShare)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	offer, ok := readForeign(t, sdpcodec.Base64JSON(sdpcodec.Offer, o.Local().SDP())).Pigeon()
	if !ok || offer.App != sdpcodec.AppShare {
		t.Fatalf("the JSON offer reads as %+v, %v", offer, ok)
	}
	a, err := Answer(ctx, Options{Loopback: true}, offer)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	answer, ok := readForeign(t, sdpcodec.Base64JSON(sdpcodec.Answer, a.Local().SDP())).Pigeon()
	if !ok {
		t.Fatal("the JSON answer does not read as a pigeon's")
	}
	if err := o.Accept(answer); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Peer{o, a} {
		conn, err := p.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Foreign() || conn != p.main {
			t.Fatalf("%s: foreign %v, channel 0 %v", p.kind, p.Foreign(), conn == p.main)
		}
	}
	for _, p := range []*Peer{o, a} {
		actx, acancel := context.WithTimeout(ctx, 500*time.Millisecond)
		c, err := p.AcceptChannel(actx)
		acancel()
		if err == nil {
			t.Fatalf("%s: the app was offered a channel labelled %v", p.kind, c)
		}
	}
}

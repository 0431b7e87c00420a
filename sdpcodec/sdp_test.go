package sdpcodec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

func TestSDPTemplate(t *testing.T) {
	b := oneHostOffer()
	b.Candidates = append(b.Candidates,
		Candidate{Type: Srflx, Addr: netip.MustParseAddr("2001:db8::1"), Port: 5000},
		Candidate{Type: Host, Transport: TCPPassive, Hostname: "0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local", Port: 9})
	want := strings.Join([]string{
		"v=0",
		"o=- 283686952306183 2 IN IP4 127.0.0.1",
		"s=pigeon chat",
		"t=0 0",
		"a=group:BUNDLE 0",
		"a=msid-semantic:WMS *",
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
		"c=IN IP4 0.0.0.0",
		"a=ice-ufrag:44dc3096",
		"a=ice-pwd:91a77d85aee6d447b9eef23442bc88ef",
		"a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F",
		"a=setup:actpass",
		"a=mid:0",
		"a=sctp-port:5000",
		"a=max-message-size:262144",
		// 126<<24 | 65535<<8 | 255, 100<<24 | 65534<<8 | 255, 126<<24 | 32765<<8 | 255
		"a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host",
		"a=candidate:2 1 udp 1694498559 2001:db8::1 5000 typ srflx raddr 0.0.0.0 rport 0",
		"a=candidate:3 1 tcp 2122317311 0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local 9 typ host tcptype passive",
		"a=end-of-candidates",
		"",
	}, "\r\n")
	if got := b.SDP(); got != want {
		t.Errorf("SDP() =\n%s\nwant\n%s", got, want)
	}
	b.Kind, b.App, b.Binding = Answer, 0, 1
	if !strings.Contains(b.SDP(), "\r\na=setup:active\r\n") {
		t.Error("answer SDP is not setup:active")
	}

	// FromSDP inverts SDP.
	for _, kind := range []Kind{Offer, Answer} {
		b.Kind = kind
		got, err := FromSDP(kind, b.SDP())
		if err != nil {
			t.Fatalf("FromSDP(%s): %v", kind, err)
		}
		got.App, got.Binding = b.App, b.Binding
		if !reflect.DeepEqual(got, b) {
			t.Errorf("FromSDP(SDP()) = %+v, want %+v", got, b)
		}
	}
}

func TestFromSDPRejects(t *testing.T) {
	offer := oneHostOffer().SDP()
	pionCreds := strings.NewReplacer("a=ice-ufrag:44dc3096", "a=ice-ufrag:ZxYwVuTsRqPoNmLk", "a=ice-pwd:91a77d85aee6d447b9eef23442bc88ef", "a=ice-pwd:abcdefghijklmnopqrstuvwxyzABCDEF")
	for _, tc := range []struct {
		name, sdp, message string
		kind               Kind
	}{
		{"not sdp", "hello", "parse", Offer},
		{"random credentials", pionCreds.Replace(offer), "ICE credentials", Offer},
		{"offer as answer", offer, "a=setup:active", Answer},
		{"passive", strings.Replace(offer, "actpass", "passive", 1), "a=setup:actpass", Offer},
		{"sha-1", strings.Replace(offer, "sha-256", "sha-1", 1), "only sha-1", Offer},
		{"no fingerprint", strings.Replace(offer, "a=fingerprint:", "a=x-fingerprint:", 1), "no fingerprint", Offer},
		{"bad fingerprint", strings.Replace(offer, "00:01:02", "00:01", 1), "not 32 hex bytes", Offer},
		{"two media", offer + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "exactly one media section", Offer},
		{"no media", strings.Split(offer, "m=")[0], "exactly one media section", Offer},
		{"mDNS not uuid", strings.Replace(offer, "192.0.2.1 5000", "myhost.local 5000", 1), "is not \"<uuid>.local\"", Offer},
		{"tcp without tcptype", strings.Replace(offer, "1 1 udp", "1 1 tcp", 1), "tcptype", Offer},
		{"kind 3", offer, "neither offer nor answer", Kind(3)},
	} {
		_, err := FromSDP(tc.kind, tc.sdp)
		if !errors.Is(err, ErrUnsupportedSDP) || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: FromSDP = %v, want ErrUnsupportedSDP containing %q", tc.name, err, tc.message)
		}
	}
}

func TestFromSDPCandidates(t *testing.T) {
	lines := []string{
		"a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host",
		"a=candidate:1 2 udp 2130706430 192.0.2.1 5001 typ host",        // component 2: skipped
		"a=candidate:9 1 udp 2130706000 192.0.2.1 5000 typ host",        // duplicate: skipped
		"a=candidate:2 1 UDP 2130706000 ::ffff:192.0.2.2 5002 typ host", // unmapped
		"a=candidate:3 1 udp 2130706000 0B6B5C4E-8F0A-4A5E-9A38-3F6E0D1C2B7A.local 5003 typ host",
		"a=candidate:4 1 tcp 1 198.51.100.1 9 typ relay raddr 1.2.3.4 rport 5 tcptype active",
		"a=candidate:5 1 tcp 1 198.51.100.1 9 typ prflx raddr 1.2.3.4 rport 5 tcptype so",
	}
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("a=candidate:%d 1 udp 1 10.0.0.%d %d typ srflx raddr 0.0.0.0 rport 0", 10+i, i, 6000+i))
	}
	sdp := strings.Replace(oneHostOffer().SDP(), "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host\r\n", strings.Join(lines, "\r\n")+"\r\n", 1)
	b, err := FromSDP(Offer, sdp)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Candidates) != MaxCandidates {
		t.Fatalf("%d candidates, want %d", len(b.Candidates), MaxCandidates)
	}
	var got []string
	for _, c := range b.Candidates[:6] {
		got = append(got, c.String())
	}
	want := []string{
		"host udp 192.0.2.1:5000",
		"host udp 192.0.2.2:5002",
		"host udp 0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local:5003",
		"relay tcp-active 198.51.100.1:9",
		"prflx tcp-so 198.51.100.1:9",
		"srflx udp 10.0.0.0:6000",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("candidates = %q, want %q", got, want)
	}
	b.App = AppPipe
	if _, err := b.Encode(); err != nil {
		t.Errorf("Encode: %v", err)
	}
}

// newTestPeer returns a pion peer on loopback with a fresh certificate, the ICE
// credentials derived from its fingerprint and a negotiated data channel.
func newTestPeer(t *testing.T, answerer bool) (*webrtc.PeerConnection, *webrtc.DataChannel) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	fps, err := cert.GetFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	var fp [32]byte
	raw, err := hex.DecodeString(strings.ReplaceAll(fps[0].Value, ":", ""))
	if err != nil || fps[0].Algorithm != "sha-256" || len(raw) != 32 {
		t.Fatalf("fingerprint %+v: %v", fps[0], err)
	}
	copy(fp[:], raw)

	var se webrtc.SettingEngine
	se.SetICECredentials(Credentials(fp))
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if answerer {
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
			t.Fatal(err)
		}
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{*cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	negotiated, id := true, uint16(0)
	dc, err := pc.CreateDataChannel("pigeon", &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id})
	if err != nil {
		t.Fatal(err)
	}
	return pc, dc
}

// carry takes pc's gathered local description through a blob, as a human
// would carry it, and returns the blob and the rebuilt description.
func carry(t *testing.T, pc *webrtc.PeerConnection, kind Kind, setFields func(*Blob)) (*Blob, webrtc.SessionDescription) {
	t.Helper()
	select {
	case <-webrtc.GatheringCompletePromise(pc):
	case <-time.After(10 * time.Second):
		t.Fatal("ICE gathering did not complete")
	}
	local := pc.LocalDescription().SDP
	b, err := FromSDP(kind, local)
	if err != nil {
		t.Fatalf("FromSDP(%s) of pion's description: %v\n%s", kind, err, local)
	}
	if len(b.Candidates) == 0 {
		t.Fatalf("pion gathered no candidate on loopback:\n%s", local)
	}
	setFields(b)
	text, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pasted := "  " + strings.ToLower(text[:30]) + "\n" + text[30:] + "\n"
	got, err := Parse(pasted)
	if err != nil {
		t.Fatalf("Parse(%q): %v", pasted, err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("blob changed on the way: %+v, want %+v", got, b)
	}
	t.Logf("%s: %d characters, candidates %v", kind, len(text), b.Candidates)
	typ := webrtc.SDPTypeOffer
	if kind == Answer {
		typ = webrtc.SDPTypeAnswer
	}
	return got, webrtc.SessionDescription{Type: typ, SDP: got.SDP()}
}

func TestPionPeersConnectWithRebuiltSDP(t *testing.T) {
	offerer, offerDC := newTestPeer(t, false)
	answerer, answerDC := newTestPeer(t, true)

	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	offerBlob, rebuiltOffer := carry(t, offerer, Offer, func(b *Blob) { b.App = AppChat })
	if err := answerer.SetRemoteDescription(rebuiltOffer); err != nil {
		t.Fatalf("answerer rejected the rebuilt offer: %v\n%s", err, rebuiltOffer.SDP)
	}

	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	answerBlob, rebuiltAnswer := carry(t, answerer, Answer, func(b *Blob) { b.Binding = BindingOf(offerBlob) })
	if !answerBlob.Answers(offerBlob) {
		t.Fatal("answer blob does not answer the offer blob")
	}
	if err := offerer.SetRemoteDescription(rebuiltAnswer); err != nil {
		t.Fatalf("offerer rejected the rebuilt answer: %v\n%s", err, rebuiltAnswer.SDP)
	}

	got := make(chan string, 2)
	for _, dc := range []*webrtc.DataChannel{offerDC, answerDC} {
		dc.OnMessage(func(msg webrtc.DataChannelMessage) { got <- string(msg.Data) })
	}
	for _, side := range []struct {
		name string
		dc   *webrtc.DataChannel
	}{{"offerer", offerDC}, {"answerer", answerDC}} {
		open := make(chan struct{})
		var once sync.Once
		side.dc.OnOpen(func() { once.Do(func() { close(open) }) })
		if side.dc.ReadyState() == webrtc.DataChannelStateOpen {
			once.Do(func() { close(open) })
		}
		select {
		case <-open:
		case <-time.After(15 * time.Second):
			t.Fatalf("%s's data channel did not open", side.name)
		}
		if err := side.dc.SendText("hello from the " + side.name); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{"hello from the offerer": true, "hello from the answerer": true}
	for range 2 {
		select {
		case m := <-got:
			if !want[m] {
				t.Errorf("unexpected message %q", m)
			}
			delete(want, m)
		case <-time.After(10 * time.Second):
			t.Fatalf("messages %v did not arrive", want)
		}
	}
}

// A page's blob carries its own ICE credentials: the rebuilt description
// has them, and a blob cannot carry what is not an ICE ufrag or password.
func TestSDPCarriedCredentials(t *testing.T) {
	b := oneHostOffer()
	b.Ufrag, b.Pwd = "fN3x", "q8W2yJ0kZ+f/LpTe5s9XuA1b"
	sdp := b.SDP()
	if !strings.Contains(sdp, "a=ice-ufrag:fN3x\r\n") || !strings.Contains(sdp, "a=ice-pwd:q8W2yJ0kZ+f/LpTe5s9XuA1b\r\n") {
		t.Errorf("SDP of a blob with carried credentials:\n%s", sdp)
	}
	text, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(text)
	if err != nil || got.Ufrag != b.Ufrag || got.Pwd != b.Pwd {
		t.Errorf("Decode(Encode()) = %+v, %v", got, err)
	}
	v1, _ := oneHostOffer().Encode()
	if len(text)-len(v1) != 37 {
		t.Errorf("Chromium's credentials cost %d characters, want 37 (SPEC.md)", len(text)-len(v1))
	}
	for _, tc := range []struct{ ufrag, pwd, message string }{
		{"abc", "q8W2yJ0kZ+f/LpTe5s9XuA1b", "ICE ufrag \"abc\" has 3 characters"},
		{"fN3x", "short", "ICE password \"short\" has 5 characters"},
		{"fN-x", "q8W2yJ0kZ+f/LpTe5s9XuA1b", "holds '-'"},
	} {
		b.Ufrag, b.Pwd = tc.ufrag, tc.pwd
		if _, err := b.Encode(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("Encode with %q/%q = %v, want ErrInvalid containing %q", tc.ufrag, tc.pwd, err, tc.message)
		}
	}
	r := &Blob{Kind: Reconnect, Generation: 1, Ufrag: "fN3x", Pwd: "q8W2yJ0kZ+f/LpTe5s9XuA1b"}
	if _, err := r.Encode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Encode of a reconnect blob with credentials = %v, want ErrInvalid", err)
	}
}

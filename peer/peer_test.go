package peer

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"pigeon/sdpcodec"
)

// carry encodes a blob to text and parses it back, as a person carrying it
// between two terminals would.
func carry(t testing.TB, b *sdpcodec.Blob) *sdpcodec.Blob {
	t.Helper()
	text, err := b.Encode()
	if err != nil {
		t.Fatalf("encoding the %s: %v", b.Kind, err)
	}
	out, err := sdpcodec.Parse(text)
	if err != nil {
		t.Fatalf("parsing the %s: %v", b.Kind, err)
	}
	return out
}

// newPair makes an offerer and an answerer on loopback; the offer has
// already been carried to the answerer.
func newPair(t testing.TB, ctx context.Context, offerOpts, answerOpts Options) (offerer, answerer *Peer) {
	t.Helper()
	offerOpts.Loopback, answerOpts.Loopback = true, true
	offerer, err := Offer(ctx, offerOpts, sdpcodec.AppChat)
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	t.Cleanup(func() { offerer.Close() })
	answerer, err = Answer(ctx, answerOpts, carry(t, offerer.Local()))
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	t.Cleanup(func() { answerer.Close() })
	return offerer, answerer
}

func connectPair(t testing.TB, ctx context.Context, offerer, answerer *Peer) (a, b *Conn) {
	t.Helper()
	a, err := offerer.Connect(ctx)
	if err != nil {
		t.Fatalf("offerer Connect: %v", err)
	}
	b, err = answerer.Connect(ctx)
	if err != nil {
		t.Fatalf("answerer Connect: %v", err)
	}
	return a, b
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func exchange(t *testing.T, from, to *Conn, msg string) {
	t.Helper()
	if err := from.WriteMessage([]byte(msg)); err != nil {
		t.Fatalf("WriteMessage: %v", err)
	}
	buf := make([]byte, MaxMessage)
	n, err := to.ReadMessage(buf)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if got := string(buf[:n]); got != msg {
		t.Fatalf("received %q, want %q", got, msg)
	}
}

func TestConnectThroughBlobs(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, answerer := newPair(t, ctx, Options{}, Options{})
	if got := offerer.Local(); got.Kind != sdpcodec.Offer || got.App != sdpcodec.AppChat || len(got.Candidates) == 0 {
		t.Fatalf("offer = %+v, want a chat offer with candidates", got)
	}
	for _, c := range offerer.Local().Candidates {
		if !c.Addr.IsLoopback() || c.Type != sdpcodec.Host {
			t.Errorf("offer candidate %s: want loopback host candidates only", c)
		}
	}
	if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	a, b := connectPair(t, ctx, offerer, answerer)
	exchange(t, a, b, "hello from the offerer")
	exchange(t, b, a, "hello from the answerer")

	for name, p := range map[string]*Peer{"offerer": offerer, "answerer": answerer} {
		path, err := p.Path()
		if err != nil {
			t.Fatalf("%s Path: %v", name, err)
		}
		if path.Local.Type != "host" || path.Remote.Type != "host" || path.Local.Protocol != "udp" {
			t.Errorf("%s path = %s, want host to host over udp", name, path)
		}
		if ip, err := netip.ParseAddr(path.Remote.Address); err != nil || !ip.IsLoopback() {
			t.Errorf("%s remote address %q, want loopback", name, path.Remote.Address)
		}
		if path.Setup <= 0 {
			t.Errorf("%s setup time %v, want > 0", name, path.Setup)
		}
	}
}

// TestWrongAnswersKeepTheSession: every wrong blob a person may paste is
// refused with its own error, and the waiting offer still connects with the
// right answer afterwards.
func TestWrongAnswersKeepTheSession(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, answerer := newPair(t, ctx, Options{}, Options{})
	other, err := Offer(ctx, Options{Loopback: true}, sdpcodec.AppChat)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	foreign, err := Answer(ctx, Options{Loopback: true}, carry(t, other.Local()))
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()

	wrong := []struct {
		name string
		blob *sdpcodec.Blob
		want error
	}{
		{"another offer", carry(t, other.Local()), ErrNotAnswer},
		{"our own offer", carry(t, offerer.Local()), ErrOwnOffer},
		{"an answer to another offer", carry(t, foreign.Local()), ErrOtherOffer},
	}
	for _, w := range wrong {
		if err := offerer.Accept(w.blob); !errors.Is(err, w.want) {
			t.Errorf("Accept(%s) = %v, want %v", w.name, err, w.want)
		}
	}
	if _, err := Answer(ctx, Options{Loopback: true}, carry(t, answerer.Local())); !errors.Is(err, ErrNotOffer) {
		t.Errorf("Answer(an answer) = %v, want %v", err, ErrNotOffer)
	}

	answer := carry(t, answerer.Local())
	if err := offerer.Accept(answer); err != nil {
		t.Fatalf("Accept(the right answer) after wrong ones: %v", err)
	}
	if err := offerer.Accept(answer); !errors.Is(err, ErrAnswerApplied) {
		t.Errorf("Accept(the same answer again) = %v, want %v", err, ErrAnswerApplied)
	}
	second, err := Answer(ctx, Options{Loopback: true}, carry(t, offerer.Local()))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := offerer.Accept(carry(t, second.Local())); !errors.Is(err, ErrAlreadyAnswered) {
		t.Errorf("Accept(a second peer's answer) = %v, want %v", err, ErrAlreadyAnswered)
	}
	a, b := connectPair(t, ctx, offerer, answerer)
	exchange(t, a, b, "still here")
}

// TestSlowHuman: the answer comes back later than pion's default ICE
// timeouts allow (5 s disconnected + 25 s failed: the answerer gives up ~30 s
// after it made the answer). Time is scaled down tenfold: pion's defaults
// become 0.5 s + 2.5 s, ours 0.8 s lost timeout and 90 s answer wait, and the
// human takes 4 s (40 s real). With pion's defaults the connection fails;
// with ours it forms.
func TestSlowHuman(t *testing.T) {
	const scale = 10
	delay := 40 * time.Second / scale
	cases := []struct {
		name     string
		answerer Options
		connects bool
	}{
		{"pion defaults", Options{LostTimeout: 2 * 5 * time.Second / scale, AnswerWait: 25 * time.Second / scale}, false},
		{"pigeon defaults", Options{LostTimeout: DefaultLostTimeout / scale, AnswerWait: DefaultAnswerWait / scale}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t, 30*time.Second)
			offerer, answerer := newPair(t, ctx, Options{ConnectTimeout: 5 * time.Second}, c.answerer)
			time.Sleep(delay)
			err := offerer.Accept(carry(t, answerer.Local()))
			if err == nil {
				_, err = answerer.Connect(ctx)
			}
			if c.connects && err != nil {
				t.Fatalf("answer carried back after %v: %v, want a connection", delay, err)
			}
			if !c.connects {
				var ce *ConnectError
				if !errors.As(err, &ce) || ce.Offerer {
					t.Fatalf("answer carried back after %v with pion's timeouts: err = %v, want the answerer's ConnectError", delay, err)
				}
				return
			}
			a, b := connectPair(t, ctx, offerer, answerer)
			exchange(t, a, b, "made it")
		})
	}
}

// TestSlowHumanRealTime carries the answer back after 40 real seconds with
// the default options.
func TestSlowHumanRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 40 s; skipped with -short")
	}
	t.Parallel()
	ctx := testContext(t, 90*time.Second)
	offerer, answerer := newPair(t, ctx, Options{}, Options{})
	time.Sleep(40 * time.Second)
	if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
		t.Fatal(err)
	}
	a, b := connectPair(t, ctx, offerer, answerer)
	exchange(t, b, a, "40 seconds later")
}

func TestConnectTimeout(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, err := Offer(ctx, Options{Loopback: true, ConnectTimeout: time.Second}, sdpcodec.AppChat)
	if err != nil {
		t.Fatal(err)
	}
	defer offerer.Close()
	// An answer whose only candidate is a loopback port nobody listens on.
	dead := &sdpcodec.Blob{
		Kind:        sdpcodec.Answer,
		Binding:     sdpcodec.BindingOf(offerer.Local()),
		Fingerprint: [32]byte{1, 2, 3},
		Candidates:  []sdpcodec.Candidate{{Type: sdpcodec.Host, Addr: netip.MustParseAddr("127.0.0.1"), Port: 9}},
	}
	if err := offerer.Accept(carry(t, dead)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = offerer.Connect(ctx)
	var ce *ConnectError
	if !errors.As(err, &ce) || !ce.Offerer {
		t.Fatalf("Connect = %v, want the offerer's ConnectError", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("Connect gave up after %v, want about the 1 s connect timeout", waited)
	}
	if ce.DifferentNetworks() {
		t.Errorf("DifferentNetworks() = true for a loopback peer")
	}
	if len(ce.Remote) != 1 || len(ce.Local) == 0 {
		t.Errorf("ConnectError carries %d local and %d remote candidates, want both lists", len(ce.Local), len(ce.Remote))
	}
}

func TestDifferentNetworks(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("2001:db8:1::/64")}
	host := func(a string) sdpcodec.Candidate {
		return sdpcodec.Candidate{Type: sdpcodec.Host, Addr: netip.MustParseAddr(a), Port: 1}
	}
	srflx := sdpcodec.Candidate{Type: sdpcodec.Srflx, Addr: netip.MustParseAddr("203.0.113.7"), Port: 1}
	mdns := sdpcodec.Candidate{Type: sdpcodec.Host, Hostname: "0b0d5a4e-4a79-4a3b-9f2c-0a1b2c3d4e5f.local", Port: 1}
	cases := []struct {
		name         string
		ours, theirs []sdpcodec.Candidate
		want         bool
	}{
		{"same LAN", []sdpcodec.Candidate{host("192.168.1.2")}, []sdpcodec.Candidate{host("192.168.1.3")}, false},
		{"same IPv6 LAN", []sdpcodec.Candidate{host("192.168.1.2")}, []sdpcodec.Candidate{host("10.0.0.3"), host("2001:db8:1::9")}, false},
		{"other LAN", []sdpcodec.Candidate{host("192.168.1.2")}, []sdpcodec.Candidate{host("10.0.0.3")}, true},
		{"other LAN, we have srflx", []sdpcodec.Candidate{host("192.168.1.2"), srflx}, []sdpcodec.Candidate{host("10.0.0.3")}, false},
		{"other LAN, they have srflx", []sdpcodec.Candidate{host("192.168.1.2")}, []sdpcodec.Candidate{host("10.0.0.3"), srflx}, false},
		{"mDNS names", []sdpcodec.Candidate{host("192.168.1.2")}, []sdpcodec.Candidate{mdns}, false},
		{"no remote candidates", []sdpcodec.Candidate{host("192.168.1.2")}, nil, false},
	}
	for _, c := range cases {
		if got := differentNetworks(lan, c.ours, c.theirs); got != c.want {
			t.Errorf("%s: differentNetworks = %v, want %v", c.name, got, c.want)
		}
	}
}

// blackHole is a UDP server on loopback that reads and never answers: an
// unreachable STUN or TURN server.
func blackHole(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := conn.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return conn.LocalAddr().String()
}

// TestGatherBounded: a STUN or TURN server that never answers delays the
// blob by at most the gather timeout (pion alone waits 5 s for STUN and
// 7.8 s for TURN), and the blob carries the host candidates.
func TestGatherBounded(t *testing.T) {
	for _, scheme := range []string{"stun", "turn"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t, 20*time.Second)
			srv := iceServerFor(scheme, blackHole(t))
			start := time.Now()
			p, err := Offer(ctx, Options{Loopback: true, ICEServers: srv}, sdpcodec.AppChat)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if limit := DefaultGatherTimeout + 500*time.Millisecond; elapsed > limit {
				t.Errorf("offer took %v with a dead %s server, want at most %v", elapsed, scheme, limit)
			}
			if len(p.Local().Candidates) == 0 {
				t.Errorf("offer has no candidates, want the host candidates gathered")
			}
		})
	}
}

func TestPeerLeaving(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, answerer := newPair(t, ctx, Options{}, Options{})
	if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
		t.Fatal(err)
	}
	a, b := connectPair(t, ctx, offerer, answerer)
	if err := a.WriteMessage([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	offerer.Close() // waits until "last words" is acknowledged
	buf := make([]byte, MaxMessage)
	if n, err := b.ReadMessage(buf); err != nil || string(buf[:n]) != "last words" {
		t.Fatalf("ReadMessage = %q, %v; want the message written before Close", buf[:n], err)
	}
	if _, err := b.ReadMessage(buf); err == nil {
		t.Fatal("ReadMessage after the peer closed: no error")
	}
	if waited := time.Since(start); waited > DefaultLostTimeout {
		t.Errorf("the end of the peer was noticed after %v", waited)
	}
}

package peer

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"pigeon/sdpcodec"
)

// openOffer makes an open offer on loopback and carries it as text.
func openOffer(t *testing.T, ctx context.Context, opts Options) (*Peer, *sdpcodec.Blob) {
	t.Helper()
	opts.Loopback = true
	offerer, err := OfferOpen(ctx, opts, sdpcodec.AppChat)
	if err != nil {
		t.Fatalf("OfferOpen: %v", err)
	}
	t.Cleanup(func() { offerer.Close() })
	return offerer, carry(t, offerer.Local())
}

func join(t *testing.T, ctx context.Context, offer *sdpcodec.Blob, opts Options) *Peer {
	t.Helper()
	opts.Loopback = true
	p, err := Answer(ctx, opts, offer)
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestOpenJoin: the joiner of an open offer connects with no answer
// carried back; the offerer learns the joiner's certificate in band, both
// show the same verification code, and messages go both ways.
func TestOpenJoin(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, offer := openOffer(t, ctx, Options{})
	if offer.Open == nil || offer.FormatVersion() != 3 {
		t.Fatalf("the offer is not open: %+v", offer)
	}
	joiner := join(t, ctx, offer, Options{})
	a, b := connectPair(t, ctx, offerer, joiner)
	if got, want := offerer.Remote().Fingerprint, joiner.Local().Fingerprint; got != want {
		t.Errorf("the offerer admitted certificate %x, the joiner holds %x", got[:4], want[:4])
	}
	if offerer.VerificationCode() != joiner.VerificationCode() {
		t.Errorf("codes differ: %s and %s", offerer.VerificationCode(), joiner.VerificationCode())
	}
	exchange(t, a, b, "hello from the offerer")
	exchange(t, b, a, "hello from the joiner")
}

// TestOpenAcceptsAnAnswer: an open offerer also takes an answer carried
// by hand, from a joiner whose checks cannot reach it.
func TestOpenAcceptsAnAnswer(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, offer := openOffer(t, ctx, Options{})
	// The joiner's checks are lost: it knows no candidate of the offerer.
	unreachable := *offer
	unreachable.Candidates = nil
	joiner := join(t, ctx, &unreachable, Options{})
	if err := offerer.Accept(carry(t, joiner.Local())); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	a, b := connectPair(t, ctx, offerer, joiner)
	exchange(t, b, a, "carried by hand")
	if offerer.VerificationCode() != joiner.VerificationCode() {
		t.Error("codes differ")
	}
}

// TestOpenSecondJoinerRefused: a second joiner with the offer is told the
// offer was used, the offerer reports it, and the first session goes on.
func TestOpenSecondJoinerRefused(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	var (
		mu      sync.Mutex
		refused []JoinRefusal
	)
	offerer, offer := openOffer(t, ctx, Options{OnJoinRefused: func(r JoinRefusal) {
		mu.Lock()
		refused = append(refused, r)
		mu.Unlock()
	}})
	first := join(t, ctx, offer, Options{})
	a, b := connectPair(t, ctx, offerer, first)
	second := join(t, ctx, offer, Options{})
	select {
	case <-second.Done():
		if !errors.Is(second.Err(), ErrOfferUsed) {
			t.Errorf("second joiner ended with %v, want ErrOfferUsed", second.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second joiner was not refused")
	}
	mu.Lock()
	if len(refused) != 1 || refused[0].Expired {
		t.Errorf("refusals reported: %+v, want one", refused)
	}
	mu.Unlock()
	exchange(t, a, b, "still here")
	if offerer.Remote().Fingerprint != first.Local().Fingerprint {
		t.Error("the offerer's joiner changed")
	}
}

// TestOpenWrongSecret: a joiner whose offer has another secret (a forged
// offer, its checksum made right) does not get in: its checks are not
// signed with the offer's password.
func TestOpenWrongSecret(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, offer := openOffer(t, ctx, Options{})
	forged := carry(t, offer)
	forged.Open.Secret[0] ^= 1
	joiner := join(t, ctx, carry(t, forged), Options{AnswerWait: 3 * time.Second})
	select {
	case <-joiner.Opened():
		t.Fatal("a joiner with another secret connected")
	case <-joiner.Done():
	case <-time.After(4 * time.Second):
	}
	if offerer.Remote() != nil {
		t.Error("the offerer admitted a joiner with another secret")
	}
}

// TestOpenForeignChecks: checks that do not prove the secret admit no
// one: one signed with another session's password (a check replayed from
// another open offer's joiner), and one that names the offer but is signed
// with the fingerprint's derived password, as a closed offer's would be.
func TestOpenForeignChecks(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, offer := openOffer(t, ctx, Options{})
	c := offer.Candidates[0]
	to := &net.UDPAddr{IP: c.Addr.AsSlice(), Port: int(c.Port)}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ufrag, _ := sdpcodec.OpenCredentials(offer.Fingerprint, offer.Open.Secret)
	joinerUfrag, _ := sdpcodec.JoinerCredentials(offer.Fingerprint, offer.Open.Secret, [32]byte{7})
	other := offer.Open.Secret
	other[5] ^= 0x80
	_, otherPwd := sdpcodec.OpenCredentials(offer.Fingerprint, other)
	_, derivedPwd := sdpcodec.Credentials(offer.Fingerprint)
	for _, pwd := range []string{otherPwd, derivedPwd} {
		m, err := stun.Build(stun.TransactionID, stun.BindingRequest,
			stun.NewUsername(ufrag+":"+joinerUfrag), stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := conn.WriteToUDP(m.Raw, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A check signed right for the same ufrag reaches the offerer: the
	// checks above were read, and dropped.
	joiner := join(t, ctx, offer, Options{})
	connectPair(t, ctx, offerer, joiner)
	if offerer.Remote().Fingerprint != joiner.Local().Fingerprint {
		t.Error("the offerer admitted someone other than the joiner")
	}
}

// TestOpenSwappedCertificate: a joiner whose checks name one certificate
// and whose DTLS handshake shows another (a certificate swapped in the
// middle) does not connect; and a joiner the offerer did not admit shows
// a code other than the offerer's.
func TestOpenSwappedCertificate(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, offer := openOffer(t, ctx, Options{ConnectTimeout: 3 * time.Second})
	named := [32]byte{1, 2, 3}
	creds := func([32]byte) (string, string) {
		return sdpcodec.JoinerCredentials(offer.Fingerprint, offer.Open.Secret, named)
	}
	swapped, err := answerWith(ctx, Options{Loopback: true, AnswerWait: 4 * time.Second}, offer, func([32]byte) string { return offer.SDP() }, false, creds)
	if err != nil {
		t.Fatal(err)
	}
	defer swapped.Close()
	select {
	case <-swapped.Opened():
		t.Fatal("a joiner with a swapped certificate connected")
	case <-offerer.Opened():
		t.Fatal("the offerer opened to a swapped certificate")
	case <-time.After(4 * time.Second):
	}
	if r := offerer.Remote(); r == nil || r.Fingerprint != named {
		t.Fatalf("the offerer expected %v, want the certificate the checks named", r)
	}
	if sdpcodec.VerificationCode(offer.Fingerprint, named) == swapped.VerificationCode() {
		t.Error("the offerer's code is the swapped joiner's")
	}
}

// TestOpenExpired: a joiner refuses an open offer past its expiry.
func TestOpenExpired(t *testing.T) {
	ctx := testContext(t, 10*time.Second)
	_, offer := openOffer(t, ctx, Options{})
	offer.Open.Expires = time.Now().Truncate(time.Minute)
	if _, err := Answer(ctx, Options{Loopback: true}, offer); !errors.Is(err, ErrOfferExpired) {
		t.Errorf("Answer of an expired offer: %v, want ErrOfferExpired", err)
	}
}

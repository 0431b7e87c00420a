package peer

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestVerificationCodesMatch(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, answerer := newPair(t, ctx, Options{}, Options{})
	if code := offerer.VerificationCode(); code != "" {
		t.Errorf("offerer has code %q before the answer", code)
	}
	if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
		t.Fatal(err)
	}
	connectPair(t, ctx, offerer, answerer)
	a, b := offerer.VerificationCode(), answerer.VerificationCode()
	if a != b || len(a) != len("123-456") {
		t.Errorf("codes %q and %q, want the same six digits", a, b)
	}
}

// TestSwappedBlobsChangeTheCode: a third party in the middle answers the
// offer itself and hands the answerer its own offer. Both connections work
// (each to the middle), but the two people see different codes.
func TestSwappedBlobsChangeTheCode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	alice, middleForAlice := newPair(t, ctx, Options{}, Options{})
	if err := alice.Accept(carry(t, middleForAlice.Local())); err != nil {
		t.Fatal(err)
	}
	middleForBob, bob := newPair(t, ctx, Options{}, Options{})
	if err := middleForBob.Accept(carry(t, bob.Local())); err != nil {
		t.Fatal(err)
	}
	connectPair(t, ctx, alice, middleForAlice)
	connectPair(t, ctx, middleForBob, bob)
	if a, b := alice.VerificationCode(), bob.VerificationCode(); a == b {
		t.Errorf("alice and bob both see %q through a swapped blob, want different codes", a)
	}
}

// TestRefuseCode: when one person refuses the verification code, the other
// side ends with ErrCodeRefused, not with a connection closed for no
// reason; both directions.
func TestRefuseCode(t *testing.T) {
	for _, offererRefuses := range []bool{true, false} {
		ctx := testContext(t, 20*time.Second)
		offerer, answerer := newPair(t, ctx, Options{}, Options{})
		if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
			t.Fatal(err)
		}
		connectPair(t, ctx, offerer, answerer)
		refuser, other := offerer, answerer
		if !offererRefuses {
			refuser, other = answerer, offerer
		}
		refuser.RefuseCode()
		refuser.Close()
		select {
		case <-other.Done():
		case <-ctx.Done():
			t.Fatal("the other side did not end")
		}
		if err := other.Err(); !errors.Is(err, ErrCodeRefused) {
			t.Errorf("offerer refuses %v: the other side ended with %v, want %v", offererRefuses, err, ErrCodeRefused)
		}
	}
}

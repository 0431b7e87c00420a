package sdpcodec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func openOffer(cands []Candidate) *Blob {
	return &Blob{Kind: Offer, App: AppSend, Fingerprint: [32]byte{9, 8, 7},
		Open:       &Open{Secret: [SecretLen]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Expires: time.Unix(29_000_000*60, 0).UTC()},
		Candidates: cands}
}

// TestOpenRoundTrip: an open offer encodes as version 3 and decodes to the
// same blob, its secret and expiry included; its SDP carries the password
// derived from the secret, not the fingerprint's.
func TestOpenRoundTrip(t *testing.T) {
	for _, c := range sizeCases() {
		b := openOffer(c.cands)
		text, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("%s: decoded %+v, want %+v", c.name, got, b)
		}
		if got.FormatVersion() != 3 {
			t.Errorf("%s: version %d, want 3", c.name, got.FormatVersion())
		}
		_, plain := Credentials(b.Fingerprint)
		_, open := OpenCredentials(b.Fingerprint, b.Open.Secret)
		if sdp := got.SDP(); !strings.Contains(sdp, "a=ice-pwd:"+open+"\r\n") || strings.Contains(sdp, plain) {
			t.Errorf("%s: the SDP does not carry the open offer's password", c.name)
		}
	}
}

// TestOpenSize: an open offer with one IPv4 host candidate fits QR
// version 4, and costs 26 characters more than the same offer not open.
func TestOpenSize(t *testing.T) {
	for _, c := range sizeCases() {
		open := openOffer(c.cands)
		closed := *open
		closed.Open = nil
		oc, ov := sizeOf(t, open)
		cc, cv := sizeOf(t, &closed)
		t.Logf("%-36s open offer %3d characters (QR version %d), %d more than not open (QR %d)", c.name, oc, ov, oc-cc, cv)
		if c.name == "one IPv4 host" && (oc > 101 || ov > 4) {
			t.Errorf("one IPv4 host: %d characters, QR version %d; want at most 101 and 4", oc, ov)
		}
		if oc-cc > 26 {
			t.Errorf("%s: open costs %d characters, want at most 26", c.name, oc-cc)
		}
	}
}

// TestOpenDamage: a changed secret or expiry is caught by the checksum,
// like any other change; only an offer is open.
func TestOpenDamage(t *testing.T) {
	text, err := openOffer(sizeCases()[0].cands).Encode()
	if err != nil {
		t.Fatal(err)
	}
	// Bytes 33 to 48 hold the secret and the expiry: characters 53 to 78
	// of the base32 text.
	for i := len(Prefix) + 53; i < len(Prefix)+78; i++ {
		b := []byte(text)
		b[i] = "AB"[map[bool]int{true: 1}[b[i] == 'A']]
		if _, err := Decode(string(b)); !errors.Is(err, ErrDamaged) {
			t.Errorf("character %d changed: %v, want ErrDamaged", i, err)
		}
	}
	answer := &Blob{Kind: Answer, Fingerprint: [32]byte{1}, Open: &Open{Expires: time.Unix(60, 0)}}
	if _, err := answer.Encode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("an open answer encodes: %v", err)
	}
	odd := openOffer(nil)
	odd.Open.Expires = odd.Open.Expires.Add(time.Second)
	if _, err := odd.Encode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("an expiry between minutes encodes: %v", err)
	}
}

// TestJoinerCredentials: the joiner's ufrag names its fingerprint in ICE
// characters, read back whole; its password depends on the secret and
// both fingerprints; a ufrag that is not a fingerprint names none.
func TestJoinerCredentials(t *testing.T) {
	offer, joiner := [32]byte{1}, [32]byte{0xff, 0xfe, 2, 3}
	secret := [SecretLen]byte{5}
	ufrag, pwd := JoinerCredentials(offer, secret, joiner)
	if err := checkCredentials(ufrag, pwd); err != nil {
		t.Fatal(err)
	}
	if fp, ok := JoinerFingerprint(ufrag); !ok || fp != joiner {
		t.Errorf("JoinerFingerprint(%q) = %x, %v", ufrag, fp, ok)
	}
	other := secret
	other[11] = 1
	if _, p := JoinerCredentials(offer, other, joiner); p == pwd {
		t.Error("another secret gives the same password")
	}
	if _, p := JoinerCredentials([32]byte{2}, secret, joiner); p == pwd {
		t.Error("another offer gives the same password")
	}
	for _, u := range []string{"", "0a1b2c3d", ufrag[:42], ufrag + "A", strings.Repeat("/", 43)} {
		if _, ok := JoinerFingerprint(u); ok {
			t.Errorf("JoinerFingerprint(%q) names a fingerprint", u)
		}
	}
}

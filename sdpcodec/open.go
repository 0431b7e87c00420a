package sdpcodec

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// Open offers (version 3).
//
// An open offer lets the joiner connect with nothing carried back: it
// holds, after the fingerprint, a secret of [SecretLen] bytes and the
// minute after which it admits no one (four bytes, big-endian minutes of
// Unix time). The offerer's ICE password is derived from the secret
// ([OpenCredentials]), so only someone who read the offer can sign an ICE
// check the offerer accepts; the joiner names its certificate's
// fingerprint in its ICE username fragment and derives its password from
// the secret and both fingerprints ([JoinerCredentials]). SPEC.md says
// what this protects and what it does not.

// SecretLen is the size of an open offer's secret: 96 bits, which no one
// guesses by sending ICE checks for the minutes an offer is open, nor by
// computing HMACs offline from a check overheard.
const SecretLen = 12

// openVersion is the version of open offers.
const openVersion = 3

// openLen is what an open offer holds after its fingerprint.
const openLen = SecretLen + 4

// Open is what an open offer carries besides an offer's fields.
type Open struct {
	// Secret is what a joiner proves it holds.
	Secret [SecretLen]byte
	// Expires is when the offer stops admitting joiners, in whole
	// minutes.
	Expires time.Time
}

// Expired reports whether the offer admits no one at now.
func (o *Open) Expired(now time.Time) bool { return !now.Before(o.Expires) }

// expiryMinutes is Expires as the blob writes it.
func (o *Open) expiryMinutes() (uint32, error) {
	m := o.Expires.Unix() / 60
	if o.Expires.Unix()%60 != 0 || m <= 0 || m > 1<<32-1 {
		return 0, fmt.Errorf("an open offer's expiry %s is not a whole minute after 1970 that 32 bits hold", o.Expires)
	}
	return uint32(m), nil
}

func appendOpen(buf []byte, o *Open) ([]byte, error) {
	m, err := o.expiryMinutes()
	if err != nil {
		return nil, err
	}
	buf = append(buf, o.Secret[:]...)
	return binary.BigEndian.AppendUint32(buf, m), nil
}

func readOpen(buf []byte) *Open {
	o := &Open{}
	copy(o.Secret[:], buf)
	o.Expires = time.Unix(int64(binary.BigEndian.Uint32(buf[SecretLen:]))*60, 0).UTC()
	return o
}

// Labels that separate these uses of SHA-256 from any other.
const (
	openOffererLabel = "pigeon v3 open offer password"
	openJoinerLabel  = "pigeon v3 open joiner password"
)

// OpenCredentials are the ICE credentials of the offerer of an open offer:
// the username fragment of [Credentials], and a password of 32 hex digits
// from SHA-256(label || secret || fp). Only the first connection uses
// them: restarts use [CredentialsAt], as every session does.
func OpenCredentials(fp [32]byte, secret [SecretLen]byte) (ufrag, pwd string) {
	ufrag, _ = Credentials(fp)
	return ufrag, secretHash(openOffererLabel, secret, fp[:])
}

// JoinerCredentials are the ICE credentials of the joiner of the open
// offer whose offerer's fingerprint is offer: the username fragment is the
// joiner's fingerprint in base64 (43 characters, all ICE characters), so
// that its first check tells the offerer whom to expect in DTLS; the
// password, 32 hex digits from SHA-256(label || secret || offer || joiner),
// shows the offerer's checks that they come from someone who holds the
// secret too.
func JoinerCredentials(offer [32]byte, secret [SecretLen]byte, joiner [32]byte) (ufrag, pwd string) {
	return base64.RawStdEncoding.EncodeToString(joiner[:]), secretHash(openJoinerLabel, secret, offer[:], joiner[:])
}

// roomLabel separates this use of SHA-256 from any other.
const roomLabel = "pigeon v3 room credentials"

// RoomCredentials are the ICE credentials of the host of an open room
// offer (app room) towards the joiner whose fingerprint is joiner: a room
// admits many joiners with one offer, and each has a connection of its
// own, which the host's sockets tell apart by its ufrag. The ufrag is 8
// hex digits and the password 32, from SHA-256(label || secret || offer
// || joiner): the joiner computes them from the offer, no one else can.
func RoomCredentials(offer [32]byte, secret [SecretLen]byte, joiner [32]byte) (ufrag, pwd string) {
	h := sha256.New()
	h.Write([]byte(roomLabel))
	h.Write(secret[:])
	h.Write(offer[:])
	h.Write(joiner[:])
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:4]), hex.EncodeToString(sum[4:20])
}

// JoinerFingerprint reads the fingerprint a joiner's username fragment
// names, and reports whether it names one.
func JoinerFingerprint(ufrag string) (fp [32]byte, ok bool) {
	if len(ufrag) != 43 {
		return fp, false
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(ufrag)
	if err != nil || len(b) != 32 {
		return fp, false
	}
	copy(fp[:], b)
	return fp, true
}

func secretHash(label string, secret [SecretLen]byte, parts ...[]byte) string {
	h := sha256.New()
	h.Write([]byte(label))
	h.Write(secret[:])
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

package sdpcodec

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// credentialsLabel separates this use of SHA-256 from any other.
const credentialsLabel = "pigeon v1 ice credentials"

// Credentials returns the ICE username fragment and password a peer whose DTLS
// certificate has fingerprint fp must use, so that they need not be carried in
// the blob: ufrag is 8 lower-case hex digits (32 bits), pwd 32 (128 bits), both
// from SHA-256("pigeon v1 ice credentials" || fp).
//
// They are unique because every session uses a fresh certificate. They are not
// secret from anyone who sees the blob, but neither would carried credentials
// be; the DTLS fingerprint is what authenticates the peer. An ICE restart needs
// fresh credentials: see [CredentialsAt].
func Credentials(fp [32]byte) (ufrag, pwd string) {
	return credentials(fp[:])
}

// credentials derives ufrag and pwd from SHA-256("pigeon v1 ice
// credentials" || input).
func credentials(input []byte) (ufrag, pwd string) {
	h := sha256.New()
	h.Write([]byte(credentialsLabel))
	h.Write(input)
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[0:4]), hex.EncodeToString(sum[4:20])
}

// CredentialsAt returns the ICE credentials of the peer with fingerprint fp
// in ICE generation gen: [Credentials] for generation 0, the session's first
// connection; for each restart after it, the same construction over
// fp || gen (gen as two big-endian bytes), so every generation has fresh
// credentials that both sides know without carrying them.
func CredentialsAt(fp [32]byte, gen uint16) (ufrag, pwd string) {
	if gen == 0 {
		return Credentials(fp)
	}
	return credentials(append(fp[:], byte(gen>>8), byte(gen)))
}

// sessionLabel separates this use of SHA-256 from any other.
const sessionLabel = "pigeon v1 session"

// SessionOf returns the session value a reconnect blob of the session
// between the offer's and the answer's fingerprints carries: the first 15
// bits of SHA-256("pigeon v1 session" || offerer || answerer). Like an
// answer's binding it guards against pasting a blob into the wrong session;
// it is not a security measure.
func SessionOf(offerer, answerer [32]byte) uint16 {
	h := sha256.New()
	h.Write([]byte(sessionLabel))
	h.Write(offerer[:])
	h.Write(answerer[:])
	sum := h.Sum(nil)
	return (uint16(sum[0])<<8 | uint16(sum[1])) & maxSession
}

const verificationLabel = "pigeon v1 verification code"

// VerificationCode returns the code both sides of a session show, six
// digits from the offer's and the answer's fingerprints (see SPEC.md):
// the first 8 bytes of SHA-256(label, offer, answer), big-endian, modulo
// 10^6, written "ddd-ddd".
func VerificationCode(offer, answer [32]byte) string {
	h := sha256.New()
	h.Write([]byte(verificationLabel))
	h.Write(offer[:])
	h.Write(answer[:])
	n := binary.BigEndian.Uint64(h.Sum(nil)) % 1_000_000
	return fmt.Sprintf("%03d-%03d", n/1000, n%1000)
}

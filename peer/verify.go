package peer

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"pigeon/sdpcodec"
)

// VerificationCode is a short code both sides of a connection show: six
// digits derived from the offer's and the answer's DTLS fingerprints. The
// DTLS handshake proves each side holds the certificate its peer's blob
// names, so if a third party swapped a blob on the way, the two sides
// compute their codes from different fingerprints and the codes differ
// (with probability 1 - 10^-6). Comparing them aloud detects the swap.
//
// It is "" until an answer has been applied (offerer) or made (answerer).
func (p *Peer) VerificationCode() string {
	remote := p.Remote()
	if remote == nil {
		return ""
	}
	offer, answer := p.local, remote
	if p.kind == sdpcodec.Answer {
		offer, answer = remote, p.local
	}
	return verificationCode(offer.Fingerprint, answer.Fingerprint)
}

func verificationCode(offer, answer [32]byte) string {
	h := sha256.New()
	h.Write([]byte("pigeon v1 verification code"))
	h.Write(offer[:])
	h.Write(answer[:])
	n := binary.BigEndian.Uint64(h.Sum(nil)) % 1_000_000
	return fmt.Sprintf("%03d-%03d", n/1000, n%1000)
}

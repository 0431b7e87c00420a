package sdpcodec

import (
	"crypto/sha256"
	"encoding/hex"
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
// fresh credentials, which v1 does not define.
func Credentials(fp [32]byte) (ufrag, pwd string) {
	h := sha256.New()
	h.Write([]byte(credentialsLabel))
	h.Write(fp[:])
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[0:4]), hex.EncodeToString(sum[4:20])
}

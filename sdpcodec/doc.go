// Package sdpcodec encodes a WebRTC session description as a short, versioned,
// copy-paste-safe text blob.
//
// pigeon has no signaling server: a person carries one offer and one answer by
// hand, as text or as a QR code. A [Blob] holds only what cannot be rebuilt from
// a fixed template: the kind ([Offer] or [Answer]), the app an offer starts, the
// binding of an answer to its offer, the SHA-256 fingerprint of the sender's DTLS
// certificate and its ICE candidates. The ICE credentials are derived from the
// fingerprint with [Credentials], so a peer must set them (for pion, with
// SettingEngine.SetICECredentials) before it creates its description.
//
// The text form is [Prefix] followed by unpadded upper-case base32 of a binary
// layout that ends in a checksum. [Blob.Encode] produces it and [Decode] accepts
// exactly that text and nothing else, so every blob has one spelling. [Parse] is
// what a program should call on text a human pasted: it applies [Clean] (drops
// white space, zero-width characters and surrounding quotes, upper-cases letters)
// and then [Decode]. Errors say what went wrong in terms a user can act on and
// wrap the sentinels in errors.go ([ErrTruncated], [ErrDamaged], ...) or a
// [*VersionError], so callers can branch with errors.Is and errors.As.
//
// [FromSDP] turns pion's LocalDescription().SDP into a [Blob]; [Blob.SDP]
// rebuilds a complete session description that pion accepts as the remote one.
//
// The format is specified in SPEC.md next to this file, with test vectors in
// testdata/.
package sdpcodec

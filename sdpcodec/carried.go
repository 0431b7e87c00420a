package sdpcodec

import (
	"fmt"
	"strings"
)

// Carried ICE credentials (version 2).
//
// A browser's RTCPeerConnection chooses its own ICE username fragment and
// password and lets no page set them, so a blob from a page carries them:
// after the fingerprint, one byte with the length of the ufrag, one with
// the length of the password, then the characters of both, six bits each
// in the order of iceCharset (RFC 8839 ice-char: ALPHA, DIGIT, "+", "/"),
// most significant bit first, the last byte padded with zero bits.
// Chromium's 4 + 24 characters take 23 bytes (37 characters of text),
// Firefox's 8 + 32 take 32 (52 characters).

// FormatVersion is the format version b's text form has: 3 for an open
// offer, 2 when it carries ICE credentials, else 1.
func (b *Blob) FormatVersion() int {
	if b.Open != nil {
		return openVersion
	}
	if b.CarriesCredentials() {
		return carriedVersion
	}
	return 1
}

// iceCharset orders the characters an ICE ufrag or password may hold.
const iceCharset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// Lengths RFC 8839 allows (ufrag 4 to 256 characters, password 22 to
// 256), within what a length byte holds.
const (
	minUfrag = 4
	minPwd   = 22
	maxCred  = 255
)

// checkCredentials reports why ufrag and pwd cannot be carried, if they
// cannot.
func checkCredentials(ufrag, pwd string) error {
	for _, f := range []struct {
		name, value string
		min         int
	}{{"ICE ufrag", ufrag, minUfrag}, {"ICE password", pwd, minPwd}} {
		if len(f.value) < f.min || len(f.value) > maxCred {
			return fmt.Errorf("%s %q has %d characters; a blob carries %d to %d", f.name, f.value, len(f.value), f.min, maxCred)
		}
		if i := strings.IndexFunc(f.value, func(r rune) bool { return !strings.ContainsRune(iceCharset, r) }); i >= 0 {
			return fmt.Errorf("%s %q holds %q, which is not an ICE character", f.name, f.value, f.value[i])
		}
	}
	return nil
}

// packedLen is the number of bytes n characters take.
func packedLen(n int) int { return (n*6 + 7) / 8 }

// appendCredentials appends the carried credentials to buf.
func appendCredentials(buf []byte, ufrag, pwd string) []byte {
	buf = append(buf, byte(len(ufrag)), byte(len(pwd)))
	var acc uint32
	var bits uint
	for _, ch := range []byte(ufrag + pwd) {
		acc = acc<<6 | uint32(strings.IndexByte(iceCharset, ch))
		bits += 6
		for bits >= 8 {
			bits -= 8
			buf = append(buf, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	if bits > 0 {
		buf = append(buf, byte(acc<<(8-bits)))
	}
	return buf
}

// credentialsEnd returns where the carried credentials starting at
// buf[at] end, or 0 when buf is too short to tell.
func credentialsEnd(buf []byte, at int) int {
	if len(buf) < at+2 {
		return 0
	}
	return at + 2 + packedLen(int(buf[at])+int(buf[at+1]))
}

// readCredentials reads the carried credentials at buf[at:end].
func readCredentials(buf []byte, at, end int) (ufrag, pwd string, err error) {
	nu, np := int(buf[at]), int(buf[at+1])
	chars := make([]byte, 0, nu+np)
	var acc uint32
	var bits uint
	for _, b := range buf[at+2 : end] {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 6 && len(chars) < nu+np {
			bits -= 6
			chars = append(chars, iceCharset[acc>>bits&63])
		}
		acc &= 1<<bits - 1
	}
	if acc != 0 {
		return "", "", fmt.Errorf("the ICE credentials end in padding bits that are not zero")
	}
	ufrag, pwd = string(chars[:nu]), string(chars[nu:])
	if err := checkCredentials(ufrag, pwd); err != nil {
		return "", "", err
	}
	return ufrag, pwd, nil
}

package sdpcodec

import (
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

const (
	// Prefix starts the text form of every blob.
	Prefix = "PIGEON"
	// Version is the newest format version this package writes and
	// reads. Version 1 derives the ICE credentials from the fingerprint;
	// version 2 carries them, for a peer that cannot choose its own (a
	// browser's RTCPeerConnection). [Blob.Encode] writes version 1 unless
	// the blob carries credentials, so pigeons that only read version 1
	// still read every blob a pigeon makes. Version 3 is an open offer
	// (open.go).
	Version = 3
	// carriedVersion is the version of blobs that carry ICE credentials.
	carriedVersion = 2
	// MaxCandidates is the largest number of candidates a blob holds.
	MaxCandidates = 16
	// MaxTextLen is the longest cleaned text [Parse] and [Decode] accept. The
	// longest valid blob (16 IPv6 candidates, each with its own port) is 550
	// characters.
	MaxTextLen = 1024
	// MaxInputLen is the longest raw input [Parse] accepts before cleaning.
	MaxInputLen = 64 << 10
)

// Layout sizes of a v1 blob, in bytes.
const (
	headerLen      = 1
	fingerprintLen = 32
	trailerLen     = 3 // T (offers: CRC-8; answers: binding low byte), then CRC-16
	listStart      = headerLen + fingerprintLen
	// A reconnect blob has no fingerprint: its list starts after the
	// session and generation fields.
	reconnectListStart = headerLen + 2 + 2
	minBlobLen         = listStart + 1 + trailerLen // header, fingerprint, empty list, trailer
	emptyListTag       = 0xB0
	maxBinding         = 0xFFF
	maxApp             = 0xF
	maxSession         = 0x7FFF
	fromOffererBit     = 0x8000
)

// textEncoding is the alphabet of the text form: RFC 4648 base32, no padding.
var textEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Kind says whether a blob is an offer, an answer or a reconnect blob.
type Kind uint8

// Kinds of blob.
const (
	Offer  Kind = 1
	Answer Kind = 2
	// Reconnect restarts ICE in a running session, after a network change,
	// when the peers cannot tell each other over the connection.
	Reconnect Kind = 3
)

func (k Kind) String() string {
	switch k {
	case Offer:
		return "offer"
	case Answer:
		return "answer"
	case Reconnect:
		return "reconnect blob"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// App names what an offer's session is for; the answering side runs it. It is a
// 4-bit field of offers: 1 to 15 are valid, 0 is not.
type App uint8

// Apps known to this version of pigeon. Other values in 1..15 encode and decode
// fine; a program that does not know them should say so.
const (
	AppChat  App = 1
	AppSend  App = 2
	AppPipe  App = 3
	AppShare App = 4
	// AppRoom is a chat room of several members (package room).
	AppRoom App = 5
)

func (a App) String() string {
	switch a {
	case AppChat:
		return "chat"
	case AppSend:
		return "send"
	case AppPipe:
		return "pipe"
	case AppShare:
		return "share"
	case AppRoom:
		return "room"
	}
	return fmt.Sprintf("app %d", uint8(a))
}

// Blob is the part of a session description that cannot be rebuilt from the
// template of [Blob.SDP].
type Blob struct {
	Kind Kind
	// App is what the session is for; offers only, 0 in answers.
	App App
	// Binding ties an answer to its offer (12 bits, see [BindingOf]); answers
	// only, 0 in offers.
	Binding uint16
	// Fingerprint is the SHA-256 fingerprint of the sender's DTLS certificate;
	// zero in reconnect blobs, whose receiver knows it.
	Fingerprint [32]byte
	// Session ties a reconnect blob to its session (15 bits, see [SessionOf]);
	// reconnect blobs only.
	Session uint16
	// FromOfferer says which side of the session sent a reconnect blob.
	FromOfferer bool
	// Generation is the ICE generation: 0 for the session's first
	// connection, counting up with each ICE restart. Offers and answers are
	// always generation 0; a reconnect blob's is 1 or more. [Blob.SDP] uses
	// the credentials of [CredentialsAt] this generation.
	Generation uint16
	// Candidates are the sender's ICE candidates in priority order, best first.
	Candidates []Candidate
	// Ufrag and Pwd are the sender's ICE credentials when it chose them
	// itself (a browser page): the blob then carries them, in version 2.
	// Empty, they are derived from the fingerprint ([CredentialsAt]).
	// Offers and answers only.
	Ufrag, Pwd string
	// Open, set, makes an offer open (version 3): the joiner connects
	// with nothing carried back. Offers only.
	Open *Open
}

// CarriesCredentials reports whether b carries its sender's own ICE
// credentials: the sender is a browser page, which chose them.
func (b *Blob) CarriesCredentials() bool { return b.Ufrag != "" || b.Pwd != "" }

// BindingOf returns the binding an answer to offer must carry: the first 12
// bits of the offer's fingerprint. It guards against pasting an answer into the
// wrong session; it is not a security measure.
func BindingOf(offer *Blob) uint16 {
	return uint16(offer.Fingerprint[0])<<4 | uint16(offer.Fingerprint[1]>>4)
}

// Answers reports whether b is an answer to offer, judged by its binding.
func (b *Blob) Answers(offer *Blob) bool {
	return b.Kind == Answer && b.Binding == BindingOf(offer)
}

// FingerprintString returns the fingerprint as SDP writes it: upper-case hex
// bytes separated by colons.
func (b *Blob) FingerprintString() string {
	return fingerprintString(b.Fingerprint)
}

func fingerprintString(fp [32]byte) string {
	h := strings.ToUpper(hex.EncodeToString(fp[:]))
	var sb strings.Builder
	sb.Grow(len(fp) * 3)
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

// Encode returns the canonical text form of b: the only text [Decode] accepts
// for it. It fails with [ErrInvalid] when a field cannot be encoded. An IPv4
// address mapped into IPv6 is written as plain IPv4.
func (b *Blob) Encode() (string, error) {
	buf, err := b.marshal()
	if err != nil {
		return "", err
	}
	return Prefix + textEncoding.EncodeToString(buf), nil
}

// marshal returns the binary layout of b, trailer included.
func (b *Blob) marshal() ([]byte, error) {
	var low4 byte
	var kindBit byte
	switch b.Kind {
	case Offer:
		if b.App == 0 || b.App > maxApp {
			return nil, fmt.Errorf("%w: offer app %d is out of range 1..%d", ErrInvalid, b.App, maxApp)
		}
		if b.Binding != 0 {
			return nil, fmt.Errorf("%w: an offer has no binding, got %d", ErrInvalid, b.Binding)
		}
		low4 = byte(b.App)
	case Answer:
		if b.App != 0 {
			return nil, fmt.Errorf("%w: an answer names no app, got %s", ErrInvalid, b.App)
		}
		if b.Binding > maxBinding {
			return nil, fmt.Errorf("%w: answer binding %#x does not fit in 12 bits", ErrInvalid, b.Binding)
		}
		kindBit = 1 << 4
		low4 = byte(b.Binding >> 8)
	case Reconnect:
		if b.App != 0 || b.Binding != 0 || b.Fingerprint != ([32]byte{}) {
			return nil, fmt.Errorf("%w: a reconnect blob carries no app, binding or fingerprint", ErrInvalid)
		}
		if b.Session > maxSession {
			return nil, fmt.Errorf("%w: session %#x does not fit in 15 bits", ErrInvalid, b.Session)
		}
		if b.Generation == 0 {
			return nil, fmt.Errorf("%w: a reconnect blob's generation is 1 or more", ErrInvalid)
		}
	default:
		return nil, fmt.Errorf("%w: %s is not a kind of blob", ErrInvalid, b.Kind)
	}
	if b.Kind != Reconnect && b.Generation != 0 {
		return nil, fmt.Errorf("%w: an %s is always generation 0, got %d", ErrInvalid, b.Kind, b.Generation)
	}
	if len(b.Candidates) > MaxCandidates {
		return nil, fmt.Errorf("%w: %d candidates, at most %d fit", ErrInvalid, len(b.Candidates), MaxCandidates)
	}
	version := byte(1)
	if b.Open != nil {
		if b.Kind != Offer || b.CarriesCredentials() {
			return nil, fmt.Errorf("%w: only an offer of pigeon's own is open", ErrInvalid)
		}
		version = openVersion
	}
	if b.CarriesCredentials() {
		if b.Kind == Reconnect {
			return nil, fmt.Errorf("%w: a reconnect blob carries no ICE credentials", ErrInvalid)
		}
		if err := checkCredentials(b.Ufrag, b.Pwd); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		version = carriedVersion
	}

	buf := make([]byte, 0, listStart+2+len(b.Ufrag)+len(b.Pwd)+len(b.Candidates)*(1+16+2)+1+trailerLen)
	buf = append(buf, version<<5|kindBit|low4)
	if b.Kind == Reconnect {
		session := b.Session
		if b.FromOfferer {
			session |= fromOffererBit
		}
		buf = append(buf, byte(session>>8), byte(session), byte(b.Generation>>8), byte(b.Generation))
	} else {
		buf = append(buf, b.Fingerprint[:]...)
	}
	if version == carriedVersion {
		buf = appendCredentials(buf, b.Ufrag, b.Pwd)
	}
	if version == openVersion {
		var err error
		if buf, err = appendOpen(buf, b.Open); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if len(b.Candidates) == 0 {
		buf = append(buf, emptyListTag)
	}
	for i, c := range b.Candidates {
		var err error
		last := i == len(b.Candidates)-1
		samePort := i > 0 && c.Port == b.Candidates[i-1].Port
		if buf, err = c.appendTo(buf, last, samePort); err != nil {
			return nil, fmt.Errorf("%w: candidate %d: %w", ErrInvalid, i+1, err)
		}
	}

	return appendTrailer(buf, b.Kind, byte(b.Binding)), nil
}

// appendTrailer appends the trailer to body: one byte T (for offers and
// reconnect blobs, the CRC-8 of body; for answers, bindingLow), then the CRC-16 of body and T. The CRC-16
// does not depend on the kind, so a changed kind bit is caught like any other
// changed bit.
func appendTrailer(body []byte, kind Kind, bindingLow byte) []byte {
	t := bindingLow
	if kind != Answer {
		t = crc8(body)
	}
	body = append(body, t)
	sum := crc16(body)
	return append(body, byte(sum>>8), byte(sum))
}

package sdpcodec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pion/sdp/v3"
)

// Format names how a session description is written down.
type Format uint8

// Formats pigeon reads; it writes [FormatPigeon] and [FormatBase64JSON].
const (
	FormatPigeon     Format = iota + 1 // a pigeon blob
	FormatBase64JSON                   // base64 of {"type","sdp"}, as pion's examples print
	FormatJSON                         // {"type","sdp"}: a browser's JSON.stringify(pc.localDescription)
	FormatSDP                          // the session description text itself
)

func (f Format) String() string {
	switch f {
	case FormatPigeon:
		return "pigeon blob"
	case FormatBase64JSON:
		return "base64 JSON"
	case FormatJSON:
		return "JSON"
	case FormatSDP:
		return "raw SDP"
	}
	return fmt.Sprintf("format %d", uint8(f))
}

// ErrForeign wraps every error of [ParseForeign].
var ErrForeign = errors.New("not a session description pigeon can read")

// Foreign is a session description written by another WebRTC program: a
// browser page or one of pion's examples. No blob can carry it (its ICE
// credentials are its own), so it travels whole.
type Foreign struct {
	Kind   Kind
	SDP    string
	Format Format
}

// ParseForeign reads a description in another program's format: base64 of
// JSON {"type","sdp"}, that JSON itself, or raw SDP (whose kind it tells by
// a=setup: actpass is an offer, active or passive an answer). Surrounding
// white space and quotes are ignored, and base64 may be wrapped.
func ParseForeign(pasted string) (*Foreign, error) {
	if len(pasted) > MaxInputLen {
		return nil, fmt.Errorf("%w: %w: it has %d bytes; a session description pigeon reads has at most %d",
			ErrForeign, ErrTooLong, len(pasted), MaxInputLen)
	}
	if !utf8.ValidString(pasted) {
		return nil, fmt.Errorf("%w: it is not valid UTF-8 text", ErrForeign)
	}
	text := strings.TrimFunc(pasted, func(r rune) bool { return unicode.IsSpace(r) || isZeroWidth(r) || isQuote(r) })
	switch {
	case strings.HasPrefix(text, "{"):
		return parseJSON([]byte(text), FormatJSON)
	case strings.HasPrefix(text, "v=0"):
		return parseRawSDP(text)
	case strings.HasPrefix(text, "eyJ"):
		compact := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || isZeroWidth(r) {
				return -1
			}
			return r
		}, text)
		raw, err := base64.StdEncoding.DecodeString(compact)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(compact)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: looks like base64 JSON but does not decode: %w", ErrForeign, err)
		}
		return parseJSON(raw, FormatBase64JSON)
	}
	return nil, fmt.Errorf("%w: expected base64 JSON, JSON or SDP", ErrForeign)
}

func parseJSON(raw []byte, format Format) (*Foreign, error) {
	var d struct {
		Type string `json:"type"`
		SDP  string `json:"sdp"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: %s is not valid: %w", ErrForeign, format, err)
	}
	if !utf8.ValidString(d.SDP) {
		return nil, fmt.Errorf("%w: its SDP is not valid UTF-8 text", ErrForeign)
	}
	f := &Foreign{SDP: d.SDP, Format: format}
	switch d.Type {
	case "offer":
		f.Kind = Offer
	case "answer":
		f.Kind = Answer
	default:
		return nil, fmt.Errorf("%w: its type is %q; pigeon reads an offer or an answer", ErrForeign, d.Type)
	}
	if _, err := f.Summary(); err != nil {
		return nil, err
	}
	return f, nil
}

func parseRawSDP(text string) (*Foreign, error) {
	// People and terminals turn CRLF into LF: SDP wants CRLF.
	lines := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	f := &Foreign{SDP: strings.Join(lines, "\r\n") + "\r\n", Format: FormatSDP}
	switch {
	case strings.Contains(f.SDP, "a=setup:actpass"):
		f.Kind = Offer
	case strings.Contains(f.SDP, "a=setup:active"), strings.Contains(f.SDP, "a=setup:passive"):
		f.Kind = Answer
	default:
		return nil, fmt.Errorf("%w: raw SDP without a=setup: cannot tell an offer from an answer", ErrForeign)
	}
	if _, err := f.Summary(); err != nil {
		return nil, err
	}
	return f, nil
}

// Summary is what the description holds that a blob would show: its kind,
// DTLS fingerprint and the candidates pigeon can read. It cannot be encoded
// as a blob of its own description.
func (f *Foreign) Summary() (*Blob, error) {
	b, err := fromSDP(f.Kind, f.SDP, false, Credentials)
	if err != nil {
		why := strings.TrimPrefix(err.Error(), ErrUnsupportedSDP.Error()+": ")
		return nil, fmt.Errorf("%w: its SDP: %s", ErrForeign, why)
	}
	return b, nil
}

// Recognize tells which format pasted text is written in, by how it starts
// once the white space, quotes and zero-width characters that carrying adds
// are set aside: [FormatPigeon] for [Prefix] (in any case), [FormatJSON] for
// "{", [FormatSDP] for "v=0", [FormatBase64JSON] for "eyJ" (base64 of
// `{"`). It returns 0 for anything else. It reads only the start, so a
// description of any length is told apart before a blob's length limits
// apply; [Parse] or [ParseForeign] then read it.
func Recognize(pasted string) Format {
	head := pasted
	if len(head) > 256 {
		head = head[:256]
	}
	head = strings.TrimLeftFunc(head, func(r rune) bool { return unicode.IsSpace(r) || isZeroWidth(r) || isQuote(r) })
	switch {
	case strings.HasPrefix(head, "{"):
		return FormatJSON
	case strings.HasPrefix(head, "v=0"):
		return FormatSDP
	case strings.HasPrefix(head, "eyJ"):
		return FormatBase64JSON
	case strings.HasPrefix(Clean(head), Prefix):
		return FormatPigeon
	}
	return 0
}

// Pigeon returns the blob a pigeon's description stands for, when another
// program's format carries one: pigeon writes base64 JSON for programs that
// do not read blobs (--format json), and a pigeon that reads it must still
// run a pigeon session. A description is a pigeon's when a blob can carry
// it whole ([FromSDP]: its ICE credentials are derived from its
// fingerprint, which no other program does); its session name gives the
// offer's app (chat when an older pigeon wrote none) or the answer's
// binding (an answer without one is not taken as a pigeon's).
func (f *Foreign) Pigeon() (*Blob, bool) {
	b, err := fromSDP(f.Kind, f.SDP, true, Credentials)
	if err != nil {
		return nil, false
	}
	var sd sdp.SessionDescription
	named := sd.UnmarshalString(f.SDP) == nil && b.readSessionName(string(sd.SessionName))
	switch {
	case b.Kind == Offer && !named:
		b.App = AppChat
	case b.Kind == Answer && !named:
		// An older pigeon's answer names no offer: it is read as
		// another program's, which needs no binding.
		return nil, false
	}
	return b, true
}

// Base64JSON writes a description as base64 of JSON {"type","sdp"}, the
// form pion's examples and many browser pages read.
func Base64JSON(kind Kind, sdp string) string {
	raw, _ := json.Marshal(struct {
		Type string `json:"type"`
		SDP  string `json:"sdp"`
	}{kind.String(), sdp})
	return base64.StdEncoding.EncodeToString(raw)
}

package sdpcodec

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Decode decodes the canonical text form of a blob, exactly as [Blob.Encode]
// writes it: no white space, no lower case, no padding. Use [Parse] for text a
// human pasted.
//
// Errors wrap [ErrEmpty], [ErrTooLong], [ErrNotBlob], [ErrMultiple],
// [ErrTruncated], [ErrDamaged] or [ErrMalformed], or are a [*VersionError].
// Decode runs in time linear in len(text) and never panics.
func Decode(text string) (*Blob, error) {
	if text == "" {
		return nil, fmt.Errorf("%w: there is nothing to decode", ErrEmpty)
	}
	if len(text) > MaxTextLen {
		return nil, fmt.Errorf("%w: it has %d characters; a blob has at most %d", ErrTooLong, len(text), MaxTextLen)
	}
	if !strings.HasPrefix(text, Prefix) {
		if strings.HasPrefix(Prefix, text) {
			return nil, fmt.Errorf("%w: only %q is there; copy the whole blob", ErrTruncated, text)
		}
		if n := strings.Count(text, Prefix); n >= 2 {
			return nil, multipleError(n)
		}
		return nil, notBlobError(text)
	}
	b, err := decode(text)
	if err != nil {
		// A valid blob may spell the prefix in its payload by chance, so a
		// second prefix only counts when the text is not one valid blob.
		if n := strings.Count(text, Prefix); n >= 2 {
			return nil, multipleError(n)
		}
		return nil, err
	}
	return b, nil
}

func multipleError(n int) error {
	return fmt.Errorf("%w: %s appears %d times; paste only one blob", ErrMultiple, Prefix, n)
}

// notBlobError names the signaling format text looks like, if any.
func notBlobError(text string) error {
	hasPrefixFold := func(p string) bool {
		return len(text) >= len(p) && strings.EqualFold(text[:len(p)], p)
	}
	switch {
	case hasPrefixFold("eyJ"):
		return fmt.Errorf("%w: it looks like base64 JSON from pion's examples or a web page", ErrNotBlob)
	case strings.HasPrefix(text, "{"):
		return fmt.Errorf("%w: it looks like a JSON session description", ErrNotBlob)
	case hasPrefixFold("v=0"):
		return fmt.Errorf("%w: it looks like raw SDP", ErrNotBlob)
	case hasPrefixFold(Prefix):
		// Only reachable from Decode with lower-case text; Parse upper-cases.
		return fmt.Errorf("%w: it starts with %q, not %q (letters must be upper case)", ErrNotBlob, text[:len(Prefix)], Prefix)
	}
	return fmt.Errorf("%w: a pigeon blob starts with %s", ErrNotBlob, Prefix)
}

// decodeText turns the base32 characters after the prefix into bytes. canonical
// is false when the leftover bits are not fewer than 5 zero bits, that is when
// Encode could not have written this text.
func decodeText(text string) (buf []byte, canonical bool, err error) {
	payload := text[len(Prefix):]
	buf = make([]byte, 0, len(payload)*5/8)
	var acc uint32
	var bits uint
	pos := utf8.RuneCountInString(Prefix)
	for _, r := range payload {
		pos++
		var v uint32
		switch {
		case r >= 'A' && r <= 'Z':
			v = uint32(r - 'A')
		case r >= '2' && r <= '7':
			v = uint32(r-'2') + 26
		default:
			return nil, false, fmt.Errorf("%w: character %q at position %d cannot appear in a blob", ErrDamaged, r, pos)
		}
		acc = acc<<5 | v
		bits += 5
		if bits >= 8 {
			bits -= 8
			buf = append(buf, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	return buf, bits < 5 && acc == 0, nil
}

func decode(text string) (*Blob, error) {
	buf, canonical, err := decodeText(text)
	if err != nil {
		return nil, err
	}
	if len(buf) < headerLen {
		return nil, truncatedError()
	}
	version := int(buf[0] >> 5)
	switch version {
	case 0:
		return nil, fmt.Errorf("%w: format version 0 does not exist", ErrMalformed)
	case 1, carriedVersion, openVersion:
	default:
		return nil, &VersionError{Version: version}
	}
	kind, start := Offer, listStart
	switch {
	case buf[0]&0x10 != 0:
		kind = Answer
	case buf[0]&0xF == 0:
		kind, start = Reconnect, reconnectListStart
	}
	carried, open := version == carriedVersion, version == openVersion
	if open {
		if kind != Offer {
			return nil, fmt.Errorf("%w: a version %d blob is an offer", ErrMalformed, version)
		}
		start = listStart + openLen
	}
	if carried {
		if kind == Reconnect {
			return nil, fmt.Errorf("%w: a version %d blob is an offer or an answer (app 0 marks a reconnect blob)", ErrMalformed, version)
		}
		if start = credentialsEnd(buf, listStart); start == 0 {
			return nil, truncatedError()
		}
	}

	if len(buf) < start+trailerLen {
		return nil, classifyDamageAt(buf, kind, start, carried || open, false)
	}
	body, trailer := buf[:len(buf)-trailerLen], buf[len(buf)-trailerLen:]
	// The CRC-16 is checked first and the same way for every kind, so that
	// it also covers the kind bits; only then does the kind say what T holds.
	sum := crc16(buf[:len(buf)-2])
	sumOK := trailer[1] == byte(sum>>8) && trailer[2] == byte(sum)
	if sumOK && kind != Answer {
		sumOK = trailer[0] == crc8(body)
	}
	if !sumOK || !canonical {
		return nil, classifyDamageAt(buf, kind, start, carried || open, sumOK)
	}

	b := &Blob{Kind: kind}
	switch kind {
	case Offer:
		b.App = App(buf[0] & 0xF)
		copy(b.Fingerprint[:], buf[headerLen:listStart])
	case Answer:
		b.Binding = uint16(buf[0]&0xF)<<8 | uint16(trailer[0])
		copy(b.Fingerprint[:], buf[headerLen:listStart])
	case Reconnect:
		session := uint16(buf[1])<<8 | uint16(buf[2])
		b.Session, b.FromOfferer = session&maxSession, session&fromOffererBit != 0
		b.Generation = uint16(buf[3])<<8 | uint16(buf[4])
		if b.Generation == 0 {
			return nil, fmt.Errorf("%w: the reconnect blob has generation 0", ErrMalformed)
		}
	}
	if open {
		b.Open = readOpen(buf[listStart:start])
	}
	if carried {
		if b.Ufrag, b.Pwd, err = readCredentials(buf, listStart, start); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	if b.Candidates, err = parseCandidates(body[start:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

// classifyKindDamage is classifyDamage for a blob whose header says kind.
// A reconnect blob's header differs from that of an answer whose binding
// starts with four zero bits in the kind bit alone, so either may be the
// other damaged: such a header is called truncated only when the bytes are
// truncated under both layouts.
// classifyDamageAt is classifyKindDamage for a list that starts at start,
// after carried credentials or an open offer's fields when moved is set.
func classifyDamageAt(buf []byte, kind Kind, start int, moved, sumOK bool) error {
	if moved {
		return classifyDamage(buf, start, sumOK)
	}
	return classifyKindDamage(buf, kind, sumOK)
}

func classifyKindDamage(buf []byte, kind Kind, sumOK bool) error {
	start, other := listStart, reconnectListStart
	if kind == Reconnect {
		start, other = other, start
	}
	err := classifyDamage(buf, start, sumOK)
	if buf[0]&0xF == 0 && errors.Is(err, ErrTruncated) {
		if e := classifyDamage(buf, other, sumOK); !errors.Is(e, ErrTruncated) {
			return e
		}
	}
	return err
}

func truncatedError() error {
	return fmt.Errorf("%w: it ends too early; copy the whole blob", ErrTruncated)
}

// classifyDamage decides between truncation and damage for bytes whose checksum
// does not match or whose text is not canonical: it walks the candidate list,
// which starts at start, without judging it and checks whether the bytes end
// before the list and the trailer do.
func classifyDamage(buf []byte, start int, sumOK bool) error {
	p := start
	for {
		if p >= len(buf) {
			return truncatedError()
		}
		tag := buf[p]
		if tag == emptyListTag {
			p++
			break
		}
		p += 1 + familyLen[tag>>4&3]
		if tag&tagSamePort == 0 {
			p += 2
		}
		if p > len(buf) {
			return truncatedError()
		}
		if tag&tagLast != 0 {
			break
		}
	}
	if p+trailerLen > len(buf) {
		return truncatedError()
	}
	if sumOK {
		return fmt.Errorf("%w: its last characters do not fit; a character was added or changed", ErrDamaged)
	}
	return fmt.Errorf("%w: checksum mismatch: a character was changed", ErrDamaged)
}

// parseCandidates strictly parses a candidate list that must fill list exactly.
func parseCandidates(list []byte) ([]Candidate, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("the candidate list is missing")
	}
	if list[0] == emptyListTag {
		if len(list) != 1 {
			return nil, fmt.Errorf("%s follow the empty candidate list", byteCount(len(list)-1))
		}
		return nil, nil
	}
	var cands []Candidate
	p := 0
	for {
		n := len(cands) + 1
		if n > MaxCandidates {
			return nil, fmt.Errorf("more than %d candidates", MaxCandidates)
		}
		if p >= len(list) {
			return nil, fmt.Errorf("candidate %d is missing: the list has no last candidate", n)
		}
		tag := list[p]
		p++
		fam := tag >> 4 & 3
		if fam == familyReserved {
			return nil, fmt.Errorf("candidate %d uses the reserved address family (tag %#02x)", n, tag)
		}
		alen := familyLen[fam]
		if len(list)-p < alen {
			return nil, fmt.Errorf("candidate %d: the address runs into the checksum", n)
		}
		addr := list[p : p+alen]
		p += alen
		c := Candidate{Type: CandidateType(tag >> 2 & 3), Transport: Transport(tag & 3)}
		switch fam {
		case familyIPv4:
			c.Addr = netip.AddrFrom4([4]byte(addr))
		case familyIPv6:
			c.Addr = netip.AddrFrom16([16]byte(addr))
			if c.Addr.Is4In6() {
				return nil, fmt.Errorf("candidate %d: IPv6 address %s is an IPv4-mapped address", n, c.Addr)
			}
		case familyMDNS:
			c.Hostname = mdnsName(addr)
		}
		if tag&tagSamePort != 0 {
			if len(cands) == 0 {
				return nil, fmt.Errorf("the first candidate has no previous port to share")
			}
			c.Port = cands[len(cands)-1].Port
		} else {
			if len(list)-p < 2 {
				return nil, fmt.Errorf("candidate %d: the port runs into the checksum", n)
			}
			c.Port = uint16(list[p])<<8 | uint16(list[p+1])
			p += 2
			if len(cands) > 0 && c.Port == cands[len(cands)-1].Port {
				return nil, fmt.Errorf("candidate %d repeats the previous port %d without the same-port flag", n, c.Port)
			}
		}
		cands = append(cands, c)
		if tag&tagLast != 0 {
			break
		}
	}
	if p != len(list) {
		return nil, fmt.Errorf("%s follow the last candidate", byteCount(len(list)-p))
	}
	return cands, nil
}

func byteCount(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

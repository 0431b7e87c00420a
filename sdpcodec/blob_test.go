package sdpcodec

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// testFingerprint is 0x00, 0x01, ..., 0x1f.
func testFingerprint() (fp [32]byte) {
	for i := range fp {
		fp[i] = byte(i)
	}
	return fp
}

func oneHostOffer() *Blob {
	return &Blob{
		Kind:        Offer,
		App:         AppChat,
		Fingerprint: testFingerprint(),
		Candidates: []Candidate{
			{Type: Host, Transport: UDP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 5000},
		},
	}
}

func oneHostAnswer() *Blob {
	b := oneHostOffer()
	b.Kind, b.App, b.Binding = Answer, 0, 0x123
	return b
}

// Computed independently (Python: base64.b32encode and a bitwise CRC).
const (
	oneHostOfferText  = "PIGEONEEAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB7AGAAABACE4IWFCHE"
	oneHostAnswerText = "PIGEONGEAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB7AGAAABACE4IEPMOE"
)

func mustEncode(t testing.TB, b *Blob) string {
	t.Helper()
	s, err := b.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return s
}

func TestKnownEncoding(t *testing.T) {
	for _, tc := range []struct {
		blob *Blob
		text string
	}{
		{oneHostOffer(), oneHostOfferText},
		{oneHostAnswer(), oneHostAnswerText},
	} {
		got := mustEncode(t, tc.blob)
		if got != tc.text {
			t.Errorf("Encode(%s) = %s, want %s", tc.blob.Kind, got, tc.text)
		}
		if len(got) != 75 {
			t.Errorf("%s with one IPv4 host candidate is %d characters, want 75 (fits QR version 3)", tc.blob.Kind, len(got))
		}
		b, err := Decode(tc.text)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !reflect.DeepEqual(b, tc.blob) {
			t.Errorf("Decode = %+v, want %+v", b, tc.blob)
		}
	}
}

func TestSizes(t *testing.T) {
	v4 := func(s string, port uint16, typ CandidateType) Candidate {
		return Candidate{Type: typ, Addr: netip.MustParseAddr(s), Port: port}
	}
	for _, tc := range []struct {
		name  string
		cands []Candidate
		want  int
	}{
		{"one IPv4 host", []Candidate{v4("192.168.1.20", 50000, Host)}, 75},
		{"IPv4 and IPv6 host", []Candidate{v4("192.168.1.20", 50000, Host), v4("2001:db8::20", 50001, Host)}, 106},
		{"two IPv4 sharing a port", []Candidate{v4("192.168.1.20", 50000, Host), v4("10.0.0.20", 50000, Host)}, 83},
		{"host, srflx and relay", []Candidate{v4("192.168.1.20", 50000, Host), v4("203.0.113.7", 61000, Srflx), v4("198.51.100.9", 3478, Relay)}, 98},
		{"one mDNS host", []Candidate{{Hostname: "0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local", Port: 50000}}, 94},
		{"no candidates", nil, 66},
	} {
		b := &Blob{Kind: Offer, App: AppChat, Fingerprint: testFingerprint(), Candidates: tc.cands}
		s := mustEncode(t, b)
		if len(s) != tc.want {
			t.Errorf("%s: %d characters, want %d", tc.name, len(s), tc.want)
		}
		b.Kind, b.App, b.Binding = Answer, 0, 0xABC
		if s := mustEncode(t, b); len(s) != tc.want {
			t.Errorf("%s (answer): %d characters, want %d", tc.name, len(s), tc.want)
		}
	}
	// The longest blob still fits MaxTextLen comfortably.
	b := &Blob{Kind: Offer, App: AppChat}
	for i := range MaxCandidates {
		b.Candidates = append(b.Candidates, Candidate{Addr: netip.MustParseAddr("2001:db8::1"), Port: uint16(i)})
	}
	if s := mustEncode(t, b); len(s) != 550 || len(s) > MaxTextLen {
		t.Errorf("longest blob is %d characters, want 550", len(s))
	}
}

func randomCandidate(r *rand.Rand, prev *Candidate) Candidate {
	c := Candidate{Type: CandidateType(r.IntN(4)), Transport: Transport(r.IntN(4)), Port: uint16(r.IntN(65536))}
	if prev != nil && r.IntN(3) == 0 {
		c.Port = prev.Port
	}
	switch r.IntN(3) {
	case 0:
		var a [4]byte
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		c.Addr = netip.AddrFrom4(a)
	case 1:
		var a [16]byte
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		c.Addr = netip.AddrFrom16(a).Unmap()
	default:
		var id [16]byte
		for i := range id {
			id[i] = byte(r.Uint32())
		}
		c.Hostname = mdnsName(id[:])
	}
	return c
}

func randomBlob(r *rand.Rand) *Blob {
	b := &Blob{Kind: Offer, App: App(1 + r.IntN(15))}
	switch r.IntN(3) {
	case 1:
		b.Kind, b.App, b.Binding = Answer, 0, uint16(r.IntN(0x1000))
	case 2:
		b.Kind, b.App = Reconnect, 0
		b.Session, b.FromOfferer = uint16(r.IntN(maxSession+1)), r.IntN(2) == 0
		b.Generation = uint16(1 + r.IntN(0xFFFF))
	}
	if b.Kind != Reconnect {
		for i := range b.Fingerprint {
			b.Fingerprint[i] = byte(r.Uint32())
		}
	}
	n := r.IntN(MaxCandidates + 1)
	for i := range n {
		var prev *Candidate
		if i > 0 {
			prev = &b.Candidates[i-1]
		}
		b.Candidates = append(b.Candidates, randomCandidate(r, prev))
	}
	return b
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := randomBlob(r)
		s := mustEncode(t, b)
		got, err := Decode(s)
		if err != nil {
			t.Fatalf("Decode(%s) of %+v: %v", s, b, err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Fatalf("round trip of %s:\n got %+v\nwant %+v", s, got, b)
		}
		if strings.Count(s, Prefix) != 1 {
			t.Logf("payload spells the prefix and still decodes: %s", s)
		}
	}
}

func TestEncodeUnmapsAndRejects(t *testing.T) {
	b := oneHostOffer()
	b.Candidates[0].Addr = netip.MustParseAddr("::ffff:192.0.2.1")
	if s := mustEncode(t, b); s != oneHostOfferText {
		t.Errorf("4-in-6 address not written as IPv4: %s", s)
	}
	long := oneHostOffer()
	for len(long.Candidates) <= MaxCandidates {
		long.Candidates = append(long.Candidates, long.Candidates[0])
	}
	bad := map[string]*Blob{
		"app 0":            {Kind: Offer},
		"app 16":           {Kind: Offer, App: 16},
		"offer binding":    {Kind: Offer, App: 1, Binding: 1},
		"answer app":       {Kind: Answer, App: 1},
		"binding 0x1000":   {Kind: Answer, Binding: 0x1000},
		"kind 0":           {App: 1},
		"too many":         long,
		"zone":             {Kind: Offer, App: 1, Candidates: []Candidate{{Addr: netip.MustParseAddr("fe80::1%eth0")}}},
		"no address":       {Kind: Offer, App: 1, Candidates: []Candidate{{Port: 1}}},
		"not uuid":         {Kind: Offer, App: 1, Candidates: []Candidate{{Hostname: "myhost.local"}}},
		"upper-case uuid":  {Kind: Offer, App: 1, Candidates: []Candidate{{Hostname: "0B6B5C4E-8F0A-4A5E-9A38-3F6E0D1C2B7A.local"}}},
		"address and name": {Kind: Offer, App: 1, Candidates: []Candidate{{Hostname: "0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local", Addr: netip.MustParseAddr("192.0.2.1")}}},
		"candidate type 4": {Kind: Offer, App: 1, Candidates: []Candidate{{Type: 4, Addr: netip.MustParseAddr("192.0.2.1")}}},
		"transport type 4": {Kind: Offer, App: 1, Candidates: []Candidate{{Transport: 4, Addr: netip.MustParseAddr("192.0.2.1")}}},
	}
	for name, b := range bad {
		if _, err := b.Encode(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Encode error = %v, want ErrInvalid", name, err)
		}
	}
}

// mutants returns every single-character substitution (within the alphabet),
// deletion, insertion and adjacent transposition of s that differs from s.
func mutants(s string) []string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	seen := map[string]bool{s: true}
	var out []string
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for i := 0; i <= len(s); i++ {
		for _, c := range alphabet {
			add(s[:i] + string(c) + s[i:]) // insertion
			if i < len(s) {
				add(s[:i] + string(c) + s[i+1:]) // substitution
			}
		}
		if i < len(s) {
			add(s[:i] + s[i+1:]) // deletion
		}
		if i+1 < len(s) {
			add(s[:i] + s[i+1:i+2] + s[i:i+1] + s[i+2:]) // transposition
		}
	}
	return out
}

func TestEverySingleEditIsRejected(t *testing.T) {
	for _, text := range []string{oneHostOfferText, oneHostAnswerText} {
		count := map[string]int{}
		ms := mutants(text)
		flipped := flipKind(t, text)
		if !slices.Contains(ms, flipped) {
			t.Fatalf("mutants(%s) lacks the flipped-kind edit %s", text, flipped)
		}
		if _, err := Decode(flipped); !errors.Is(err, ErrDamaged) {
			t.Errorf("Decode(%s), %s with its kind bit flipped, = %v; want ErrDamaged", flipped, text, err)
		}
		for _, m := range ms {
			b, err := Decode(m)
			if err == nil {
				t.Errorf("Decode accepted %s, a one-character edit of %s: %+v", m, text, b)
				continue
			}
			for _, sentinel := range []error{ErrNotBlob, ErrTruncated, ErrDamaged, ErrMalformed, ErrMultiple} {
				if errors.Is(err, sentinel) {
					count[sentinel.Error()]++
				}
			}
			var ve *VersionError
			if errors.As(err, &ve) {
				count["version"]++
			}
		}
		t.Logf("%s: %v", text[:12], count)
	}
}

// flipKind returns text with only the kind bit of its header flipped, re-encoded
// without fixing the trailer.
func flipKind(t *testing.T, text string) string {
	t.Helper()
	buf, canonical, err := decodeText(text)
	if err != nil || !canonical || len(buf) == 0 {
		t.Fatalf("decodeText(%s) = %v, canonical %v", text, err, canonical)
	}
	buf[0] ^= 0x10
	return Prefix + textEncoding.EncodeToString(buf)
}

// TestFlippedKindIsDamaged checks the edit the trailer used to miss with
// probability 2^-16: a changed kind bit, which makes the decoder read the other
// kind's trailer. The CRC-16 covers the kind bit the same way for both kinds, so
// it is always caught.
func TestFlippedKindIsDamaged(t *testing.T) {
	texts := []string{oneHostOfferText, oneHostAnswerText}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		texts = append(texts, mustEncode(t, randomBlob(r)))
	}
	texts = append(texts, mustEncode(t, &Blob{Kind: Offer, App: AppChat}), mustEncode(t, &Blob{Kind: Answer, Binding: 0x123}))
	for _, text := range texts {
		flipped := flipKind(t, text)
		if flipped == text {
			t.Fatalf("flipKind(%s) changed nothing", text)
		}
		b, err := Decode(flipped)
		if !errors.Is(err, ErrDamaged) {
			t.Errorf("Decode(%s), %s with its kind bit flipped, = %+v, %v; want ErrDamaged", flipped, text, b, err)
		}
	}
}

// TestEverySubstitutionAndSwapIsRejected checks the CRC-16's guarantee on many
// blobs of both kinds: a changed character or two swapped adjacent characters
// change at most 10 contiguous bits, so they are always rejected.
func TestEverySubstitutionAndSwapIsRejected(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	r := rand.New(rand.NewPCG(7, 8))
	texts := []string{oneHostOfferText, oneHostAnswerText}
	for range 40 {
		texts = append(texts, mustEncode(t, randomBlob(r)))
	}
	for _, text := range texts {
		for i := len(Prefix); i < len(text); i++ {
			for _, c := range alphabet {
				if byte(c) == text[i] {
					continue
				}
				if m := text[:i] + string(c) + text[i+1:]; m != text {
					if _, err := Decode(m); err == nil {
						t.Errorf("Decode accepted %s, %s with character %d changed", m, text, i+1)
					}
				}
			}
			if i+1 < len(text) && text[i] != text[i+1] {
				m := text[:i] + text[i+1:i+2] + text[i:i+1] + text[i+2:]
				if _, err := Decode(m); err == nil {
					t.Errorf("Decode accepted %s, %s with characters %d and %d swapped", m, text, i+1, i+2)
				}
			}
		}
	}
}

func TestEveryTruncationIsRejected(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	texts := []string{oneHostOfferText, oneHostAnswerText}
	for range 50 {
		texts = append(texts, mustEncode(t, randomBlob(r)))
	}
	for _, text := range texts {
		for i := range len(text) {
			_, err := Decode(text[:i])
			switch {
			case i == 0 && errors.Is(err, ErrEmpty):
			case errors.Is(err, ErrTruncated):
			case err == nil:
				t.Errorf("Decode accepted %q, a prefix of %s", text[:i], text)
			default:
				// Another rejection: possible only in the rare case where the
				// cut bytes happen to carry a matching checksum.
				t.Logf("prefix %q of %s: %v", text[:i], text, err)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	longText := Prefix + strings.Repeat("A", MaxTextLen)
	for _, tc := range []struct {
		text    string
		want    error
		message string
	}{
		{"", ErrEmpty, "empty blob"},
		{longText, ErrTooLong, "input is too long"},
		{"PIG", ErrTruncated, "copy the whole blob"},
		{"eyJ0eXBlIjoib2ZmZXIi", ErrNotBlob, "base64 JSON"},
		{`{"type":"offer"}`, ErrNotBlob, "JSON session description"},
		{"v=0\r\no=- 1 2 IN IP4 127.0.0.1", ErrNotBlob, "raw SDP"},
		{"hello", ErrNotBlob, "starts with PIGEON"},
		{"pigeon" + oneHostOfferText[6:], ErrNotBlob, "upper case"},
		{oneHostOfferText + oneHostOfferText, ErrMultiple, "appears 2 times"},
		{"X" + oneHostOfferText + oneHostOfferText, ErrMultiple, "paste only one"},
		{oneHostOfferText[:11] + "0" + oneHostOfferText[12:], ErrDamaged, "character '0' at position 12 cannot appear in a blob"},
		{oneHostOfferText[:20] + "A" + oneHostOfferText[21:], ErrDamaged, "checksum mismatch"},
		{oneHostOfferText[:50], ErrTruncated, "ends too early"},
		{oneHostOfferText + "A", ErrDamaged, "a character was added"},
		{"PIGEONAA", ErrMalformed, "version 0"},
	} {
		_, err := Decode(tc.text)
		if !errors.Is(err, tc.want) {
			t.Errorf("Decode(%.30q) = %v, want %v", tc.text, err, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.message) {
			t.Errorf("Decode(%.30q) = %q, want it to contain %q", tc.text, err, tc.message)
		}
	}
	var ve *VersionError
	_, err := Decode("PIGEONQA")
	if !errors.As(err, &ve) || ve.Version != 4 || err.Error() != "blob uses format version 4; this pigeon reads versions 1 to 3" {
		t.Errorf("Decode of a version 4 header = %v", err)
	}
}

// rawBlob encodes body with the trailer of kind, bypassing Encode's checks.
func rawBlob(kind Kind, body []byte, binding byte) string {
	buf := appendTrailer(append([]byte(nil), body...), kind, binding)
	return Prefix + textEncoding.EncodeToString(buf)
}

func malformedBodies() map[string][]byte {
	head := func(h byte) []byte {
		fp := testFingerprint()
		return append([]byte{h}, fp[:]...)
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	v4 := []byte{192, 0, 2, 1}
	return map[string][]byte{
		"offer app 0":           cat(head(0x20), []byte{0x80}, v4, []byte{0, 1}),
		"no candidate list":     head(0x21),
		"reserved family":       cat(head(0x21), []byte{0xB4}),
		"empty tag not first":   cat(head(0x21), []byte{0x00}, v4, []byte{0, 1, 0xB0}),
		"first same-port":       cat(head(0x21), []byte{0xC0}, v4),
		"port repeated":         cat(head(0x21), []byte{0x00}, v4, []byte{0, 1, 0x80}, v4, []byte{0, 1}),
		"4-in-6":                cat(head(0x21), []byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, v4, []byte{0, 1}),
		"trailing byte":         cat(head(0x21), []byte{0x80}, v4, []byte{0, 1, 0}),
		"trailing after empty":  cat(head(0x21), []byte{0xB0, 0}),
		"no last candidate":     cat(head(0x21), []byte{0x00}, v4, []byte{0, 1}),
		"17 candidates":         cat(head(0x21), bytesRepeat(cat([]byte{0x00}, v4, []byte{0, 1}), 16, cat([]byte{0x80}, v4, []byte{0, 2}))),
		"address into checksum": cat(head(0x21), []byte{0x90}, v4),
	}
}

// bytesRepeat returns n copies of cand with distinct ports, followed by last.
func bytesRepeat(cand []byte, n int, last []byte) []byte {
	var b []byte
	for i := range n {
		c := append([]byte(nil), cand...)
		c[len(c)-1] = byte(10 + i)
		b = append(b, c...)
	}
	return append(b, last...)
}

func TestMalformed(t *testing.T) {
	for name, body := range malformedBodies() {
		text := rawBlob(Offer, body, 0)
		if _, err := Decode(text); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode(%s) = %v, want ErrMalformed", name, text, err)
		}
	}
}

func TestNonCanonicalBits(t *testing.T) {
	// The one-host offer has 1 leftover bit in its last character: setting it
	// changes no byte, yet the text is not what Encode writes.
	s := oneHostOfferText
	lastChar := s[len(s)-1]
	v := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", lastChar)
	alt := "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[v|1]
	if alt == lastChar {
		t.Fatal("test assumes the padding bit of the last character is 0")
	}
	_, err := Decode(s[:len(s)-1] + string(alt))
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("non-zero padding bit: %v, want ErrDamaged", err)
	}
}

func TestAnswersAndBinding(t *testing.T) {
	offer := oneHostOffer()
	offer.Fingerprint[0], offer.Fingerprint[1] = 0xAB, 0xCD
	if got := BindingOf(offer); got != 0xABC {
		t.Errorf("BindingOf = %#x, want 0xabc", got)
	}
	answer := oneHostAnswer()
	answer.Binding = 0xABC
	if !answer.Answers(offer) {
		t.Error("answer with the offer's binding does not answer it")
	}
	answer.Binding = 0xABD
	if answer.Answers(offer) {
		t.Error("answer with another binding answers the offer")
	}
	if offer.Answers(offer) {
		t.Error("an offer answers an offer")
	}
}

func TestCredentials(t *testing.T) {
	// Computed independently with Python's hashlib.
	ufrag, pwd := Credentials(testFingerprint())
	if ufrag != "44dc3096" || pwd != "91a77d85aee6d447b9eef23442bc88ef" {
		t.Errorf("Credentials = %q, %q", ufrag, pwd)
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Offer.String(), "offer"}, {Answer.String(), "answer"}, {Kind(7).String(), "kind 7"},
		{AppChat.String(), "chat"}, {AppSend.String(), "send"}, {AppPipe.String(), "pipe"},
		{AppShare.String(), "share"}, {App(9).String(), "app 9"},
		{Host.String(), "host"}, {Srflx.String(), "srflx"}, {Prflx.String(), "prflx"}, {Relay.String(), "relay"},
		{UDP.String(), "udp"}, {TCPActive.String(), "tcp-active"}, {TCPPassive.String(), "tcp-passive"}, {TCPSO.String(), "tcp-so"},
		{Candidate{Addr: netip.MustParseAddr("192.0.2.1"), Port: 5000}.String(), "host udp 192.0.2.1:5000"},
		{Candidate{Type: Srflx, Addr: netip.MustParseAddr("2001:db8::1"), Port: 5000}.String(), "srflx udp [2001:db8::1]:5000"},
		{Candidate{Transport: TCPPassive, Hostname: "0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local", Port: 9}.String(), "host tcp-passive 0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local:9"},
		{oneHostOffer().FingerprintString(), "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"PIGEONABC\n", "PIGEONABC"},
		{"  pigeon abc\r\n def  ", "PIGEONABCDEF"},
		{"\"PIGEONABC\"", "PIGEONABC"},
		{"“PIGEONABC”", "PIGEONABC"},
		{"«PIGEON\u200bABC»", "PIGEONABC"},
		{"```\nPIGEONABC\n```\n", "PIGEONABC"},
		{"```text\nPIGEON\nABC\n```", "PIGEONABC"},
		{"```PIGEONABC```", "PIGEONABC"},
		{"'PIGEON\u00a0ABC\ufeff'", "PIGEONABC"},
		{"PIGEONé", "PIGEONé"},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := Parse(strings.Repeat(" ", MaxInputLen+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Parse of a huge input = %v, want ErrTooLong", err)
	}
	if _, err := Parse(" \n\t "); !errors.Is(err, ErrEmpty) {
		t.Errorf("Parse of white space = %v, want ErrEmpty", err)
	}
	wrapped := "> ```\n> " + strings.ToLower(oneHostOfferText[:40]) + "\n" + oneHostOfferText[40:] + "\n```"
	if _, err := Parse(wrapped); err == nil {
		t.Errorf("Parse accepted a quoted markdown prefix %q", wrapped)
	}
	wrapped = "```\n" + strings.ToLower(oneHostOfferText[:40]) + "\n  " + oneHostOfferText[40:] + "\n```"
	if b, err := Parse(wrapped); err != nil || mustEncode(t, b) != oneHostOfferText {
		t.Errorf("Parse(%q) = %v", wrapped, err)
	}
}

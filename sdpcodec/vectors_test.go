package sdpcodec

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated test vectors in testdata/")

// A vector is one file of testdata/: header lines "key: value", an empty line,
// then the body, which the test feeds to Parse as it is.
type vector struct {
	name   string
	header map[string]string
	keys   []string // header keys in file order
	body   string
}

func (v *vector) set(key, value string) {
	if _, ok := v.header[key]; !ok {
		v.keys = append(v.keys, key)
	}
	v.header[key] = value
}

func (v *vector) marshal() []byte {
	var b bytes.Buffer
	for _, k := range v.keys {
		fmt.Fprintf(&b, "%s: %s\n", k, v.header[k])
	}
	b.WriteString("\n")
	b.WriteString(v.body)
	return b.Bytes()
}

func parseVector(name string, data []byte) (*vector, error) {
	v := &vector{name: name, header: map[string]string{}}
	text := string(data)
	for {
		line, rest, ok := strings.Cut(text, "\n")
		if !ok {
			return nil, errors.New("no empty line after the header")
		}
		text = rest
		if line == "" {
			break
		}
		k, val, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("header line %q is not \"key: value\"", line)
		}
		v.set(k, val)
	}
	v.body = text
	if v.header["expect"] == "" || v.header["comment"] == "" {
		return nil, errors.New("header lacks expect or comment")
	}
	return v, nil
}

// expectations maps each "expect" value to a check of Parse's error.
var expectations = map[string]func(error) bool{
	"success":       func(err error) bool { return err == nil },
	"empty":         func(err error) bool { return errors.Is(err, ErrEmpty) },
	"not a blob":    func(err error) bool { return errors.Is(err, ErrNotBlob) },
	"truncated":     func(err error) bool { return errors.Is(err, ErrTruncated) },
	"damaged":       func(err error) bool { return errors.Is(err, ErrDamaged) },
	"malformed":     func(err error) bool { return errors.Is(err, ErrMalformed) },
	"newer version": func(err error) bool { var ve *VersionError; return errors.As(err, &ve) },
	"too long":      func(err error) bool { return errors.Is(err, ErrTooLong) },
	"multiple":      func(err error) bool { return errors.Is(err, ErrMultiple) },
}

func loadVectors(t testing.TB) []*vector {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no test vectors found in testdata/*.txt")
	}
	var vs []*vector
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		v, err := parseVector(filepath.Base(p), data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestVectors(t *testing.T) {
	seen := map[string]int{}
	for _, v := range loadVectors(t) {
		t.Run(strings.TrimSuffix(v.name, ".txt"), func(t *testing.T) {
			expect := v.header["expect"]
			check, ok := expectations[expect]
			if !ok {
				t.Fatalf("unknown expect %q", expect)
			}
			seen[expect]++
			b, err := Parse(v.body)
			if !check(err) {
				t.Fatalf("Parse = %v, want %s (%s)", err, expect, v.header["comment"])
			}
			if err != nil {
				t.Logf("%v", err)
				return
			}
			text, err := b.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if text != Clean(v.body) {
				t.Errorf("re-encoded to %s, want Clean(body) %s", text, Clean(v.body))
			}
			for key, got := range map[string]string{
				"kind":       b.Kind.String(),
				"app":        b.App.String(),
				"binding":    fmt.Sprintf("%#03x", b.Binding),
				"session":    fmt.Sprintf("%#04x", b.Session),
				"from":       fromSide(b),
				"generation": strconv.Itoa(int(b.Generation)),
				"candidates": strconv.Itoa(len(b.Candidates)),
				"ufrag":      b.Ufrag,
				"pwd":        b.Pwd,
			} {
				if want, ok := v.header[key]; ok && want != got {
					t.Errorf("%s = %s, want %s", key, got, want)
				}
			}
		})
	}
	for expect := range expectations {
		if seen[expect] == 0 {
			t.Errorf("no vector expects %q", expect)
		}
	}
}

// vectorFingerprint returns a fixed fingerprint for the named vector.
func vectorFingerprint(label string) [32]byte {
	return sha256.Sum256([]byte("pigeon test vector " + label))
}

func successVector(name, comment string, b *Blob, body func(string) string) *vector {
	text, err := b.Encode()
	if err != nil {
		panic(fmt.Sprintf("vector %s: %v", name, err))
	}
	v := &vector{name: name, header: map[string]string{}}
	v.set("expect", "success")
	v.set("comment", comment)
	v.set("kind", b.Kind.String())
	switch b.Kind {
	case Offer:
		v.set("app", b.App.String())
	case Answer:
		v.set("binding", fmt.Sprintf("%#03x", b.Binding))
	case Reconnect:
		v.set("session", fmt.Sprintf("%#04x", b.Session))
		v.set("from", fromSide(b))
		v.set("generation", strconv.Itoa(int(b.Generation)))
	}
	v.set("candidates", strconv.Itoa(len(b.Candidates)))
	if b.CarriesCredentials() {
		v.set("ufrag", b.Ufrag)
		v.set("pwd", b.Pwd)
	}
	if body == nil {
		body = func(s string) string { return s + "\n" }
	}
	v.body = body(text)
	return v
}

// fromSide names the side a reconnect blob comes from.
func fromSide(b *Blob) string {
	if b.FromOfferer {
		return "offerer"
	}
	return "answerer"
}

func failVector(name, expect, comment, body string) *vector {
	v := &vector{name: name, header: map[string]string{}}
	v.set("expect", expect)
	v.set("comment", comment)
	v.body = body
	return v
}

// generatedVectors returns the vectors TestGenerateVectors writes.
func generatedVectors() []*vector {
	host := func(addr string, port uint16) Candidate {
		return Candidate{Addr: netip.MustParseAddr(addr), Port: port}
	}
	offer := func(label string, app App, cands ...Candidate) *Blob {
		return &Blob{Kind: Offer, App: app, Fingerprint: vectorFingerprint(label), Candidates: cands}
	}
	answer := func(label string, binding uint16, cands ...Candidate) *Blob {
		return &Blob{Kind: Answer, Binding: binding, Fingerprint: vectorFingerprint(label), Candidates: cands}
	}
	base := offer("offer-ipv4-host", AppChat, host("192.168.1.20", 50000))
	baseText, _ := base.Encode()
	ans := answer("answer-ipv4-host", BindingOf(base), host("192.168.1.30", 40000))
	ansText, _ := ans.Encode()
	var sixteen []Candidate
	for i := range MaxCandidates {
		sixteen = append(sixteen, host(fmt.Sprintf("2001:db8::%x", i+1), uint16(50000+i)))
	}
	replace := func(s string, i int, c string) string { return s[:i] + c + s[i+1:] }
	changed := replace(baseText, 40, string("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", baseText[40])+1)%32]))
	swapAt := 30
	for baseText[swapAt] == baseText[swapAt+1] {
		swapAt++
	}
	swapped := baseText[:swapAt] + baseText[swapAt+1:swapAt+2] + baseText[swapAt:swapAt+1] + baseText[swapAt+2:]

	chromium := offer("offer-chromium", AppChat, Candidate{Hostname: "4f6a1c2e-9b3d-4e5f-8a7b-6c5d4e3f2a1b.local", Port: 54321})
	chromium.Ufrag, chromium.Pwd = "fN3x", "q8W2yJ0kZ+f/LpTe5s9XuA1b"
	firefox := answer("answer-firefox", BindingOf(base),
		Candidate{Hostname: "9c8b7a6f-5e4d-4c3b-a2a1-0f9e8d7c6b5a.local", Port: 61234},
		Candidate{Type: Srflx, Addr: netip.MustParseAddr("203.0.113.9"), Port: 61234})
	firefox.Ufrag, firefox.Pwd = "a3f9c2d1", "5b7e0c4d9f1a2b3c4d5e6f708192a3b4"
	chromiumText, _ := chromium.Encode()
	v2 := func(ulen, plen byte, packed []byte) []byte {
		fp := vectorFingerprint("v2")
		body := append([]byte{0x41}, fp[:]...)
		body = append(body, ulen, plen)
		body = append(body, packed...)
		return append(body, 0x80, 192, 0, 2, 1, 0xC3, 0x50) // one IPv4 host candidate
	}
	creds := appendCredentials(nil, "fN3x", "q8W2yJ0kZ+f/LpTe5s9XuA1b")[2:]
	padded := appendCredentials(nil, "fN3xQ", "q8W2yJ0kZ+f/LpTe5s9XuA1b")[2:] // 29 characters: 2 bits of padding
	padded[len(padded)-1] |= 1

	vs := []*vector{
		successVector("offer_chromium", "a version 2 offer as the page makes it in Chromium: its own ICE credentials (4 + 24 characters), one mDNS host candidate", chromium, nil),
		successVector("answer_firefox", "a version 2 answer to offer_ipv4_host as the page makes it in Firefox: credentials of 8 + 32 characters, mDNS host and srflx on one port", firefox, nil),
		failVector("truncated_credentials", "truncated", "offer_chromium cut inside its ICE credentials", chromiumText[:70]+"\n"),
		failVector("malformed_credentials_padding", "malformed", "valid checksum, version 2, the credentials' padding bits not zero", rawBlob(Offer, v2(5, 24, padded), 0)+"\n"),
		failVector("malformed_credentials_short", "malformed", "valid checksum, version 2, an ICE password of 21 characters", rawBlob(Offer, v2(4, 21, appendCredentials(nil, "fN3x", "q8W2yJ0kZ+f/LpTe5s9Xu")[2:]), 0)+"\n"),
		failVector("malformed_credentials_reconnect", "malformed", "valid checksum, version 2 with app 0: reconnect blobs carry no credentials", rawBlob(Offer, append([]byte{0x40}, v2(4, 24, creds)[1:]...), 0)+"\n"),

		successVector("offer_ipv4_host", "an offer for chat with one IPv4 host candidate: 75 characters, QR version 3", base, nil),
		successVector("answer_ipv4_host", "an answer to offer_ipv4_host with one IPv4 host candidate", ans, nil),
		successVector("offer_ipv4_ipv6", "an offer for send with an IPv4 and an IPv6 host candidate", offer("offer-ipv4-ipv6", AppSend,
			host("192.168.1.20", 50000), host("2001:db8::20", 50001)), nil),
		successVector("offer_same_port", "an offer for pipe with two IPv4 candidates sharing a port (same-port flag)", offer("offer-same-port", AppPipe,
			host("192.168.1.20", 50000), host("10.0.0.20", 50000)), nil),
		successVector("offer_mdns", "an offer for chat with one mDNS host candidate", offer("offer-mdns", AppChat,
			Candidate{Hostname: "0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local", Port: 50000}), nil),
		successVector("offer_tcp_relay", "an offer for share with host, srflx and relay candidates over UDP and TCP", offer("offer-tcp-relay", AppShare,
			host("192.168.1.20", 50000),
			Candidate{Type: Host, Transport: TCPPassive, Addr: netip.MustParseAddr("192.168.1.20"), Port: 50001},
			Candidate{Type: Host, Transport: TCPActive, Addr: netip.MustParseAddr("192.168.1.20"), Port: 9},
			Candidate{Type: Srflx, Addr: netip.MustParseAddr("203.0.113.7"), Port: 61000},
			Candidate{Type: Prflx, Transport: TCPSO, Addr: netip.MustParseAddr("203.0.113.7"), Port: 61001},
			Candidate{Type: Relay, Addr: netip.MustParseAddr("198.51.100.9"), Port: 3478}), nil),
		successVector("offer_no_candidates", "an offer with an empty candidate list (tag 0xB0)", offer("offer-empty", AppChat), nil),
		successVector("reconnect_ipv4_host", "a reconnect blob from the answerer of offer_ipv4_host/answer_ipv4_host, ICE generation 1, one IPv4 host candidate: 30 characters",
			&Blob{Kind: Reconnect, Session: SessionOf(base.Fingerprint, ans.Fingerprint), Generation: 1, Candidates: []Candidate{host("192.168.7.30", 40000)}}, nil),
		successVector("reconnect_no_candidates", "a reconnect blob from the offerer with no candidates, generation 65535",
			&Blob{Kind: Reconnect, Session: SessionOf(base.Fingerprint, ans.Fingerprint), FromOfferer: true, Generation: 0xFFFF}, nil),
		successVector("answer_no_candidates", "an answer with no candidates: it still connects when the offerer is reachable", answer("answer-empty", 0xFFF), nil),
		successVector("offer_16_candidates", "the longest blob: 16 IPv6 candidates with their own ports, 550 characters", offer("offer-16", App(15), sixteen...), nil),
		successVector("paste_wrapped_quoted_lowercase", "a lower-cased paste, in quotes, wrapped at 24 characters with indentation and CRLF", base, func(s string) string {
			s = strings.ToLower(s)
			var b strings.Builder
			b.WriteString("  “")
			for i := 0; i < len(s); i += 24 {
				b.WriteString(s[i:min(i+24, len(s))])
				b.WriteString("\r\n    ")
			}
			b.WriteString("”\n")
			return b.String()
		}),
		successVector("paste_markdown_fence", "a paste inside a markdown code fence with an info string", ans, func(s string) string {
			return "```text\n" + s[:40] + "\n" + s[40:] + "\n```\n"
		}),
		successVector("paste_zero_width", "a paste with zero-width spaces, a no-break space and a byte order mark", base, func(s string) string {
			return "\ufeff" + s[:10] + "\u200b" + s[10:50] + "\u00a0" + s[50:] + "\u2060\n"
		}),

		failVector("empty", "empty", "nothing but white space was pasted", " \n\t\n"),
		failVector("not_blob_base64_json", "not a blob", "base64 JSON as pion's examples print it", "eyJ0eXBlIjoib2ZmZXIiLCJzZHAiOiJ2PTBcclxuIn0=\n"),
		failVector("not_blob_json", "not a blob", "a JSON session description", `{"type":"offer","sdp":"v=0\r\n"}`+"\n"),
		failVector("not_blob_sdp", "not a blob", "raw SDP", "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"),
		failVector("not_blob_text", "not a blob", "an unrelated message", "hello, here is my offer\n"),
		failVector("truncated", "truncated", "offer_ipv4_host cut after 60 characters, as a narrow terminal might", baseText[:60]+"\n"),
		failVector("truncated_prefix", "truncated", "only part of the prefix was copied", "PIGE\n"),
		failVector("truncated_answer", "truncated", "answer_ipv4_host without its last character", ansText[:len(ansText)-1]+"\n"),
		failVector("damaged_substitution", "damaged", "offer_ipv4_host with character 41 changed", changed+"\n"),
		failVector("damaged_transposition", "damaged", "offer_ipv4_host with two adjacent characters swapped", swapped+"\n"),
		failVector("damaged_character", "damaged", "offer_ipv4_host with a zero at position 12: '0' cannot appear in a blob", replace(baseText, 11, "0")+"\n"),
		failVector("damaged_extra_character", "damaged", "offer_ipv4_host with one character added at the end", baseText+"A\n"),
		failVector("newer_version", "newer version", "a header with version 4", rawBlob(Offer, append([]byte{0x81}, make([]byte, 40)...), 0)+"\n"),
		failVector("too_long", "too long", "more than MaxTextLen characters after cleaning", wrap(Prefix+strings.Repeat("A", MaxTextLen))),
		failVector("multiple", "multiple", "offer_ipv4_host pasted twice", baseText+"\n"+baseText+"\n"),
	}
	names := map[string]string{
		"offer app 0":           "malformed_app_0",
		"no candidate list":     "malformed_no_candidate_list",
		"reserved family":       "malformed_reserved_family",
		"empty tag not first":   "malformed_empty_tag_not_first",
		"first same-port":       "malformed_first_same_port",
		"port repeated":         "malformed_port_repeated",
		"4-in-6":                "malformed_ipv4_mapped_ipv6",
		"trailing byte":         "malformed_trailing_byte",
		"trailing after empty":  "malformed_trailing_after_empty",
		"no last candidate":     "malformed_no_last_candidate",
		"17 candidates":         "malformed_17_candidates",
		"address into checksum": "malformed_address_into_checksum",
	}
	for what, body := range malformedBodies() {
		vs = append(vs, failVector(names[what], "malformed", "valid checksum, invalid structure: "+what, rawBlob(Offer, body, 0)+"\n"))
	}
	vs = append(vs, failVector("malformed_version_0", "malformed", "valid checksum, header version 0", rawBlob(Offer, append([]byte{0x01}, make([]byte, 40)...), 0)+"\n"))
	return vs
}

// wrap breaks s into lines of 64 characters.
func wrap(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 64 {
		b.WriteString(s[i:min(i+64, len(s))])
		b.WriteString("\n")
	}
	return b.String()
}

// TestGenerateVectors rewrites the generated vectors with -update:
//
//	go test -run TestGenerateVectors ./sdpcodec/ -update
//
// Without -update it checks that the files on disk match the generator.
// Vectors added by hand (e.g. fuzz_*.txt) are left alone.
func TestGenerateVectors(t *testing.T) {
	for _, v := range generatedVectors() {
		if v.name == "" {
			t.Fatal("a generated vector has no name")
		}
		path := filepath.Join("testdata", v.name+".txt")
		data := v.marshal()
		if *update {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, data) {
			t.Errorf("%s is missing or out of date; run go test -run TestGenerateVectors -update", path)
		}
	}
}

package sdpcodec

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// A Chromium data-channel offer, as JSON.stringify(pc.localDescription)
// gives it (candidates with mDNS names, as browsers hide addresses).
const chromiumOffer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=candidate:2318405538 1 udp 2113937151 0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b7a.local 54376 typ host generation 0 network-cost 999\r\na=candidate:1 1 udp 2113939711 192.0.2.7 54377 typ host generation 0 network-cost 999\r\na=ice-ufrag:mA7p\r\na=ice-pwd:0H2xZ6qD3xY5bT8nLk1sQe9W\r\na=ice-options:trickle\r\na=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"

func TestParseForeignFormats(t *testing.T) {
	js, _ := json.Marshal(map[string]string{"type": "offer", "sdp": chromiumOffer})
	cases := map[string]struct {
		text   string
		format Format
	}{
		"base64 JSON":               {Base64JSON(Offer, chromiumOffer), FormatBase64JSON},
		"base64 JSON wrapped":       {wrap(Base64JSON(Offer, chromiumOffer)), FormatBase64JSON},
		"JSON":                      {string(js), FormatJSON},
		"JSON in quotes":            {"'" + string(js) + "'\n", FormatJSON},
		"raw SDP":                   {chromiumOffer, FormatSDP},
		"raw SDP with LF endings":   {strings.ReplaceAll(chromiumOffer, "\r\n", "\n"), FormatSDP},
		"raw SDP, indented by chat": {"  " + strings.ReplaceAll(chromiumOffer, "\r\n", "\n  "), FormatSDP},
	}
	for name, c := range cases {
		f, err := ParseForeign(c.text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if f.Kind != Offer || f.Format != c.format || f.SDP != chromiumOffer {
			t.Errorf("%s: got kind %s format %s, SDP equal %v", name, f.Kind, f.Format, f.SDP == chromiumOffer)
		}
		s, err := f.Summary()
		if err != nil {
			t.Fatalf("%s: Summary: %v", name, err)
		}
		if s.Fingerprint[0] != 0x6B || len(s.Candidates) != 2 || s.Candidates[0].Hostname == "" {
			t.Errorf("%s: summary %+v", name, s)
		}
	}
	answer := strings.Replace(chromiumOffer, "a=setup:actpass", "a=setup:active", 1)
	if f, err := ParseForeign(answer); err != nil || f.Kind != Answer {
		t.Errorf("raw SDP answer: %v, %v", f, err)
	}
}

func TestParseForeignRejects(t *testing.T) {
	bad := map[string]string{
		"plain text":         "hello there",
		"broken base64":      "eyJ0eXBlIjoib2ZmZXIi@@@",
		"JSON of a rollback": `{"type":"rollback","sdp":""}`,
		"JSON without SDP":   `{"type":"offer","sdp":"nonsense"}`,
		"SDP without setup":  strings.Replace(chromiumOffer, "a=setup:actpass\r\n", "", 1),
		"SDP without fingerprint": strings.Replace(chromiumOffer,
			"a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n", "", 1),
		"too long": "v=0" + strings.Repeat("x", MaxInputLen),
	}
	for name, text := range bad {
		if f, err := ParseForeign(text); !errors.Is(err, ErrForeign) {
			t.Errorf("%s: ParseForeign = %+v, %v; want ErrForeign", name, f, err)
		}
	}
}

// FuzzParseForeign: whatever reads as a description writes back as base64
// JSON that reads as the same description.
func FuzzParseForeign(f *testing.F) {
	f.Add(Base64JSON(Offer, chromiumOffer))
	f.Add(chromiumOffer)
	f.Add(`{"type":"answer","sdp":"v=0\r\n"}`)
	f.Fuzz(func(t *testing.T, text string) {
		d, err := ParseForeign(text)
		if err != nil {
			return
		}
		again, err := ParseForeign(Base64JSON(d.Kind, d.SDP))
		if err != nil || again.Kind != d.Kind || again.SDP != d.SDP {
			t.Fatalf("%q read as %+v, but its base64 JSON reads as %+v, %v", text, d, again, err)
		}
	})
}

// TestRecognize: the format is told from how the text starts, whatever its
// length, so a browser's description is never judged by a blob's limits.
func TestRecognize(t *testing.T) {
	js, _ := json.Marshal(map[string]string{"type": "offer", "sdp": chromiumOffer})
	long := Base64JSON(Offer, chromiumOffer+strings.Repeat("a=candidate:1 1 udp 1 192.0.2.9 9 typ host\r\n", 60))
	cases := map[string]Format{
		Base64JSON(Offer, chromiumOffer): FormatBase64JSON,
		long:                             FormatBase64JSON,
		"  \u200b\"" + long + "\"\n":     FormatBase64JSON,
		string(js):                       FormatJSON,
		chromiumOffer:                    FormatSDP,
		"PIGEONEHQIXMKPO62ZDEFP6":        FormatPigeon,
		" pigeon ehq":                    FormatPigeon,
		"```\nPIGEONEHQ":                 FormatPigeon,
		"hello":                          0,
		"":                               0,
	}
	if len(long) < 3000 {
		t.Fatalf("the long description has %d characters", len(long))
	}
	for text, want := range cases {
		if got := Recognize(text); got != want {
			t.Errorf("Recognize(%.40q) = %v, want %v", text, got, want)
		}
	}
}

// TestForeignPigeon: a pigeon's description written as base64 JSON reads
// back as the blob it stands for, app and binding included; browsers' and
// pion's descriptions are not taken for a pigeon's.
func TestForeignPigeon(t *testing.T) {
	offer := oneHostOffer()
	offer.App = AppShare
	f, err := ParseForeign(Base64JSON(Offer, offer.SDP()))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := f.Pigeon()
	if !ok || got.App != AppShare || got.Fingerprint != offer.Fingerprint || len(got.Candidates) != 1 {
		t.Fatalf("Pigeon() = %+v, %v", got, ok)
	}
	if name := f.Describe().Name; name != "pigeon" {
		t.Errorf("program %q", name)
	}

	answer := oneHostOffer()
	answer.Kind, answer.App, answer.Binding = Answer, 0, BindingOf(offer)
	f, err = ParseForeign(Base64JSON(Answer, answer.SDP()))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := f.Pigeon(); !ok || !got.Answers(offer) {
		t.Fatalf("answer: Pigeon() = %+v, %v", got, ok)
	}
	// An answer whose session name was lost names no offer: another
	// program's answer, then.
	f.SDP = strings.Replace(f.SDP, "s=pigeon answer", "s=-", 1)
	if _, ok := f.Pigeon(); ok {
		t.Error("an answer without a binding was taken for a pigeon's")
	}

	for _, sdp := range []string{chromiumOffer} {
		f, err := ParseForeign(sdp)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.Pigeon(); ok {
			t.Error("a browser's offer was taken for a pigeon's")
		}
	}
}

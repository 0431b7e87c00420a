package qrcode

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzRoundTrip checks the oracle that matters: whatever text PNG accepts,
// Decode reads back exactly. Blobs are upper-case base32 (alphanumeric mode);
// other printable ASCII takes byte mode.
func FuzzRoundTrip(f *testing.F) {
	f.Add(exampleBlob)
	f.Add(blob(106))
	f.Add(blob(550))
	f.Add("PIGEON")
	f.Add("0123456789")
	f.Add("HELLO WORLD $%*+-./:")
	f.Add("pigeon offer: {\"type\":\"offer\"}")
	f.Fuzz(func(t *testing.T, text string) {
		if text == "" || len(text) > 600 || !printableASCII(text) {
			t.Skip()
		}
		data, err := PNG(text, 2)
		if err != nil {
			t.Fatalf("PNG(%q): %v", text, err)
		}
		got, err := Decode(bytes.NewReader(data))
		if err != nil || got != text {
			t.Fatalf("Decode(PNG(%q)) = %q, %v", text, got, err)
		}
	})
}

func printableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return utf8.ValidString(s)
}

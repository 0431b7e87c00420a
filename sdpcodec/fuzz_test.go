package sdpcodec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func addVectorSeeds(f *testing.F, clean bool) {
	vs := loadVectors(f)
	for _, v := range vs {
		if clean {
			f.Add(Clean(v.body))
		} else {
			f.Add(v.body)
		}
	}
}

// FuzzDecode checks that Decode accepts only canonical text: whatever decodes
// re-encodes to exactly the same text, and decodes to the same blob again.
func FuzzDecode(f *testing.F) {
	addVectorSeeds(f, true)
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Decode(s)
		if err != nil {
			if b != nil {
				t.Fatalf("Decode returned a blob and error %v", err)
			}
			return
		}
		text, err := b.Encode()
		if err != nil {
			t.Fatalf("Decode(%q) = %+v, which does not encode: %v", s, b, err)
		}
		if text != s {
			t.Fatalf("Decode(%q) re-encodes to %q", s, text)
		}
		again, err := Decode(text)
		if err != nil || !reflect.DeepEqual(again, b) {
			t.Fatalf("second decode of %q = %+v, %v; want %+v", text, again, err, b)
		}
	})
}

// FuzzParse checks the oracle of Parse: whatever it accepts re-encodes to
// Clean of the input.
func FuzzParse(f *testing.F) {
	addVectorSeeds(f, false)
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Parse(s)
		if err != nil {
			return
		}
		text, err := b.Encode()
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, which does not encode: %v", s, b, err)
		}
		if c := Clean(s); text != c {
			t.Fatalf("Parse(%q) re-encodes to %q, want Clean = %q", s, text, c)
		}
	})
}

// FuzzStructure fuzzes the bytes under the checksum: it gives the body a valid
// trailer, so the fuzzer explores the structure instead of the checksum. A
// valid checksum on canonical text leaves only two outcomes: a blob that
// re-encodes to the same text, or a malformed or newer-version error.
func FuzzStructure(f *testing.F) {
	for _, v := range loadVectors(f) {
		text := Clean(v.body)
		if !strings.HasPrefix(text, Prefix) {
			continue
		}
		buf, _, err := decodeText(text)
		if err != nil || len(buf) < trailerLen {
			continue
		}
		f.Add(buf[:len(buf)-trailerLen], buf[len(buf)-trailerLen])
	}
	f.Fuzz(func(t *testing.T, body []byte, binding byte) {
		if len(body) == 0 || len(body) > 400 {
			return
		}
		kind := Offer
		if body[0]&0x10 != 0 {
			kind = Answer
		}
		text := rawBlob(kind, body, binding)
		b, err := Decode(text)
		if err != nil {
			var ve *VersionError
			if !errors.Is(err, ErrMalformed) && !errors.As(err, &ve) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMultiple) {
				t.Fatalf("Decode(%s) with a valid checksum = %v", text, err)
			}
			return
		}
		got, err := b.Encode()
		if err != nil || got != text {
			t.Fatalf("Decode(%s) = %+v re-encodes to %q, %v", text, b, got, err)
		}
	})
}

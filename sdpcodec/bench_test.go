package sdpcodec

import "testing"

func BenchmarkEncode(b *testing.B) {
	blob := oneHostOffer()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := blob.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(oneHostOfferText); err != nil {
			b.Fatal(err)
		}
	}
}

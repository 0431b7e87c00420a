package qrcode

import (
	"bytes"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	xdraw "golang.org/x/image/draw"
)

// BenchmarkDecodeScreenshot decodes a 1920×1080 PNG screenshot with windows,
// text and a 550-character blob's code (version 13, 4 pixels per module)
// off-centre: the typical input when one laptop shows the code and the other
// takes it from a screenshot.
func BenchmarkDecodeScreenshot(b *testing.B) {
	text := blob(550)
	data := encodePNG(b, screenshot(1920, 1080, color.RGBA{0xec, 0xec, 0xec, 0xff}, codeImage(b, text, 4), 1300, 400))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := Decode(bytes.NewReader(data))
		if err != nil || got != text {
			b.Fatalf("Decode = %q, %v", got, err)
		}
	}
}

// BenchmarkDecodePhoto decodes a 12-megapixel JPEG photo (4000×3000) of a
// screen showing a 106-character blob's code: the largest common input.
func BenchmarkDecodePhoto(b *testing.B) {
	text := blob(106)
	shot := screenshot(4000, 3000, color.White, resize(codeImage(b, text, 8), 3, xdraw.BiLinear), 2200, 900)
	data := encodeJPEG(b, photo(shot), 85)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := Decode(bytes.NewReader(data))
		if err != nil || got != text {
			b.Fatalf("Decode = %q, %v", got, err)
		}
	}
}

// BenchmarkDecodeNoCode measures the worst case of a screenshot: searching
// all of it, at every size and in every way, and finding nothing.
func BenchmarkDecodeNoCode(b *testing.B) {
	data := encodePNG(b, screenshot(1920, 1080, color.RGBA{0xec, 0xec, 0xec, 0xff}, nil, 0, 0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data)); err == nil {
			b.Fatal("Decode found a code in an image without one")
		}
	}
}

// BenchmarkDecodeNoise measures the worst input found: a 36-megapixel JPEG of
// random noise, where ZXing meets thousands of finder-pattern candidates.
// Searched at full size it took 31 s; halved first (workPixels), about 1.5 s.
func BenchmarkDecodeNoise(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	img := image.NewGray(image.Rect(0, 0, 6000, 6000))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	data := encodeJPEG(b, img, 70)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data)); err == nil {
			b.Fatal("Decode found a code in noise")
		}
	}
}

func BenchmarkPNG(b *testing.B) {
	text := blob(550)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PNG(text, 8); err != nil {
			b.Fatal(err)
		}
	}
}

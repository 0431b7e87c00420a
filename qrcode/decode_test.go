package qrcode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"
	"rsc.io/qr"
)

var blobs = []string{exampleBlob, blob(106), blob(550)}

func decodeBytes(t testing.TB, data []byte) (string, error) {
	t.Helper()
	return Decode(bytes.NewReader(data))
}

func TestRoundTrip(t *testing.T) {
	for _, text := range blobs {
		for _, scale := range []int{2, 4, 8} {
			data, err := PNG(text, scale)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeBytes(t, data)
			if err != nil || got != text {
				t.Errorf("%d chars at scale %d: Decode = %q, %v; want the input", len(text), scale, got, err)
			}
		}
	}
}

// sweep returns blob lengths from 20 to 600 in steps of step, and the lengths
// 440 and 476, whose codes drawn with rsc.io/qr's fixed mask 0 hold
// finder-like patterns (see mask.go).
func sweep(step int) []int {
	ns := []int{440, 476}
	for n := 20; n <= 600; n += step {
		ns = append(ns, n)
	}
	return ns
}

// TestSmallScales decodes blobs of many sizes at 2 and 3 pixels per module,
// alone and in a screenshot: the smallest codes a display shows. Drawn with
// rsc.io/qr's fixed mask 0, blobs of 440 and 476 characters were not found
// here.
func TestSmallScales(t *testing.T) {
	rgba := screenshot(640, 400, color.RGBA{0xec, 0xec, 0xec, 0xff}, nil, 0, 0)
	desktop := image.NewGray(rgba.Bounds()) // grey pixels keep the test quick under -race
	draw.Draw(desktop, desktop.Bounds(), rgba, image.Point{}, draw.Src)
	for _, scale := range []int{2, 3} {
		t.Run(fmt.Sprintf("scale %d", scale), func(t *testing.T) {
			t.Parallel()
			for i, n := range sweep(4) {
				text := blob(n)
				data, err := PNG(text, scale)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := decodeBytes(t, data); err != nil || got != text {
					t.Errorf("%d chars: Decode = %q, %v", n, got, err)
				}
				if i%6 != 0 && n != 440 && n != 476 {
					continue // a screenshot for every sixth length
				}
				code, err := png.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				shot := image.NewGray(desktop.Bounds())
				copy(shot.Pix, desktop.Pix)
				draw.Draw(shot, code.Bounds().Add(image.Pt(380, 80)), code, image.Point{}, draw.Src)
				if got, err := decodeBytes(t, encodePNG(t, shot)); err != nil || got != text {
					t.Errorf("%d chars in a screenshot: Decode = %q, %v", n, got, err)
				}
			}
		})
	}
}

// TestFixedMask decodes codes drawn as rsc.io/qr draws them, always with
// mask 0, as the terminal shows them: a few hold finder-like patterns that
// only the quick search or the pure read get past (blob(440) at 3 pixels per
// module, for one).
func TestFixedMask(t *testing.T) {
	for _, scale := range []int{2, 3, 4} {
		for _, n := range sweep(8) {
			text := blob(n)
			code, err := qr.Encode(text, qr.L)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := decodeBytes(t, encodePNG(t, render(code, scale))); err != nil || got != text {
				t.Errorf("%d chars at scale %d: Decode = %q, %v", n, scale, got, err)
			}
		}
	}
}

// TestRobust decodes what a screenshot or a photo of a screen makes of the
// code. Every blob size must survive every change.
func TestRobust(t *testing.T) {
	grey := color.RGBA{0x80, 0x80, 0x80, 0xff}
	cases := []struct {
		name string
		make func(t testing.TB, code image.Image) []byte
	}{
		{"scaled 0.6x catmull-rom", func(t testing.TB, c image.Image) []byte {
			return encodePNG(t, resize(c, 0.6, xdraw.CatmullRom))
		}},
		{"scaled 1.7x bilinear", func(t testing.TB, c image.Image) []byte {
			return encodePNG(t, resize(c, 1.7, xdraw.BiLinear))
		}},
		{"rotated 90", func(t testing.TB, c image.Image) []byte { return encodePNG(t, rotate90(c, 1)) }},
		{"rotated 180", func(t testing.TB, c image.Image) []byte { return encodePNG(t, rotate90(c, 2)) }},
		{"rotated 270", func(t testing.TB, c image.Image) []byte { return encodePNG(t, rotate90(c, 3)) }},
		{"rotated 7 on white", func(t testing.TB, c image.Image) []byte {
			return encodePNG(t, rotate(c, 7, color.White))
		}},
		{"rotated -12 on grey", func(t testing.TB, c image.Image) []byte {
			return encodePNG(t, rotate(c, -12, grey))
		}},
		{"mirrored (webcam)", func(t testing.TB, c image.Image) []byte { return encodePNG(t, mirror(c)) }},
		{"inverted (dark terminal)", func(t testing.TB, c image.Image) []byte { return encodePNG(t, invert(c)) }},
		{"JPEG quality 70", func(t testing.TB, c image.Image) []byte { return encodeJPEG(t, c, 70) }},
		{"in a light screenshot", func(t testing.TB, c image.Image) []byte {
			return encodePNG(t, screenshot(1440, 900, color.RGBA{0xec, 0xec, 0xec, 0xff}, c, 820, 330))
		}},
		{"in a grey screenshot", func(t testing.TB, c image.Image) []byte {
			return encodePNG(t, screenshot(1280, 800, grey, c, 700, 70))
		}},
		{"in a screenshot as JPEG quality 70", func(t testing.TB, c image.Image) []byte {
			return encodeJPEG(t, screenshot(1440, 900, color.White, c, 900, 250), 70)
		}},
		{"in a dark-mode screenshot, inverted", func(t testing.TB, c image.Image) []byte {
			return encodePNG(t, screenshot(1440, 900, color.RGBA{0x1e, 0x1e, 0x1e, 0xff}, invert(c), 800, 300))
		}},
		{"photo: turned 4, scaled 1.3x, blurred, noisy, JPEG 70", func(t testing.TB, c image.Image) []byte {
			shot := screenshot(1280, 800, color.White, c, 720, 200)
			return encodeJPEG(t, photo(resize(rotate(shot, 4, color.Black), 1.3, xdraw.BiLinear)), 70)
		}},
	}
	for _, text := range blobs {
		code := codeImage(t, text, 4)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%d chars", tc.name, len(text)), func(t *testing.T) {
				t.Parallel()
				got, err := decodeBytes(t, tc.make(t, code))
				if err != nil || got != text {
					t.Fatalf("Decode = %q, %v; want the %d-char input", got, err, len(text))
				}
			})
		}
	}
}

// TestLargeImage decodes a code in a 36-megapixel image, which is halved to 9
// megapixels before the search (see workPixels).
func TestLargeImage(t *testing.T) {
	text := blob(106)
	img := image.NewGray(image.Rect(0, 0, 7200, 5000))
	for i := range img.Pix {
		img.Pix[i] = 0xf0
	}
	code := codeImage(t, text, 12)
	draw.Draw(img, code.Bounds().Add(image.Pt(4100, 2300)), code, image.Point{}, draw.Src)
	data := encodeJPEG(t, img, 70)
	if got, err := decodeBytes(t, data); err != nil || got != text {
		t.Fatalf("Decode = %q, %v; want the %d-char input", got, err, len(text))
	}
}

func TestNoCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"screenshot without a code", encodePNG(t, screenshot(1440, 900, color.RGBA{0xec, 0xec, 0xec, 0xff}, nil, 0, 0))},
		{"JPEG screenshot without a code", encodeJPEG(t, screenshot(1280, 800, color.White, nil, 0, 0), 70)},
		{"blank", encodePNG(t, image.NewGray(image.Rect(0, 0, 300, 200)))},
		{"tiny", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))},
		{"code cut in half", encodePNG(t, codeImage(t, blob(106), 4).(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(0, 0, 164, 82)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeBytes(t, tc.data)
			if !errors.Is(err, ErrNoCode) {
				t.Fatalf("Decode = %q, %v; want ErrNoCode", got, err)
			}
			t.Log(err)
		})
	}
}

// TestUnreadable damages the data area of a code beyond what level L can
// correct, keeping its finder patterns: the code is found but not read.
func TestUnreadable(t *testing.T) {
	text := blob(550) // version 13: 69 modules, finder patterns in 3 corners
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, (69+8)*scale, (69+8)*scale))
	xdraw.Draw(img, img.Bounds(), codeImage(t, text, scale), image.Point{}, xdraw.Src)
	r := rand.New(rand.NewPCG(3, 4))
	for my := 12; my < 60; my++ {
		for mx := 12; mx < 60; mx++ {
			if r.IntN(3) == 0 { // flip a third of the modules in the middle
				for y := range scale {
					for x := range scale {
						px := (QuietZone+mx)*scale + x
						py := (QuietZone+my)*scale + y
						img.Pix[img.PixOffset(px, py)] ^= 0xff
					}
				}
			}
		}
	}
	got, err := decodeBytes(t, encodePNG(t, img))
	if !errors.Is(err, ErrNoCode) || !strings.Contains(err.Error(), "could not be read") {
		t.Fatalf("Decode = %q, %v; want ErrNoCode saying a code was found but could not be read", got, err)
	}
	t.Log(err)
}

func TestNotImage(t *testing.T) {
	code := encodePNG(t, codeImage(t, exampleBlob, 4))
	jpg := encodeJPEG(t, codeImage(t, exampleBlob, 4), 70)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"blob as text", []byte(exampleBlob + "\n"), "text"},
		{"UTF-8 text cut mid-character", []byte("PIGEON héllo wörld"), "text"},
		{"text starting like a BMP", []byte("BMW owners' manual\n"), "text"},
		{"BMP", []byte("BM\x36\x10\x0e\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00"), "BMP"},
		{"short", []byte{0x89, 'P'}, "bytes"},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00"), "GIF"},
		{"HEIC photo", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "HEIC"},
		{"WebP", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), "WebP"},
		{"zeros", make([]byte, 100), "bytes"},
		{"PNG magic only", code[:8], "header"},
		{"PNG cut short", code[:len(code)/2], "damaged PNG image"},
		{"PNG with a corrupt header", append(append(append([]byte{}, code[:16]...), 0xff, 0xff), code[18:]...), "header"},
		{"JPEG cut short", jpg[:len(jpg)/3], "damaged JPEG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeBytes(t, tc.data)
			if !errors.Is(err, ErrNotImage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode = %q, %v; want ErrNotImage mentioning %q", got, err, tc.want)
			}
			t.Log(err)
		})
	}
}

func TestIsImage(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want bool
	}{
		{encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1))), true},
		{encodeJPEG(t, image.NewGray(image.Rect(0, 0, 1, 1)), 70), true},
		{[]byte("\x89PNG\r\n\x1a\n"), true},
		{[]byte("\x89PNG\r\n"), false},
		{[]byte{0xff, 0xd8, 0xff}, true},
		{[]byte{0xff, 0xd8}, false},
		{[]byte(exampleBlob), false},
		{nil, false},
	} {
		if got := IsImage(tc.data); got != tc.want {
			t.Errorf("IsImage(% x) = %v, want %v", tc.data[:min(len(tc.data), 8)], got, tc.want)
		}
	}
}

// pngHeader returns the start of a PNG file whose header announces w×h
// pixels, with a valid checksum, and no pixel data.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 0, 25)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 13)
	ihdr = append(ihdr, "IHDR"...)
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	ihdr = binary.BigEndian.AppendUint32(ihdr, crc32.ChecksumIEEE(ihdr[4:]))
	return append([]byte("\x89PNG\r\n\x1a\n"), ihdr...)
}

// jpegHeader returns the start of a baseline JPEG file whose frame header
// announces w×h pixels, and no scan.
func jpegHeader(w, h uint16) []byte {
	b := []byte{0xff, 0xd8,
		0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, // JFIF
		0xff, 0xc0, 0, 17, 8}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	return append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
}

// TestHugeHeader checks that an image announcing more pixels than the limits
// is refused from its header, quickly and without allocating its pixels.
func TestHugeHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"PNG 100000x100000", pngHeader(100000, 100000)},
		{"PNG 8001x10", pngHeader(MaxSide+1, 10)},
		{"PNG 7000x7000", pngHeader(7000, 7000)}, // 49 megapixels
		{"JPEG 60000x60000", jpegHeader(60000, 60000)},
		{"JPEG 8000x6000", jpegHeader(8000, 6000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			got, err := decodeBytes(t, tc.data)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Decode = %q, %v; want ErrTooLarge", got, err)
			}
			t.Log(err)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("Decode allocated %d bytes to refuse it", alloc)
			}
			if elapsed > time.Second {
				t.Errorf("Decode took %v to refuse it", elapsed)
			}
		})
	}
	// Just within the limits, the header is accepted and the missing pixel
	// data is what fails.
	if _, err := decodeBytes(t, pngHeader(MaxSide, MaxPixels/MaxSide)); !errors.Is(err, ErrNotImage) {
		t.Errorf("PNG at the limits: Decode error = %v, want ErrNotImage (no pixel data)", err)
	}
}

// endless is an io.Reader of a PNG signature followed by zeros without end.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		if e.n < 8 {
			p[i] = "\x89PNG\r\n\x1a\n"[e.n]
		} else {
			p[i] = 0
		}
		e.n++
	}
	return len(p), nil
}

func TestInputTooLarge(t *testing.T) {
	r := &endless{}
	got, err := Decode(r)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Decode = %q, %v; want ErrTooLarge", got, err)
	}
	if r.n > MaxInputSize+64<<10 {
		t.Errorf("Decode read %d bytes, want about %d", r.n, MaxInputSize)
	}
	t.Log(err)
}

func TestReadError(t *testing.T) {
	want := errors.New("disk on fire")
	r := io.MultiReader(bytes.NewReader(pngHeader(10, 10)), iotestErr{want})
	if _, err := Decode(r); !errors.Is(err, want) {
		t.Fatalf("Decode error = %v, want it to wrap %v", err, want)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

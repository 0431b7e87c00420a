package qrcode

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"strings"
	"testing"

	"rsc.io/qr"
)

func TestVersionBlobs(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{exampleBlob, 3},
		{blob(75), 3},
		{blob(106), 4},
		{blob(550), 13},
	} {
		got, err := Version(tc.text)
		if err != nil || got != tc.want {
			t.Errorf("Version(%d chars) = %d, %v; want %d", len(tc.text), got, err, tc.want)
		}
	}
}

// TestVersionCapacity checks Version against the capacity table of the QR
// standard (ISO/IEC 18004, table 7, level L): the most characters each version
// holds. One more character needs the next version.
func TestVersionCapacity(t *testing.T) {
	alnum := map[int]int{1: 25, 2: 47, 3: 77, 4: 114, 5: 154, 6: 195, 7: 224, 8: 279,
		9: 335, 10: 395, 11: 468, 12: 535, 13: 619, 14: 667, 20: 1249, 27: 2132, 40: 4296}
	bytesMode := map[int]int{1: 17, 2: 32, 3: 53, 4: 78, 10: 271, 40: 2953}
	check := func(mode string, table map[int]int, text func(int) string) {
		for v, n := range table {
			if got, err := Version(text(n)); err != nil || got != v {
				t.Errorf("%s: Version(%d chars) = %d, %v; want %d", mode, n, got, err, v)
			}
			got, err := Version(text(n + 1))
			if v == 40 {
				if !errors.Is(err, ErrTextTooLong) {
					t.Errorf("%s: Version(%d chars) = %d, %v; want ErrTextTooLong", mode, n+1, got, err)
				}
			} else if err != nil || got != v+1 {
				t.Errorf("%s: Version(%d chars) = %d, %v; want %d", mode, n+1, got, err, v+1)
			}
		}
	}
	check("alphanumeric", alnum, func(n int) string { return blob(n) })
	check("byte", bytesMode, func(n int) string { return strings.Repeat("pigeon!", n)[:n] })
}

// TestVersionMatchesEncoder checks that Version is the version of the code
// that rsc.io/qr draws, for every length a blob can have.
func TestVersionMatchesEncoder(t *testing.T) {
	for n := 1; n <= 700; n++ {
		text := blob(n)
		v, err := Version(text)
		if err != nil {
			t.Fatalf("Version(%d chars): %v", n, err)
		}
		code, err := qr.Encode(text, qr.L)
		if err != nil {
			t.Fatalf("qr.Encode(%d chars): %v", n, err)
		}
		if code.Size != 17+4*v {
			t.Fatalf("%d chars: Version = %d, but rsc.io/qr drew %d modules, not %d", n, v, code.Size, 17+4*v)
		}
	}
}

// TestRenderMatchesEncoder compares render at scale 8 pixel for pixel with
// the PNG rsc.io/qr writes itself for the same code, quiet zone included.
func TestRenderMatchesEncoder(t *testing.T) {
	for _, text := range []string{exampleBlob, blob(106), blob(550), "hello, world"} {
		code, err := qr.Encode(text, qr.L)
		if err != nil {
			t.Fatal(err)
		}
		want, err := png.Decode(bytes.NewReader(code.PNG()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(bytes.NewReader(encodePNG(t, render(code, 8))))
		if err != nil {
			t.Fatal(err)
		}
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%d chars: render gives %v, rsc.io/qr %v", len(text), got.Bounds(), want.Bounds())
		}
		for y := range want.Bounds().Dy() {
			for x := range want.Bounds().Dx() {
				if !sameGray(got, want, x, y) {
					t.Fatalf("%d chars: pixel (%d, %d) differs from rsc.io/qr's PNG", len(text), x, y)
				}
			}
		}
	}
}

// TestMask checks that encode keeps rsc.io/qr's version and data, changing
// only the mask: the code decodes to the text, at the version qr.Encode picks.
// Blob lengths 440 and 476 are ones whose mask-0 code (what qr.Encode draws)
// ZXing cannot find at 3 pixels per module; see TestSmallScales.
func TestMask(t *testing.T) {
	for _, n := range []int{75, 106, 440, 476, 550} {
		text := blob(n)
		plain, err := qr.Encode(text, qr.L)
		if err != nil {
			t.Fatal(err)
		}
		code, err := encode(text)
		if err != nil {
			t.Fatal(err)
		}
		if code.Size != plain.Size {
			t.Errorf("%d chars: encode made %d modules, qr.Encode %d", n, code.Size, plain.Size)
		}
		got, err := Decode(bytes.NewReader(encodePNG(t, render(code, 4))))
		if err != nil || got != text {
			t.Errorf("%d chars: Decode = %q, %v", n, got, err)
		}
	}
}

func sameGray(a, b image.Image, x, y int) bool {
	ra, _, _, _ := a.At(x, y).RGBA()
	rb, _, _, _ := b.At(x, y).RGBA()
	return ra == rb
}

// TestPNGGeometry checks the size, quiet zone and module size at several scales.
func TestPNGGeometry(t *testing.T) {
	text := blob(106) // version 4: 33 modules
	code, err := encode(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, scale := range []int{1, 3, 5, 10} {
		data, err := PNG(text, scale)
		if err != nil {
			t.Fatalf("PNG(scale %d): %v", scale, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if side := (33 + 8) * scale; img.Bounds() != image.Rect(0, 0, side, side) {
			t.Fatalf("scale %d: image is %v, want %dx%d", scale, img.Bounds(), side, side)
		}
		for y := range img.Bounds().Dy() {
			for x := range img.Bounds().Dx() {
				mx, my := x/scale-QuietZone, y/scale-QuietZone
				r, _, _, _ := img.At(x, y).RGBA()
				if black := r == 0; black != code.Black(mx, my) {
					t.Fatalf("scale %d: pixel (%d, %d) black=%v, module (%d, %d) black=%v",
						scale, x, y, black, mx, my, code.Black(mx, my))
				}
			}
		}
	}
}

func TestPNGErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		scale int
		want  error
	}{
		{"zero scale", exampleBlob, 0, ErrBadScale},
		{"negative scale", exampleBlob, -3, ErrBadScale},
		{"image wider than MaxSide", blob(550), MaxSide/(17+4*13+8) + 1, ErrBadScale},
		{"too long", blob(4297), 1, ErrTextTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := PNG(tc.text, tc.scale)
			if !errors.Is(err, tc.want) || data != nil {
				t.Fatalf("PNG = %d bytes, %v; want %v", len(data), err, tc.want)
			}
		})
	}
}

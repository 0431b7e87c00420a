package qrcode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"rsc.io/qr"
)

// QuietZone is the width, in modules, of the white border [PNG] draws around
// the code, as the QR standard asks for.
const QuietZone = 4

// Version returns the QR version, 1 to 40, that [PNG] uses for text: the
// smallest that holds it at error correction level L. A version v code is
// 17+4v modules on a side, before the quiet zone.
func Version(text string) (int, error) {
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		// rsc.io/qr fails only when no version is large enough.
		return 0, fmt.Errorf("%w: %d characters: %v", ErrTextTooLong, len(text), err)
	}
	return (code.Size - 17) / 4, nil
}

// PNG renders text as a QR code in a PNG image: error correction level L,
// alphanumeric mode when the text allows it, a [QuietZone] of 4 white modules
// on every side, and each module scale×scale black or white pixels. The image
// is (17+4v+8)·scale pixels on a side for version v (see [Version]).
//
// It returns [ErrTextTooLong] when text does not fit in a QR code and
// [ErrBadScale] when scale is below 1 or the image would be wider than
// [MaxSide] pixels.
func PNG(text string, scale int) ([]byte, error) {
	code, err := encode(text)
	if err != nil {
		return nil, err
	}
	modules := code.Size + 2*QuietZone
	if scale < 1 || scale > MaxSide/modules {
		return nil, fmt.Errorf("%w: scale %d for a %d-module code, want 1..%d to stay within %d pixels",
			ErrBadScale, scale, modules, MaxSide/modules, MaxSide)
	}
	// The default compression level makes files as small as the best level
	// does for these two-colour images (about 1.4 KB for 550 characters at 8
	// pixels per module), four times faster.
	var buf bytes.Buffer
	if err := png.Encode(&buf, render(code, scale)); err != nil {
		return nil, fmt.Errorf("encode QR code as PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// render draws code as a two-colour image, which image/png stores at one bit
// per pixel.
func render(code *qr.Code, scale int) *image.Paletted {
	const black = 1 // palette index; index 0 is white
	side := (code.Size + 2*QuietZone) * scale
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}})
	// A new image is all index 0: white, the quiet zone and the light modules.
	for y := range code.Size {
		row := img.Pix[(QuietZone+y)*scale*img.Stride:][:side]
		for x := range code.Size {
			if code.Black(x, y) {
				px := row[(QuietZone+x)*scale:][:scale]
				for i := range px {
					px[i] = black
				}
			}
		}
		for i := 1; i < scale; i++ {
			copy(img.Pix[((QuietZone+y)*scale+i)*img.Stride:][:side], row)
		}
	}
	return img
}

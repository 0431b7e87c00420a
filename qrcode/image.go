package qrcode

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"unicode/utf8"
)

// Limits on the input to [Decode]. A screenshot of a 5K display is 14.7
// megapixels and a 12-megapixel phone photo is 4000×3000, well within them; a
// decoded image of MaxPixels takes at most 160 MB before the QR search.
const (
	// MaxInputSize is the largest image file Decode reads, in bytes.
	MaxInputSize = 20 << 20
	// MaxSide is the most pixels an image may have on either side.
	MaxSide = 8000
	// MaxPixels is the most pixels an image may have in all.
	MaxPixels = 40_000_000
)

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
)

// IsImage reports whether data starts like a PNG or a JPEG file. It looks only
// at the magic bytes: the rest may still be damaged.
func IsImage(data []byte) bool {
	return bytes.HasPrefix(data, pngMagic) || bytes.HasPrefix(data, jpegMagic)
}

// sniffLen is how many bytes [notImage] needs to name another image format.
const sniffLen = 16

// otherFormats are image formats people may hand to Decode that it does not
// read (an iPhone saves photos as HEIC), each known by magic bytes at offsets.
var otherFormats = []struct {
	name  string
	magic map[int]string // offset: bytes
}{
	{"GIF", map[int]string{0: "GIF8"}},
	{"BMP", map[int]string{0: "BM"}},
	{"TIFF", map[int]string{0: "II*\x00"}},
	{"TIFF", map[int]string{0: "MM\x00*"}},
	{"WebP", map[int]string{0: "RIFF", 8: "WEBP"}},
	{"HEIC", map[int]string{4: "ftypheic"}},
	{"HEIC", map[int]string{4: "ftypheix"}},
	{"HEIF", map[int]string{4: "ftypmif1"}},
	{"AVIF", map[int]string{4: "ftypavif"}},
}

// notImage explains why head, the first bytes of an input, is not an image.
func notImage(head []byte) error {
	if len(head) == 0 {
		return fmt.Errorf("%w: the input is empty", ErrNotImage)
	}
	if isText(head) {
		for !utf8.Valid(head) {
			head = head[:len(head)-1] // drop a character cut in two
		}
		return fmt.Errorf("%w: the input is text starting %q, not a picture", ErrNotImage, head)
	}
formats:
	for _, f := range otherFormats {
		for off, magic := range f.magic {
			if len(head) < off+len(magic) || string(head[off:off+len(magic)]) != magic {
				continue formats
			}
		}
		return fmt.Errorf("%w: the input is a %s image; save or export it as PNG or JPEG", ErrNotImage, f.name)
	}
	return fmt.Errorf("%w: the input starts with bytes % x", ErrNotImage, head)
}

// isText reports whether head is UTF-8 text without control characters other
// than white space. A character cut by the end of head does not count.
func isText(head []byte) bool {
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return !utf8.FullRune(head[i:])
		case r < ' ' && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			return false
		}
		i += n
	}
	return true
}

// readImage decodes a PNG or JPEG file after checking that its header
// announces a size within [MaxSide] and [MaxPixels].
func readImage(data []byte) (image.Image, error) {
	var (
		format       string
		decodeConfig func([]byte) (image.Config, error)
		decode       func([]byte) (image.Image, error)
	)
	switch {
	case bytes.HasPrefix(data, pngMagic):
		format = "PNG"
		decodeConfig = func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	case bytes.HasPrefix(data, jpegMagic):
		format = "JPEG"
		decodeConfig = func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	default:
		return nil, notImage(data[:min(len(data), sniffLen)])
	}
	cfg, err := decodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%w: damaged %s header: %v", ErrNotImage, format, err)
	}
	if err := checkSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	img, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: damaged %s image: %v", ErrNotImage, format, err)
	}
	// The pixels must match the header that was checked; this holds for
	// image/png and image/jpeg, and guards the later pixel loops anyway.
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("%w: %s header says %dx%d pixels but the image is %dx%d",
			ErrNotImage, format, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	return img, nil
}

func checkSize(w, h int) error {
	if w > MaxSide || h > MaxSide || int64(w)*int64(h) > MaxPixels {
		return fmt.Errorf("%w: %dx%d pixels, at most %d on a side and %d megapixels are accepted",
			ErrTooLarge, w, h, MaxSide, MaxPixels/1_000_000)
	}
	return nil
}

package qrcode

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// Decode finds one QR code in a PNG or JPEG image, such as a screenshot or a
// photo of a screen, and returns the text it holds. When the image holds
// several codes it returns one of them.
//
// It reads at most [MaxInputSize] bytes from r and returns [ErrTooLarge] for
// a longer input or an image larger than [MaxSide] or [MaxPixels], checked on
// the header before any pixel is decoded; [ErrNotImage] for anything that is
// not a readable PNG or JPEG image; and [ErrNoCode] when no QR code can be
// read from the pixels.
func Decode(r io.Reader) (string, error) {
	data, err := readInput(r)
	if err != nil {
		return "", err
	}
	img, err := readImage(data)
	if err != nil {
		return "", err
	}
	return scan(toGray(img))
}

// readInput reads the whole of r, up to [MaxInputSize] bytes, failing as soon
// as the first bytes show that it is not an image.
func readInput(r io.Reader) ([]byte, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("read image: %w", err)
	}
	if !IsImage(head) {
		return nil, notImage(head)
	}
	data, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(head), r), MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	if len(data) > MaxInputSize {
		return nil, fmt.Errorf("%w: the file is more than %d MiB", ErrTooLarge, MaxInputSize>>20)
	}
	return data, nil
}

// workPixels is the most pixels the search starts on: a larger image is
// first halved until it fits. ZXing's finder-pattern search grows faster than
// the area (it compares every triple of candidates), so a 36-megapixel image
// of noise would take half a minute at full size and takes about a second at
// a quarter. 16 megapixels keeps a 5K screenshot and a 12-megapixel photo at
// full size; a code in a larger photo is still big enough after halving.
const workPixels = 16_000_000

// minHalf is the smallest side a half-size copy of the image may have to be
// worth a search: a version 13 code (550 characters of base32) with its quiet
// zone is 77 modules wide and needs more than one pixel per module.
const minHalf = 100

// Hints for gozxing: tryHarder searches every row for finder patterns; pure
// reads an image that holds nothing but one upright code and its quiet zone,
// such as a PNG made by [PNG], without looking for finder patterns at all.
var (
	tryHarder = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	quick     = map[gozxing.DecodeHintType]any{}
	pure      = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
)

// attempt is one way to look for a code in a luminance image.
type attempt struct {
	binarizer func(gozxing.LuminanceSource) gozxing.Binarizer
	inverted  bool
	hints     map[gozxing.DecodeHintType]any
}

// attempts are tried in order at full size until one succeeds: a local
// threshold with a thorough search finds most codes; with light and dark
// swapped, a code drawn in a dark terminal or shown in dark mode; a global
// threshold copes better with a code that fills the picture; the quick
// search and the pure read rescue a few codes whose data happens to hold
// finder-like patterns (codes drawn with rsc.io/qr's fixed mask, like the
// terminal's).
var attempts = []attempt{
	{gozxing.NewHybridBinarizer, false, tryHarder},
	{gozxing.NewHybridBinarizer, true, tryHarder},
	{gozxing.NewGlobalHistgramBinarizer, false, tryHarder},
	{gozxing.NewHybridBinarizer, false, quick},
	{gozxing.NewHybridBinarizer, false, pure},
}

// smallAttempts are tried at half and quarter size, where averaging removes
// the noise of a photo and the moiré of a photographed screen.
var smallAttempts = attempts[:2]

// scan searches g for a QR code, at full size (at most [workPixels]) with
// [attempts] and then at half and quarter size with [smallAttempts].
func scan(g *gray) (text string, err error) {
	// gozxing is a port of ZXing with the usual bounds checks turned into
	// panics; the image is untrusted, so a panic becomes an error.
	defer func() {
		if p := recover(); p != nil {
			text, err = "", fmt.Errorf("%w: the QR decoder failed: %v", ErrNoCode, p)
		}
	}()
	found := false // a code was seen but could not be read
	reader := zxqr.NewQRCodeReader()
	for g.w*g.h > workPixels {
		g = g.half()
	}
	tries := attempts
	for level := 0; level < 3; level++ {
		if level > 0 {
			if min(g.w, g.h)/2 < minHalf {
				break
			}
			g, tries = g.half(), smallAttempts
		}
		src, err := gozxing.NewPlanarYUVLuminanceSource(g.pix, g.w, g.h, 0, 0, g.w, g.h, false)
		if err != nil {
			return "", fmt.Errorf("search for a QR code: %w", err)
		}
		for _, a := range tries {
			s := src
			if a.inverted {
				s = src.Invert()
			}
			bmp, err := gozxing.NewBinaryBitmap(a.binarizer(s))
			if err != nil {
				return "", fmt.Errorf("search for a QR code: %w", err)
			}
			res, err := reader.Decode(bmp, a.hints)
			if err == nil {
				return res.GetText(), nil
			}
			var ce gozxing.ChecksumException
			var fe gozxing.FormatException
			if errors.As(err, &ce) || errors.As(err, &fe) {
				found = true
			}
		}
	}
	if found {
		return "", fmt.Errorf("%w: something like a QR code was found but could not be read "+
			"(blurred, cut off, covered by glare or too small?)", ErrNoCode)
	}
	return "", fmt.Errorf("%w: no QR code was found; the whole code, with its white border, must be in the picture", ErrNoCode)
}

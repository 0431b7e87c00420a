package qrcode

import (
	"bytes"
	"encoding/base32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// exampleBlob is a real 75-character offer made by pigeon.
const exampleBlob = "PIGEONEHQIXMKPO62ZDEFP6OZDKD7Z7SBNJPY4H5EBNIRCBLV3CNODQ63QTAD7AAAADKO2HK3OA"

// blob returns n characters shaped like a pigeon blob: "PIGEON" and then
// unpadded upper-case base32 of pseudo-random bytes, the same for the same n.
func blob(n int) string {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	raw := make([]byte, n)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	s := "PIGEON" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	return s[:n]
}

// codeImage renders text with PNG and decodes the result back to an image.
func codeImage(t testing.TB, text string, scale int) image.Image {
	t.Helper()
	data, err := PNG(text, scale)
	if err != nil {
		t.Fatalf("PNG(%d chars, %d): %v", len(text), scale, err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("png.Decode of our own PNG: %v", err)
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// resize scales img by factor with the given interpolation, as a screenshot
// on a display with another scaling factor or a photo from afar does.
func resize(img image.Image, factor float64, interp xdraw.Interpolator) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, int(float64(b.Dx())*factor), int(float64(b.Dy())*factor)))
	interp.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	return dst
}

// rotate90 turns img clockwise by quarter turns, pixel for pixel.
func rotate90(img image.Image, quarters int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if quarters%2 == 1 {
		w, h = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := img.At(b.Min.X+x, b.Min.Y+y)
			switch quarters % 4 {
			case 0:
				dst.Set(x, y, c)
			case 1:
				dst.Set(b.Dy()-1-y, x, c)
			case 2:
				dst.Set(b.Dx()-1-x, b.Dy()-1-y, c)
			case 3:
				dst.Set(y, b.Dx()-1-x, c)
			}
		}
	}
	return dst
}

// rotate turns img by deg degrees about its centre with bilinear
// interpolation, onto a canvas of colour bg large enough to hold it all.
func rotate(img image.Image, deg float64, bg color.Color) *image.RGBA {
	b := img.Bounds()
	sin, cos := math.Sincos(deg * math.Pi / 180)
	w := int(math.Ceil(math.Abs(cos)*float64(b.Dx())+math.Abs(sin)*float64(b.Dy()))) + 2
	h := int(math.Ceil(math.Abs(sin)*float64(b.Dx())+math.Abs(cos)*float64(b.Dy()))) + 2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	sx := float64(b.Min.X) + float64(b.Dx())/2
	sy := float64(b.Min.Y) + float64(b.Dy())/2
	dx, dy := float64(w)/2, float64(h)/2
	// dst = R·(src − centre of src) + centre of dst.
	m := f64.Aff3{
		cos, -sin, dx - (cos*sx - sin*sy),
		sin, cos, dy - (sin*sx + cos*sy),
	}
	xdraw.BiLinear.Transform(dst, m, img, b, xdraw.Over, nil)
	return dst
}

// mirror flips img left to right, as a laptop webcam's picture is.
func mirror(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			dst.Set(b.Dx()-1-x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// invert swaps light and dark, as a code drawn in a dark terminal shows.
func invert(img image.Image) *image.Gray {
	b := img.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			g := color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray)
			dst.SetGray(x, y, color.Gray{Y: 255 - g.Y})
		}
	}
	return dst
}

// screenshot draws a w×h desktop in background colour bg with windows, text
// and a photo-like noisy picture, and pastes code at (x, y) when it is not nil.
func screenshot(w, h int, bg color.Color, code image.Image, x, y int) *image.RGBA {
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	fill := func(rect image.Rectangle, c color.Color) {
		draw.Draw(dst, rect, image.NewUniform(c), image.Point{}, draw.Src)
	}
	fill(dst.Bounds(), bg)
	// A menu bar and a dock.
	fill(image.Rect(0, 0, w, 24), color.RGBA{0x30, 0x30, 0x30, 0xff})
	fill(image.Rect(w/4, h-60, 3*w/4, h-8), color.RGBA{0x55, 0x55, 0x60, 0xff})
	for i := range 10 {
		fill(image.Rect(w/4+10+i*(w/2-20)/10, h-52, w/4+46+i*(w/2-20)/10, h-16),
			color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 0xff})
	}
	// A terminal window full of text: dense small dark marks, the kind of
	// clutter that makes false finder patterns.
	term := image.Rect(40, 60, w/2, h-100)
	fill(term, color.White)
	fill(image.Rect(term.Min.X, term.Min.Y, term.Max.X, term.Min.Y+22), color.RGBA{0xdd, 0xdd, 0xdd, 0xff})
	for ty := term.Min.Y + 30; ty+10 < term.Max.Y; ty += 16 {
		tx := term.Min.X + 8
		end := term.Min.X + 8 + r.IntN(term.Dx()-16)
		for tx+7 < end {
			if r.IntN(6) != 0 {
				for gy := range 10 {
					for gx := range 6 {
						if r.IntN(3) == 0 {
							dst.Set(tx+gx, ty+gy, color.Black)
						}
					}
				}
			}
			tx += 8
		}
	}
	// A noisy "photo".
	ph := image.Rect(w/2+40, 60, w-40, 60+h/4)
	for py := ph.Min.Y; py < ph.Max.Y; py++ {
		for px := ph.Min.X; px < ph.Max.X; px++ {
			v := uint8(128 + 100*math.Sin(float64(px)/23)*math.Cos(float64(py)/17) + float64(r.IntN(40)-20))
			dst.Set(px, py, color.RGBA{v, v / 2, 255 - v, 0xff})
		}
	}
	if code != nil {
		draw.Draw(dst, code.Bounds().Sub(code.Bounds().Min).Add(image.Pt(x, y)), code, code.Bounds().Min, draw.Src)
	}
	return dst
}

// photo makes img look like a phone or webcam picture of a screen: a little
// blur, less contrast, uneven light and sensor noise.
func photo(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	src := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	dst := image.NewGray(src.Bounds())
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			var s float64
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					px, py := min(max(x+dx, 0), w-1), min(max(y+dy, 0), h-1)
					s += float64(src.Pix[py*src.Stride+px])
				}
			}
			v := s / 9
			v = 50 + v*(170.0/255)                   // black is grey, white is dim
			v *= 0.8 + 0.2*float64(x+y)/float64(w+h) // light falls across
			v += r.NormFloat64() * 6                 // sensor noise
			dst.Pix[y*dst.Stride+x] = uint8(min(max(v, 0), 255))
		}
	}
	return dst
}

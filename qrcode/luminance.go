package qrcode

import (
	"image"
)

// gray is an 8-bit luminance plane, row-major with no padding: the input
// gozxing's PlanarYUVLuminanceSource takes.
type gray struct {
	pix  []byte
	w, h int
}

// toGray converts img to luminance, compositing any transparency over white
// (a screenshot of a window with a transparent background shows white).
// Common decoder outputs take fast paths; anything else goes through At.
func toGray(img image.Image) *gray {
	b := img.Bounds()
	g := &gray{pix: make([]byte, b.Dx()*b.Dy()), w: b.Dx(), h: b.Dy()}
	switch m := img.(type) {
	case *image.YCbCr:
		// JPEG: Y is the luminance already.
		for y := range g.h {
			i := m.YOffset(b.Min.X, b.Min.Y+y)
			copy(g.pix[y*g.w:][:g.w], m.Y[i:i+g.w])
		}
	case *image.Gray:
		for y := range g.h {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(g.pix[y*g.w:][:g.w], m.Pix[i:i+g.w])
		}
	case *image.NRGBA:
		for y := range g.h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*g.w]
			dst := g.pix[y*g.w:][:g.w]
			for x := range dst {
				p := src[4*x:][:4]
				a := uint32(p[3])
				// Alpha is not premultiplied: blend with white.
				l := luma(uint32(p[0]), uint32(p[1]), uint32(p[2]))
				dst[x] = byte((l*a + 255*(255-a) + 127) / 255)
			}
		}
	case *image.RGBA:
		for y := range g.h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*g.w]
			dst := g.pix[y*g.w:][:g.w]
			for x := range dst {
				p := src[4*x:][:4]
				// Alpha is premultiplied: add the white that shows through.
				dst[x] = byte(luma(uint32(p[0]), uint32(p[1]), uint32(p[2])) + 255 - uint32(p[3]))
			}
		}
	default:
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, gg, bb, a := img.At(x, y).RGBA() // premultiplied, 16 bits
				l := luma(r>>8, gg>>8, bb>>8) + (0xffff-a)>>8
				g.pix[i] = byte(min(l, 255))
				i++
			}
		}
	}
	return g
}

// luma is the Rec. 601 luminance of 8-bit r, g, b, as image/color uses.
func luma(r, g, b uint32) uint32 {
	return (19595*r + 38470*g + 7471*b + 1<<15) >> 16
}

// half returns g shrunk to half its size by averaging 2×2 blocks. Averaging
// smooths JPEG noise and the moiré of a photographed screen, and a quarter of
// the pixels takes a quarter of the search time.
func (g *gray) half() *gray {
	h := &gray{w: g.w / 2, h: g.h / 2}
	h.pix = make([]byte, h.w*h.h)
	for y := range h.h {
		r0 := g.pix[2*y*g.w:][:2*h.w]
		r1 := g.pix[(2*y+1)*g.w:][:2*h.w]
		dst := h.pix[y*h.w:][:h.w]
		for x := range dst {
			s := uint(r0[2*x]) + uint(r0[2*x+1]) + uint(r1[2*x]) + uint(r1[2*x+1])
			dst[x] = byte((s + 2) / 4)
		}
	}
	return h
}

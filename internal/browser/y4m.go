package browser

import (
	"bufio"
	"fmt"
	"image"
	"image/draw"
	"os"
)

// WriteY4M writes img as frames of a YUV4MPEG2 video (4:2:0, 10 frames a
// second), the format Chromium's fake camera reads
// (--use-file-for-fake-video-capture): a camera held still in front of
// img. The frame is w by h pixels, img centred on white.
func WriteY4M(path string, img image.Image, w, h, frames int) error {
	frame := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(frame, frame.Bounds(), image.White, image.Point{}, draw.Src)
	b := img.Bounds()
	at := image.Pt((w-b.Dx())/2, (h-b.Dy())/2)
	draw.Draw(frame, image.Rectangle{Min: at, Max: at.Add(b.Size())}, img, b.Min, draw.Src)

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	chroma := make([]byte, (w/2)*(h/2))
	for i := range chroma {
		chroma[i] = 128
	}
	for range frames {
		bw.WriteString("FRAME\n")
		bw.Write(frame.Pix) // luma: full studio range is close enough for a QR code
		bw.Write(chroma)    // U
		bw.Write(chroma)    // V
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

package qrcode

import "errors"

// Errors returned by [Decode], always wrapped with a detail that says what is
// wrong in terms a user can act on. Branch on them with errors.Is.
var (
	// ErrNotImage means the input is not a PNG or JPEG image, or is one that is
	// damaged (cut short, corrupt) so its pixels cannot be read.
	ErrNotImage = errors.New("not a PNG or JPEG image")
	// ErrTooLarge means the input is longer than [MaxInputSize] bytes, or its
	// header announces more than [MaxSide] pixels on a side or [MaxPixels] in
	// all. Decode refuses it before decoding any pixel.
	ErrTooLarge = errors.New("image is too large")
	// ErrNoCode means the image was read but holds no QR code that could be
	// decoded: none was found, or one was found that is too blurred, cut off or
	// damaged for its error correction. The detail says which.
	ErrNoCode = errors.New("no readable QR code in the image")
)

// Errors returned by [PNG] and [Version]: they report a program's mistake, not
// a user's.
var (
	// ErrTextTooLong means the text does not fit in a version 40 QR code at
	// error correction level L.
	ErrTextTooLong = errors.New("text is too long for a QR code")
	// ErrBadScale means the scale given to [PNG] is below 1 or would make an
	// image more than [MaxSide] pixels wide, which [Decode] would refuse.
	ErrBadScale = errors.New("QR code scale is out of range")
)

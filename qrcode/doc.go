// Package qrcode renders a pigeon blob as a QR code image and reads it back
// from a screenshot or a photo, so two laptops can exchange an offer and an
// answer without anyone typing.
//
// [PNG] draws text as a QR code at error correction level L (the blob has its
// own checksum, so the smallest code wins), in alphanumeric mode when the text
// allows it, as upper-case base32 behind "PIGEON" does, with the standard
// 4-module quiet zone. It takes the version and the mode from rsc.io/qr but,
// unlike rsc.io/qr, chooses the data mask by the standard's penalty rules,
// which keeps finder-like patterns out of the data (see mask.go). [Version]
// reports the QR version that text needs.
//
// [Decode] finds one QR code in a PNG or JPEG image and returns its text
// unchanged; it neither cleans nor checks it, so pass the result to the blob
// parser. It accepts what a person will hand it: a screenshot with other
// windows around the code, a code shown light on dark, a photo of another
// laptop's screen that is scaled, turned, mirrored by a webcam, blurred a
// little or JPEG-compressed.
//
// Decode treats its input as untrusted. It reads at most [MaxInputSize] bytes,
// checks the magic bytes ([IsImage]) and the size announced in the image header
// before it decodes any pixel, refuses images wider or taller than [MaxSide]
// pixels or larger than [MaxPixels] in all, and searches at most 16
// megapixels, halving larger images first. So one call's memory and time are
// bounded: about 250 MB at most, and 1.5 s on one server core for the worst
// input found, 36 megapixels of random noise. Failures wrap the sentinels in
// errors.go: [ErrNotImage], [ErrTooLarge] and [ErrNoCode].
package qrcode

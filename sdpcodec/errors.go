package sdpcodec

import (
	"errors"
	"fmt"
)

// Errors returned by [Decode] and [Parse], always wrapped with a detail that says
// what is wrong in terms a user can act on. Branch on them with errors.Is.
var (
	// ErrEmpty means there was nothing to decode.
	ErrEmpty = errors.New("empty blob")
	// ErrNotBlob means the text does not start with [Prefix]. When it looks like
	// another signaling format (pion's base64 JSON, a JSON session description or
	// raw SDP) the detail says so.
	ErrNotBlob = errors.New("not a pigeon blob")
	// ErrTruncated means the blob ends too early: part of it was not copied.
	ErrTruncated = errors.New("blob is incomplete")
	// ErrDamaged means a character was changed, added or removed: the checksum
	// does not match, or a character that cannot appear in a blob was found.
	ErrDamaged = errors.New("blob is damaged")
	// ErrMalformed means the checksum matches but the structure is invalid: the
	// blob was made by a faulty encoder, not damaged by a typo.
	ErrMalformed = errors.New("blob is malformed")
	// ErrTooLong means the input is longer than any blob can be ([MaxInputLen]
	// before cleaning, [MaxTextLen] after).
	ErrTooLong = errors.New("input is too long to be a pigeon blob")
	// ErrMultiple means the input holds [Prefix] more than once and is not one
	// valid blob: two blobs were pasted together.
	ErrMultiple = errors.New("input holds more than one blob")
)

// Errors returned by [Blob.Encode] and [FromSDP]. These are additions to the
// decoding errors above: they report a program's mistake, not a user's.
var (
	// ErrInvalid means a [Blob] field cannot be encoded (an app out of range, too
	// many candidates, an mDNS name that is not "<uuid>.local", ...).
	ErrInvalid = errors.New("cannot encode blob")
	// ErrUnsupportedSDP means a session description cannot be carried in a blob:
	// the rebuilt description would not match it.
	ErrUnsupportedSDP = errors.New("session description cannot be carried in a blob")
)

// VersionError is returned when a blob uses a format version other than
// [Version]: most likely it was made by a newer pigeon.
type VersionError struct {
	// Version is the version number found in the blob's header.
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("blob uses format version %d; this pigeon reads versions 1 to %d", e.Version, Version)
}

package transfer

import "fmt"

// DefaultKeepFree is the space a receiver leaves free on the target's
// disk unless [ReceiveOptions.KeepFree] says otherwise.
const DefaultKeepFree = 512 << 20

// spaceCheckEvery is how many bytes of a stream are written between two
// looks at the free space; each look leaves room for them.
const spaceCheckEvery = 1 << 20

// SpaceError is a transfer refused, or a stream stopped, for the space it
// takes: more than [ReceiveOptions.MaxSize], or more than the target's
// disk has free beyond [ReceiveOptions.KeepFree]. A refused offer wrote
// nothing; a stopped stream's partial file was removed.
type SpaceError struct {
	Stream   bool  // a stream was stopped (otherwise the offer was refused)
	Size     int64 // what the offer needs, or how much of the stream arrived
	Disk     bool  // the limit is the free space (otherwise MaxSize)
	MaxSize  int64
	Free     int64 // free space on the disk when it was refused
	KeepFree int64
}

func (e *SpaceError) Error() string {
	switch {
	case !e.Stream && !e.Disk:
		return fmt.Sprintf("the offer holds %s, more than the %s allowed", FormatSize(e.Size), FormatSize(e.MaxSize))
	case !e.Stream:
		return fmt.Sprintf("the offer needs %s, and the disk has %s free, of which %s are kept free", FormatSize(e.Size), FormatSize(e.Free), FormatSize(e.KeepFree))
	case !e.Disk:
		return fmt.Sprintf("stopped after %s: the transfer may write at most %s; the partial file was removed", FormatSize(e.Size), FormatSize(e.MaxSize))
	}
	return fmt.Sprintf("stopped after %s: the disk would have less than %s free; the partial file was removed", FormatSize(e.Size), FormatSize(e.KeepFree))
}

// FormatSize writes n in bytes, KiB, MiB, GiB, ... for people.
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// space keeps a transfer within MaxSize and the free space of the disk.
type space struct {
	maxSize  int64        // 0: no limit
	keepFree int64        // -1: no check
	free     func() int64 // free space on the disk, -1 when unknown

	known   int64 // bytes of files of known size the transfer writes
	left    int64 // ... of which not written yet
	stream  int64 // bytes of streams written
	checked int64 // stream may reach this without another look
}

// checkOffer refuses, before anything is written, an offer whose files
// of known size do not fit.
func (s *space) checkOffer(need int64) error {
	s.known, s.left = need, need
	if s.maxSize > 0 && need > s.maxSize {
		return &SpaceError{Size: need, MaxSize: s.maxSize}
	}
	if s.keepFree < 0 || need == 0 {
		return nil
	}
	if free := s.free(); free >= 0 && free-need < s.keepFree {
		return &SpaceError{Size: need, Disk: true, Free: free, KeepFree: s.keepFree}
	}
	return nil
}

// wrote counts n bytes of a file of known size.
func (s *space) wrote(n int) { s.left -= int64(n) }

// streamRoom makes room for n more bytes of a stream, of which got
// arrived already, or says why there is none.
func (s *space) streamRoom(n int, got int64) error {
	next := s.stream + int64(n)
	if s.maxSize > 0 && s.known+next > s.maxSize {
		return &SpaceError{Stream: true, Size: got, MaxSize: s.maxSize}
	}
	if s.keepFree >= 0 && next > s.checked {
		if free := s.free(); free >= 0 {
			if free-s.left-spaceCheckEvery < s.keepFree {
				return &SpaceError{Stream: true, Size: got, Disk: true, Free: free, KeepFree: s.keepFree}
			}
			s.checked = s.stream + spaceCheckEvery
		}
	}
	s.stream = next
	return nil
}

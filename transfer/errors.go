package transfer

import (
	"errors"
	"fmt"
	"strings"
)

// ErrProtocol means the peer sent something the protocol does not allow
// here: a broken or hostile peer, or an incompatible version.
var ErrProtocol = errors.New("the peer broke the transfer protocol")

// ErrIncomplete means the connection ended before the transfer did.
var ErrIncomplete = errors.New("the connection ended before the transfer was complete")

// PeerError is the reason the other side gave when it refused or stopped
// the transfer.
type PeerError struct {
	Reason  string
	Refused bool // before any file data: the transfer was refused
}

func (e *PeerError) Error() string {
	if e.Refused {
		return "the other computer refused the transfer: " + e.Reason
	}
	return "the other computer stopped the transfer: " + e.Reason
}

// NameError is an entry of a manifest whose name is not safe or not
// possible to write; the receiver refuses the whole transfer for it.
type NameError struct {
	Path string
	Why  string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("refusing the name %q: %s", e.Path, e.Why)
}

// ExistsError lists what the transfer would replace in the target folder
// without [ReceiveOptions.Overwrite]; nothing was written.
type ExistsError struct {
	Paths []string
}

func (e *ExistsError) Error() string {
	const show = 3
	names := e.Paths
	more := ""
	if len(names) > show {
		more = fmt.Sprintf(" and %d more", len(names)-show)
		names = names[:show]
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	what := "exists"
	if len(e.Paths) > 1 {
		what = "exist"
	}
	return fmt.Sprintf("%s%s already %s with other content", strings.Join(quoted, ", "), more, what)
}

// ConflictError is an entry that cannot be written because of what the
// target folder holds (a folder where a file should go, say), whatever
// [ReceiveOptions.Overwrite] says.
type ConflictError struct {
	Path string
	Why  string
}

func (e *ConflictError) Error() string { return fmt.Sprintf("cannot write %q: %s", e.Path, e.Why) }

// printable makes a reason from the peer safe to show on a terminal: no
// control characters, bounded length.
func printable(s string) string {
	const limit = 300
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

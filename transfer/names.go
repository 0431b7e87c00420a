package transfer

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on a manifest, enforced by both sides.
const (
	// MaxNameLen is the longest path component, in bytes: room is left
	// for the partial file's name (".NAME.pigeon-partial") in the 255
	// bytes file systems allow.
	MaxNameLen = 255 - len(".") - len(partialSuffix)
	// MaxPathLen is the longest path, in bytes.
	MaxPathLen = 4096
	// MaxEntries is the most entries one transfer holds.
	MaxEntries = 1_000_000
	// maxSize bounds a file's size, so that sums cannot overflow.
	maxSize = 1 << 50
)

// partialSuffix ends the name of a file still arriving.
const partialSuffix = ".pigeon-partial"

// checkName reports why a manifest path cannot be written, or nil.
func checkName(p string) error {
	bad := func(why string) error { return &NameError{Path: p, Why: why} }
	switch {
	case p == "":
		return bad("it is empty")
	case len(p) > MaxPathLen:
		return bad(fmt.Sprintf("it is longer than %d bytes", MaxPathLen))
	case !utf8.ValidString(p):
		return bad("it is not valid UTF-8")
	case strings.HasPrefix(p, "/"):
		return bad("it is an absolute path")
	case strings.ContainsRune(p, '\\'):
		return bad("it contains a backslash")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return bad("it contains a control character")
		}
	}
	for c := range strings.SplitSeq(p, "/") {
		switch {
		case c == "":
			return bad("it has an empty component")
		case c == "." || c == "..":
			return bad(fmt.Sprintf("it has a %q component", c))
		case len(c) > MaxNameLen:
			return bad(fmt.Sprintf("a component is longer than %d bytes", MaxNameLen))
		case windowsDevice(c):
			return bad(fmt.Sprintf("%q is a device name on Windows", c))
		case strings.HasSuffix(c, partialSuffix):
			return bad("names ending in " + partialSuffix + " are reserved for files still arriving")
		}
	}
	return nil
}

// windowsDevice reports whether name is a reserved device name on Windows,
// which stays so with any extension or trailing spaces and dots.
func windowsDevice(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		return base[3] >= '1' && base[3] <= '9'
	}
	return false
}

// checkEntries checks a whole manifest: the limits, every name, no
// duplicates, and nothing inside a file or link of the same manifest.
func checkEntries(entries []Entry) error {
	if len(entries) > MaxEntries {
		return fmt.Errorf("%w: %d entries, more than %d", ErrProtocol, len(entries), MaxEntries)
	}
	kinds := make(map[string]Kind, len(entries))
	for _, e := range entries {
		if err := checkName(e.Path); err != nil {
			return err
		}
		switch e.Kind {
		case File:
			if e.Size < -1 || e.Size > maxSize {
				return &NameError{Path: e.Path, Why: fmt.Sprintf("its size %d is impossible", e.Size)}
			}
		case Dir:
		case Symlink:
			if e.Target == "" || len(e.Target) > MaxPathLen || strings.ContainsRune(e.Target, 0) {
				return &NameError{Path: e.Path, Why: "its link target is empty, too long or holds NUL"}
			}
		default:
			return &NameError{Path: e.Path, Why: "it is of an unknown kind"}
		}
		if _, dup := kinds[e.Path]; dup {
			return &NameError{Path: e.Path, Why: "it is offered twice"}
		}
		kinds[e.Path] = e.Kind
	}
	for _, e := range entries {
		for i := strings.IndexByte(e.Path, '/'); i >= 0; i = nextSlash(e.Path, i) {
			if k, ok := kinds[e.Path[:i]]; ok && k != Dir {
				return &NameError{Path: e.Path, Why: fmt.Sprintf("it lies inside %q, which is a %s, not a folder", e.Path[:i], k)}
			}
		}
	}
	return nil
}

func nextSlash(p string, i int) int {
	j := strings.IndexByte(p[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// Check reports what makes entries impossible to send together, such as
// two with the same name, in the words [Scan] uses.
func Check(entries []Entry) error {
	if err := checkEntries(entries); err != nil {
		var ne *NameError
		if errors.As(err, &ne) {
			return fmt.Errorf("cannot send %s: %s", ne.Path, ne.Why)
		}
		return err
	}
	return nil
}

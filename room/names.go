package room

import (
	"fmt"
	"strings"
	"unicode"
)

// MaxNameLen bounds a member's name, in characters.
const MaxNameLen = 32

// CleanName is name as the room shows it: its control characters (which
// could move a terminal's cursor or change its colours) taken out, blanks
// trimmed, cut to [MaxNameLen] characters. It may be empty.
func CleanName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > MaxNameLen {
		name = strings.TrimSpace(string(r[:MaxNameLen]))
	}
	return name
}

// uniqueName is the name the host gives a guest that asked for name: the
// name cleaned, "guest N" if nothing is left, and with " (2)", " (3)"...
// when another member has it already (case aside), so that no one can
// pass for someone else by name.
func uniqueName(name string, id int, taken []Member) string {
	base := CleanName(name)
	if base == "" {
		base = fmt.Sprintf("guest %d", id)
	}
	used := func(n string) bool {
		for _, m := range taken {
			if strings.EqualFold(m.Name, n) {
				return true
			}
		}
		return false
	}
	name = base
	for i := 2; used(name); i++ {
		name = fmt.Sprintf("%s (%d)", base, i)
	}
	return name
}

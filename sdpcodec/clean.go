package sdpcodec

import (
	"fmt"
	"strings"
	"unicode"
)

// Parse decodes a blob a human pasted: it rejects input longer than
// [MaxInputLen] with [ErrTooLong], then decodes [Clean] of it with [Decode].
// If Parse returns b, b.Encode() returns Clean(pasted).
func Parse(pasted string) (*Blob, error) {
	if len(pasted) > MaxInputLen {
		return nil, fmt.Errorf("%w: it has %d bytes; a blob has at most %d characters", ErrTooLong, len(pasted), MaxTextLen)
	}
	return Decode(Clean(pasted))
}

// Clean undoes what carrying a blob by hand does to it: it removes all white
// space (so lines may be wrapped anywhere) and zero-width characters, a markdown
// code fence with its info string, leading and trailing runs of quote-like
// characters (" ' ` “ ” ‘ ’ « »), and upper-cases ASCII letters. Everything
// else is kept, so [Decode] can point at a character that does not belong.
func Clean(pasted string) string {
	s := strings.TrimLeftFunc(pasted, unicode.IsSpace)
	// A markdown fence may carry an info string ("```text"): drop that line,
	// unless the blob itself starts on it.
	if rest, ok := strings.CutPrefix(s, "```"); ok {
		if line, after, found := strings.Cut(rest, "\n"); found && !strings.Contains(strings.ToUpper(line), Prefix) {
			s = after
		}
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), isZeroWidth(r):
		case r >= 'a' && r <= 'z':
			sb.WriteRune(r - 'a' + 'A')
		default:
			sb.WriteRune(r)
		}
	}
	return strings.TrimFunc(sb.String(), isQuote)
}

func isZeroWidth(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF':
		return true
	}
	return false
}

func isQuote(r rune) bool {
	switch r {
	case '"', '\'', '`', '“', '”', '‘', '’', '«', '»':
		return true
	}
	return false
}

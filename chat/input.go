package chat

import (
	"bufio"
	"io"
)

// Fragment is a piece of one input line, without its newline. A line up to
// [MaxFragment] bytes is one fragment; a longer one is split and every piece
// but the last has More set.
type Fragment struct {
	Text      string
	More      bool // the line continues in the next fragment
	Continued bool // this fragment continues the previous one
}

// ReadLines reads r in the background and sends its lines as fragments on
// the returned channel, which is closed when r ends. The channel holds a
// few lines, so lines typed before the connection opens wait there.
// A final line without a newline is sent too; a carriage return before the
// newline is dropped. A fragment boundary may fall inside a multi-byte
// character: fragments are bytes, joined again by the receiver.
func ReadLines(r io.Reader) <-chan Fragment {
	ch := make(chan Fragment, 64)
	go func() {
		defer close(ch)
		br := bufio.NewReaderSize(r, MaxFragment)
		continued := false
		for {
			b, err := br.ReadSlice('\n')
			more := err == bufio.ErrBufferFull
			if n := len(b); !more && n > 0 && b[n-1] == '\n' {
				b = b[:n-1]
				if n := len(b); n > 0 && b[n-1] == '\r' {
					b = b[:n-1]
				}
			}
			if len(b) > 0 || err == nil || (err == io.EOF && continued) {
				ch <- Fragment{Text: string(b), More: more, Continued: continued}
			}
			continued = more
			if err != nil && !more {
				return
			}
		}
	}()
	return ch
}

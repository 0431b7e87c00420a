package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mdp/qrterminal/v3"
	"golang.org/x/term"
	"rsc.io/qr"

	"pigeon/qrcode"
	"pigeon/sdpcodec"
)

// showText prints our description on stderr for a person to copy, draws
// it as a QR code when asked, and writes it to the --out file.
func showText(s *streams, c interface {
	String(string) string
	Bool(string) bool
}, text, intro string) error {
	if strings.Contains(text, "\n") {
		fmt.Fprintf(s.errOut, "%s (%d characters):\n\n%s\n", intro, len(text), text)
	} else {
		fmt.Fprintf(s.errOut, "%s (%d characters):\n\n%s\n\n", intro, len(text), text)
	}
	if c.Bool("qr") {
		if err := drawQR(s.errOut, text); err != nil {
			return err
		}
	}
	if path := c.String("qr-png"); path != "" {
		png, err := qrcode.PNG(strings.TrimSpace(text), 8)
		if err != nil {
			return fmt.Errorf("drawing the QR code: %w", err)
		}
		if err := writeFileAtomic(path, png); err != nil {
			return err
		}
		fmt.Fprintf(s.errOut, "pigeon: wrote the QR code to %s\n", path)
	}
	if out := c.String("out"); out != "" {
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		if err := writeFileAtomic(out, []byte(text)); err != nil {
			return err
		}
	}
	return nil
}

// drawQR draws text as a QR code in half blocks, with its quiet zone. On
// a terminal too small to show the whole code it says so instead: a code
// cut by the window's edge does not scan.
func drawQR(w io.Writer, text string) error {
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		return fmt.Errorf("drawing the QR code: %w", err)
	}
	cols := code.Size + 2*qrterminal.QUIET_ZONE
	rows := (cols + 1) / 2 // half blocks: two modules a line
	if tc, tr, ok := terminalSize(w); ok && (cols > tc || rows > tr) {
		fmt.Fprintf(w, "pigeon: the QR code needs a terminal of at least %dx%d characters, and this one is %dx%d: enlarge the window and run again, or copy the blob as text\n\n",
			cols, rows, tc, tr)
		return nil
	}
	qrterminal.GenerateWithConfig(text, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         w,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      qrterminal.QUIET_ZONE,
	})
	fmt.Fprintln(w)
	return nil
}

// terminalSize is the size of the terminal w writes to, if it is one and
// knows its size.
func terminalSize(w io.Writer) (cols, rows int, ok bool) {
	f, isFile := fileOf(w)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return 0, 0, false
	}
	cols, rows, err := term.GetSize(int(f.Fd()))
	return cols, rows, err == nil && cols > 0 && rows > 0
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so a reader never sees a partial blob.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// blobFileError says which file held a bad blob.
type blobFileError struct {
	path string
	err  error
}

func (e *blobFileError) Error() string { return fmt.Sprintf("%s: %v", e.path, e.err) }
func (e *blobFileError) Unwrap() error { return e.err }

// readDescFile waits until path exists and is not empty, then decodes it:
// a blob or description as text, or a QR code in a PNG or JPEG image. A
// file caught while another program is still writing it gets a moment to
// be complete before it is judged.
func readDescFile(ctx context.Context, path string, waiting io.Writer) (desc, error) {
	told := "" // what was said while waiting: "missing" or "empty"
	var last []byte
	for {
		data, err := readInput(path)
		switch {
		case err == nil && len(bytes.TrimSpace(data)) > 0:
			d, perr := parseInput(data)
			if perr == nil {
				return d, nil
			}
			incomplete := errors.Is(perr, sdpcodec.ErrTruncated) || qrcode.IsImage(data)
			if !incomplete || bytes.Equal(data, last) {
				return desc{}, &blobFileError{path, perr}
			}
			last = data
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return desc{}, fmt.Errorf("reading %s: %w", path, err)
		case err == nil && told != "empty":
			fmt.Fprintf(waiting, "pigeon: the file %s is there but holds no blob yet; waiting for one ...\n", path)
			told = "empty"
		case err != nil && told == "":
			fmt.Fprintf(waiting, "pigeon: waiting for the file %s to appear ...\n", path)
			told = "missing"
		}
		select {
		case <-ctx.Done():
			return desc{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readInput reads a file that holds a description as text, or an image of
// its QR code; each has its own size limit.
func readInput(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, qrcode.MaxInputSize+1))
	if err != nil {
		return nil, err
	}
	if limit := sdpcodec.MaxInputLen; !qrcode.IsImage(data) && len(data) > limit {
		return nil, fmt.Errorf("%w (%s is larger than %d bytes)", sdpcodec.ErrTooLong, path, limit)
	}
	if len(data) > qrcode.MaxInputSize {
		return nil, fmt.Errorf("%w (%s is larger than %d MiB)", qrcode.ErrTooLarge, path, qrcode.MaxInputSize>>20)
	}
	return data, nil
}

// parseInput decodes what a file held: text, or an image of a QR code.
func parseInput(data []byte) (desc, error) {
	if !qrcode.IsImage(data) {
		return parseDesc(string(data))
	}
	text, err := qrcode.Decode(bytes.NewReader(data))
	if err != nil {
		return desc{}, err
	}
	return parseDesc(text)
}

// isImageFile reports whether path names a regular file that starts like a
// PNG or JPEG image.
func isImageFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	return qrcode.IsImage(head[:n])
}

// isTerminal reports whether f is a terminal a person types into.
func isTerminal(v any) bool {
	f, ok := fileOf(v)
	return ok && term.IsTerminal(int(f.Fd()))
}

// errNoInput means input ended before a blob arrived.
var errNoInput = errors.New("input ended before a blob arrived")

// errTwoBlobs means input that is not a person at a prompt held a second
// blob after the first: which one was meant cannot be told.
var errTwoBlobs = errors.New("standard input holds two blobs, one after the other, and pigeon cannot tell which one is meant")

// cutShortPause is how long a prompt waits for the rest of a blob that
// ends too early before it says so: a wrapped paste's lines arrive at once.
const cutShortPause = 300 * time.Millisecond

// prompt reads a description from lines of input: a pasted blob may be
// wrapped over several lines, raw SDP ends with an empty line. check judges
// what was read. At an interactive prompt a bad paste is explained and the
// prompt asks again, and a blob cut short (by the terminal, or half copied)
// is pointed out: the rest, or the whole blob again, completes it.
// Otherwise a bad paste is an error, and so, when one says the input holds
// just a blob (--in -), is a second blob after the first. (Without it, lines
// that follow the blob may be a chat's, where a blob pasted again is
// explained, not refused.)
func prompt(ctx context.Context, br *bufio.Reader, w io.Writer, interactive, one bool, ask string, check func(desc) error) (desc, error) {
	lines := make(chan lineResult, 1) // a read left behind when ctx ends does not wait
	reading := false
	for {
		if interactive {
			fmt.Fprintf(w, "%s ", ask)
		}
		var text []byte
		var nudge <-chan time.Time // when to say the blob looks cut short
		cutShort := false          // and it was said
		for {
			if !reading {
				go func() { l, err := readLine(br); lines <- lineResult{l, err} }()
				reading = true
			}
			var r lineResult
			select {
			case r = <-lines:
				reading = false
			case <-nudge:
				nudge, cutShort = nil, true
				fmt.Fprintf(w, "pigeon: the blob looks cut short (%d characters so far): paste the rest of it, or the whole blob again, then press Enter\n", len(bytes.TrimSpace(text)))
				continue
			case <-ctx.Done():
				return desc{}, ctx.Err()
			}
			nudge = nil
			if r.err != nil && r.err != io.EOF {
				return desc{}, r.err
			}
			if cutShort && startsBlob(r.line) {
				text = nil // the whole blob again, not the rest of it
			}
			cutShort = false
			text = append(text, r.line...)
			if r.err == io.EOF && len(bytes.TrimSpace(text)) == 0 {
				return desc{}, errNoInput
			}
			if len(bytes.TrimSpace(text)) == 0 {
				continue // blank lines before the blob
			}
			more := r.err == nil && len(text) < sdpcodec.MaxInputLen
			blankLine := len(bytes.TrimSpace(r.line)) == 0
			if more && !blankLine && bytes.HasPrefix(bytes.TrimSpace(text), []byte("v=0")) {
				continue // raw SDP: it ends with an empty line
			}
			d, err := parseDesc(string(text))
			if err != nil && interactive {
				err = cutByTerminal(r.line, err)
			}
			if errors.Is(err, sdpcodec.ErrTruncated) && more && !blankLine {
				// A wrapped paste: the rest is on the next line. At a
				// prompt, say so if it does not come.
				if interactive {
					nudge = time.After(cutShortPause)
				}
				continue
			}
			if errors.Is(err, sdpcodec.ErrEmpty) && more {
				continue // only what Clean drops so far, e.g. "```text" opening a code fence
			}
			if err == nil {
				err = check(d)
			}
			if err == nil && one && !interactive && secondBlob(br) {
				err = errTwoBlobs
			}
			if err == nil {
				return d, nil
			}
			if !interactive || r.err == io.EOF {
				return desc{}, err
			}
			msg, hint := explain(err)
			fmt.Fprintf(w, "pigeon: that did not work: %s\n", msg)
			if hint != "" {
				fmt.Fprintf(w, "pigeon: hint: %s\n", hint)
			}
			break
		}
	}
}

// Terminals pass a line of at most this many characters to a program that
// reads it (the rest of a longer paste is dropped): 4,096 on Linux with its
// newline, 1,024 on macOS. A browser's description is 1,000 to 3,000.
var terminalLineLimits = []int{1023, 1024, 4095, 4096}

// terminalCutError means a line that did not read stopped exactly where a
// terminal cuts lines: the terminal dropped the rest of the paste.
type terminalCutError struct {
	n   int
	err error
}

func (e *terminalCutError) Error() string {
	return fmt.Sprintf("the terminal cut the paste at %d characters, where it cuts every line (%v)", e.n, e.err)
}

func (e *terminalCutError) Unwrap() error { return e.err }

// cutByTerminal says so when err is about a line of a length terminals
// cut pastes at.
func cutByTerminal(line []byte, err error) error {
	n := len(bytes.TrimRight(line, "\r\n"))
	if slices.Contains(terminalLineLimits, n) {
		return &terminalCutError{n, err}
	}
	return err
}

// startsBlob reports whether line starts a pigeon blob.
func startsBlob(line []byte) bool {
	return strings.HasPrefix(strings.ToUpper(sdpcodec.Clean(string(line))), sdpcodec.Prefix)
}

// secondBlob reports whether what br already holds, after the blob just
// read, starts another blob: the first line that is not blank.
func secondBlob(br *bufio.Reader) bool {
	rest, _ := br.Peek(br.Buffered())
	for _, line := range bytes.Split(rest, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			return startsBlob(line)
		}
	}
	return false
}

type lineResult struct {
	line []byte
	err  error
}

// readLine reads one line, at most MaxInputLen bytes of it.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line) <= sdpcodec.MaxInputLen {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
}

package transfer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"
)

// Stats counts what a transfer moved.
type Stats struct {
	Files   int           // files that crossed the connection, whole or resumed
	Skipped int           // files already there with the same content
	Bytes   int64         // file content that crossed the connection
	Resumed int64         // bytes of resumed files that were already there
	Elapsed time.Duration // from the receiver's acceptance to the end
}

// SendOptions configures [Send].
type SendOptions struct {
	// Progress, if set, is called as data goes out: done counts the bytes
	// of content the receiver has or is being sent (skipped and resumed
	// ones included) out of total (-1 while a stream's size is unknown),
	// and current names the file being sent. It must not block.
	Progress func(done, total int64, current string)
	// Accepted, if set, is called once the receiver accepted the
	// transfer, before any data is sent.
	Accepted func()
}

// Send offers entries (from [Scan] and [Stream]) to the receiver at the
// other end of conn and sends what it accepts. It returns once the
// receiver confirmed that every file arrived whole, or with why not: a
// *[PeerError] when the receiver refused or stopped.
func Send(ctx context.Context, conn Conn, entries []Entry, opts SendOptions) (Stats, error) {
	start := time.Now()
	var st Stats
	if err := checkEntries(entries); err != nil {
		return st, err
	}
	l := newLink(conn)
	defer l.close()
	fail := func(err error) (Stats, error) {
		st.Elapsed = time.Since(start)
		return st, l.fail(err)
	}

	if err := l.writeJSON(frameManifest, toWire(entries)); err != nil {
		return fail(err)
	}
	var h have
	if err := l.readJSON(ctx, frameHave, &h); err != nil {
		return fail(refused(err))
	}
	var v verdict
	prefixes := map[int]hash.Hash{} // hashes of matching partial files' bytes
	for _, f := range h.Files {
		if f.Index < 0 || f.Index >= len(entries) || entries[f.Index].Kind != File {
			return fail(fmt.Errorf("%w: have names entry %d, which is no file", ErrProtocol, f.Index))
		}
		e := entries[f.Index]
		if e.r != nil || f.Size > e.Size || (f.Final && f.Size != e.Size) {
			continue
		}
		hh, err := hashPrefix(e.src, f.Size)
		if err != nil {
			return fail(err)
		}
		if string(hh.Sum(nil)) == string(f.SHA256) {
			v.Match = append(v.Match, f.Index)
			if !f.Final {
				prefixes[f.Index] = hh
			}
		}
	}
	if err := l.writeJSON(frameVerdict, v); err != nil {
		return fail(err)
	}
	var p plan
	if err := l.readJSON(ctx, framePlan, &p); err != nil {
		return fail(refused(err))
	}
	start = time.Now()
	if opts.Accepted != nil {
		opts.Accepted()
	}

	// What to send: every file, minus skipped ones, resumed ones from
	// their offset.
	skip := map[int]bool{}
	offsets := map[int]int64{}
	var total, done int64
	for _, i := range p.Skip {
		if i < 0 || i >= len(entries) || entries[i].Kind != File || entries[i].r != nil {
			return fail(fmt.Errorf("%w: the plan skips entry %d", ErrProtocol, i))
		}
		skip[i] = true
	}
	for _, r := range p.Resume {
		if r.Index < 0 || r.Index >= len(entries) || prefixes[r.Index] == nil || r.Offset != sizeOfPrefix(h, r.Index) {
			return fail(fmt.Errorf("%w: the plan resumes entry %d at %d", ErrProtocol, r.Index, r.Offset))
		}
		offsets[r.Index] = r.Offset
	}
	for i, e := range entries {
		if e.Kind != File {
			continue
		}
		if e.Size < 0 {
			total = -1
		} else if total >= 0 {
			total += e.Size
		}
		if skip[i] {
			done += e.Size
			st.Skipped++
		}
	}
	progress := func(current string) {
		if opts.Progress != nil {
			opts.Progress(done, total, current)
		}
	}

	// The receiver speaks again only to abort, or to acknowledge done.
	replies := make(chan error, 1)
	go func() {
		typ, _, err := l.read(ctx)
		if err == nil && typ != frameAck {
			err = fmt.Errorf("%w: message type %d during the data", ErrProtocol, typ)
		}
		replies <- err
	}()
	// A write fails when the receiver has gone; it may have said why.
	writeErr := func(err error) error {
		select {
		case r := <-replies:
			if r != nil {
				return r
			}
		case <-time.After(time.Second):
		}
		return err
	}

	// stopped says why to stop early: the receiver spoke, or ctx ended.
	stopped := func() error {
		select {
		case err := <-replies:
			if err == nil {
				err = fmt.Errorf("%w: acknowledged before the end", ErrProtocol)
			}
			return err
		default:
		}
		return ctx.Err()
	}
	buf := make([]byte, chunkSize)
	for i, e := range entries {
		if e.Kind != File || skip[i] {
			continue
		}
		if err := stopped(); err != nil {
			return fail(err)
		}
		off := offsets[i]
		hh := prefixes[i]
		if off == 0 || hh == nil {
			hh, off = sha256.New(), 0
		}
		done += off
		st.Resumed += off
		progress(e.Path)
		if err := sendFile(l, e, off, hh, buf, stopped, func(n int) {
			st.Bytes += int64(n)
			done += int64(n)
			if e.Size < 0 && total >= 0 {
				total += int64(n)
			}
			progress(e.Path)
		}); err != nil {
			if errors.Is(err, errWrite) {
				err = writeErr(errors.Unwrap(err))
			}
			return fail(err)
		}
		st.Files++
	}
	if err := l.write(frameDone, nil); err != nil {
		return fail(writeErr(err))
	}
	var err error
	select {
	case err = <-replies:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		return fail(err)
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// refused marks a peer's abort before the plan as a refusal.
func refused(err error) error {
	var pe *PeerError
	if errors.As(err, &pe) {
		pe.Refused = true
	}
	return err
}

func sizeOfPrefix(h have, index int) int64 {
	for _, f := range h.Files {
		if f.Index == index && !f.Final {
			return f.Size
		}
	}
	return -1
}

// hashPrefix hashes the first n bytes of the file at path.
func hashPrefix(path string, n int64) (hash.Hash, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, n); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, unwrapPath(err))
	}
	return h, nil
}

// errWrite marks a failed write to the connection.
var errWrite = errors.New("write")

type writeError struct{ err error }

func (e writeError) Error() string   { return e.err.Error() }
func (e writeError) Unwrap() error   { return e.err }
func (e writeError) Is(t error) bool { return t == errWrite }

// sendFile sends e from offset off: data frames, then the file end with
// the SHA-256 of the whole file (hh holds that of its first off bytes).
// sent is called after each data frame, then stopped, which ends the
// sending with its error.
func sendFile(l *link, e Entry, off int64, hh hash.Hash, buf []byte, stopped func() error, sent func(int)) error {
	r := e.r
	if r == nil {
		f, err := os.Open(e.src)
		if err != nil {
			return fmt.Errorf("reading %s: %w", e.src, unwrapPath(err))
		}
		defer f.Close()
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("reading %s: %w", e.src, err)
		}
		r = f
	}
	pos := off
	for {
		want := len(buf)
		if e.Size >= 0 && e.Size-pos < int64(want) {
			want = int(e.Size - pos)
		}
		n, err := io.ReadFull(r, buf[:want])
		if n > 0 {
			hh.Write(buf[:n])
			if werr := l.write(frameData, buf[:n]); werr != nil {
				return writeError{werr}
			}
			pos += int64(n)
			sent(n)
			if err := stopped(); err != nil {
				return err
			}
		}
		if e.Size >= 0 && pos == e.Size {
			break
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if e.Size >= 0 {
				return fmt.Errorf("reading %s: it shrank to %d bytes while being sent, from %d", e.Path, pos, e.Size)
			}
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", e.Path, unwrapPath(err))
		}
	}
	if err := l.write(frameFileEnd, hh.Sum(nil)); err != nil {
		return writeError{err}
	}
	return nil
}

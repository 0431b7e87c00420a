package transfer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"time"
)

// ReceiveOptions configures [Receive].
type ReceiveOptions struct {
	// Root is the target folder. Every file operation goes through it, so
	// nothing is written outside it.
	Root *os.Root
	// Confirm, if set, is shown the offer once it is known what the
	// transfer would do, before anything is written; an error refuses the
	// transfer and is what Receive returns.
	Confirm func(Offer) error
	// Overwrite allows replacing files and links that differ from the
	// ones offered; without it their existence refuses the transfer.
	Overwrite bool
	// Progress is called as in [SendOptions]; it must not block.
	Progress func(done, total int64, current string)
	// MaxSize, if positive, is the most file content the transfer may
	// write: an offer of more is refused before anything is written, and
	// a stream (whose size is known only at its end) that would pass it is
	// stopped, and its partial file removed.
	MaxSize int64
	// KeepFree is the space the transfer leaves free on the target's
	// disk: an offer whose files do not fit above it is refused before
	// anything is written, and a stream is stopped, and its partial file
	// removed, before the free space falls below it. Zero means
	// [DefaultKeepFree]; a negative value turns the check off.
	KeepFree int64

	// freeSpace, if set, stands in for the free space of Root's disk.
	freeSpace func() int64
}

// Offer is what a sender offers, as the receiver's [ReceiveOptions.Confirm]
// is shown it.
type Offer struct {
	Entries            []Entry
	Files, Dirs, Links int
	Size               int64    // bytes of the files whose size is known
	Streams            int      // files whose size is known only at their end
	Existing           int      // files already here with the same content: not sent
	Resumed            int64    // bytes already here in partial files: not sent again
	Replace            []string // files and links the transfer replaces (with Overwrite)
}

// Receive receives a transfer from the sender at the other end of conn
// into opts.Root. It returns once every file, link and folder is in place
// and the sender knows it, or with why not; a file appears under its final
// name only when it arrived whole.
func Receive(ctx context.Context, conn Conn, opts ReceiveOptions) (Stats, error) {
	start := time.Now()
	var st Stats
	if opts.Root == nil {
		return st, errors.New("transfer: no target folder")
	}
	l := newLink(conn)
	defer l.close()
	fail := func(err error) (Stats, error) {
		st.Elapsed = time.Since(start)
		return st, l.fail(err)
	}

	var m manifest
	if err := l.readJSON(ctx, frameManifest, &m); err != nil {
		return fail(err)
	}
	entries, err := fromWire(m)
	if err != nil {
		return fail(err)
	}
	r := &receiver{root: opts.Root, opts: opts, entries: entries,
		state: make([]entryState, len(entries)), made: map[string]bool{}, dirty: map[string]bool{},
		space: space{maxSize: opts.MaxSize, keepFree: opts.KeepFree, free: opts.freeSpace}}
	if r.space.keepFree == 0 {
		r.space.keepFree = DefaultKeepFree
	}
	if r.space.free == nil {
		r.space.free = func() int64 { return freeSpace(opts.Root) }
	}
	h, err := r.survey()
	if err != nil {
		return fail(err)
	}
	if err := l.writeJSON(frameHave, h); err != nil {
		return fail(err)
	}
	var v verdict
	if err := l.readJSON(ctx, frameVerdict, &v); err != nil {
		return fail(err)
	}
	p, offer, err := r.decide(h, v)
	if err != nil {
		return fail(err)
	}
	if err := r.space.checkOffer(r.need()); err != nil {
		return fail(err)
	}
	if opts.Confirm != nil {
		if err := opts.Confirm(offer); err != nil {
			return fail(err)
		}
	}
	start = time.Now()
	if err := l.writeJSON(framePlan, p); err != nil {
		return fail(err)
	}

	// Folders first, so that their files have a place.
	for i, e := range entries {
		if e.Kind == Dir && r.state[i].created {
			if err := r.mkdirAll(e.Path); err != nil {
				return fail(err)
			}
		}
	}
	var total, done int64 = offer.Size, offer.Resumed
	if offer.Streams > 0 {
		total = -1
	}
	for i, e := range entries {
		if e.Kind == File && r.state[i].skip {
			done += e.Size
			st.Skipped++
		}
	}
	r.placer = newPlacer(r)
	defer r.placer.wait()
	for i, e := range entries {
		if e.Kind != File || r.state[i].skip {
			continue
		}
		if err := r.placer.failed(); err != nil {
			return fail(err)
		}
		st.Resumed += r.state[i].offset
		err := r.receiveFile(ctx, l, i, func(n int) {
			st.Bytes += int64(n)
			done += int64(n)
			if opts.Progress != nil {
				opts.Progress(done, total, e.Path)
			}
		})
		if err != nil {
			return fail(fmt.Errorf("receiving %s: %w", e.Path, err))
		}
		st.Files++
	}
	typ, _, err := l.read(ctx)
	if err != nil {
		return fail(err)
	}
	if typ != frameDone {
		return fail(fmt.Errorf("%w: message type %d where the end was expected", ErrProtocol, typ))
	}
	if err := r.placer.wait(); err != nil {
		return fail(err)
	}
	if err := r.makeLinks(); err != nil {
		return fail(err)
	}
	if err := r.syncDirs(); err != nil {
		return fail(err)
	}
	if err := r.setFolders(); err != nil {
		return fail(err)
	}
	if err := l.write(frameAck, nil); err != nil {
		return fail(err)
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

type receiver struct {
	root    *os.Root
	opts    ReceiveOptions
	entries []Entry
	state   []entryState
	made    map[string]bool // folders known to exist
	placer  *placer
	space   space

	dirsMu sync.Mutex
	dirty  map[string]bool // folders whose entries changed, to flush
}

// entryState is what the target folder holds for an entry and what the
// transfer does with it.
type entryState struct {
	created bool      // a folder that did not exist
	final   bool      // a file or link of that name exists
	replace bool      // ... and will be replaced
	skip    bool      // ... and holds what is offered
	partial int64     // bytes of a partial file (-1: none)
	offset  int64     // where the data starts
	hash    hash.Hash // of the partial file's content
	finalH  []byte    // SHA-256 of the existing file of the offered size
}

// partialName is where the file at p is written until it is complete.
func partialName(p string) string {
	dir, base := path.Split(p)
	return dir + "." + base + partialSuffix
}

// survey looks at what the target folder holds for each entry, and hashes
// what may be kept: existing files of the offered size and partial files.
func (r *receiver) survey() (have, error) {
	var h have
	var replace []string
	for i, e := range r.entries {
		s := &r.state[i]
		s.partial = -1
		info, err := r.root.Lstat(e.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			s.created = e.Kind == Dir
		case err != nil:
			return h, &ConflictError{Path: e.Path, Why: reason(err)}
		case info.IsDir():
			if e.Kind != Dir {
				return h, &ConflictError{Path: e.Path, Why: "a folder of that name is there"}
			}
		case e.Kind == Dir:
			return h, &ConflictError{Path: e.Path, Why: "it is there and is not a folder"}
		case e.Kind == Symlink:
			s.final = true
			if target, err := r.root.Readlink(e.Path); err == nil && target == e.Target {
				s.skip = true
			} else {
				s.replace = true
				replace = append(replace, e.Path)
			}
		default: // a file
			s.final = true
			if !info.Mode().IsRegular() || e.Size < 0 || info.Size() != e.Size {
				s.replace = true
				replace = append(replace, e.Path)
			}
		}
		if e.Kind != File {
			continue
		}
		info, err = r.root.Lstat(partialName(e.Path))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return h, &ConflictError{Path: e.Path, Why: reason(err)}
		case !info.Mode().IsRegular():
			return h, &ConflictError{Path: e.Path, Why: fmt.Sprintf("%s is there and is not a file", partialName(e.Path))}
		default:
			s.partial = info.Size()
		}
	}
	if len(replace) > 0 && !r.opts.Overwrite {
		return h, &ExistsError{Paths: replace}
	}
	for i, e := range r.entries {
		s := &r.state[i]
		if e.Kind != File {
			continue
		}
		if s.final && !s.replace {
			sum, err := r.hashFile(e.Path)
			if err != nil {
				return h, err
			}
			s.finalH = sum.Sum(nil)
			h.Files = append(h.Files, haveFile{Index: i, Final: true, Size: e.Size, SHA256: s.finalH})
		}
		if s.partial > 0 && e.Size >= 0 && s.partial <= e.Size {
			sum, err := r.hashFile(partialName(e.Path))
			if err != nil {
				return h, err
			}
			s.hash = sum
			h.Files = append(h.Files, haveFile{Index: i, Size: s.partial, SHA256: sum.Sum(nil)})
		}
	}
	return h, nil
}

func (r *receiver) hashFile(name string) (hash.Hash, error) {
	f, err := r.root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, unwrapPath(err))
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, unwrapPath(err))
	}
	return h, nil
}

// decide turns the sender's verdict into the plan, and what it means into
// the offer a person is shown.
func (r *receiver) decide(h have, v verdict) (plan, Offer, error) {
	p := plan{Skip: []int{}, Resume: []resume{}}
	o := Offer{Entries: r.entries}
	match := map[[2]int]bool{} // index, final
	matched := map[int]bool{}
	for _, i := range v.Match {
		matched[i] = true
	}
	for _, f := range h.Files {
		if matched[f.Index] {
			final := 0
			if f.Final {
				final = 1
			}
			match[[2]int{f.Index, final}] = true
		}
	}
	var replace []string
	for i, e := range r.entries {
		s := &r.state[i]
		switch e.Kind {
		case Dir:
			o.Dirs++
			continue
		case Symlink:
			o.Links++
			if s.replace {
				replace = append(replace, e.Path)
			}
			continue
		}
		o.Files++
		if e.Size < 0 {
			o.Streams++
		} else {
			o.Size += e.Size
		}
		switch {
		case s.final && !s.replace && match[[2]int{i, 1}]:
			s.skip = true
			o.Existing++
			p.Skip = append(p.Skip, i)
			continue
		case s.final:
			s.replace = true
			replace = append(replace, e.Path)
		}
		if s.hash != nil && match[[2]int{i, 0}] {
			s.offset = s.partial
			o.Resumed += s.partial
			p.Resume = append(p.Resume, resume{Index: i, Offset: s.partial})
		} else {
			s.hash = nil
		}
	}
	if len(replace) > 0 && !r.opts.Overwrite {
		return p, o, &ExistsError{Paths: replace}
	}
	o.Replace = replace
	return p, o, nil
}

// need is how many bytes of files of known size the plan writes.
func (r *receiver) need() int64 {
	var n int64
	for i, e := range r.entries {
		if e.Kind == File && e.Size >= 0 && !r.state[i].skip {
			n += e.Size - r.state[i].offset
		}
	}
	return n
}

func (r *receiver) mkdirAll(dir string) error {
	if dir == "." || r.made[dir] {
		return nil
	}
	if err := r.root.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making the folder %s: %w", dir, unwrapPath(err))
	}
	r.made[dir] = true
	r.madeDirs(dir)
	return nil
}

// writeBehind is how much of a file arrives between two requests that the
// system start writing it to the disk (startWriteback).
const writeBehind = 8 << 20

// receiveFile receives entry i into its partial file, checks it, and
// hands it to the placer, which gives it its final name, mode and time.
// received is called after each data frame.
func (r *receiver) receiveFile(ctx context.Context, l *link, i int, received func(int)) (err error) {
	e, s := r.entries[i], &r.state[i]
	if err := r.mkdirAll(path.Dir(e.Path)); err != nil {
		return err
	}
	tmp := partialName(e.Path)
	f, err := r.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return unwrapPath(err)
	}
	discard := false
	defer func() {
		if f != nil {
			f.Close()
		}
		if discard {
			_ = r.root.Remove(tmp)
		}
	}()
	hh := s.hash
	if s.offset == 0 || hh == nil {
		hh, s.offset = sha256.New(), 0
	}
	if err := f.Truncate(s.offset); err != nil {
		return err
	}
	if _, err := f.Seek(s.offset, io.SeekStart); err != nil {
		return err
	}
	limit := e.Size - s.offset // -1 or less for a stream
	var got, written int64     // written: handed to startWriteback
	for {
		typ, body, err := l.read(ctx)
		if err != nil {
			return err
		}
		switch typ {
		case frameData:
			if e.Size >= 0 && got+int64(len(body)) > limit {
				discard = true
				return fmt.Errorf("%w: the sender sent more than the %d bytes it announced", ErrProtocol, e.Size)
			}
			if e.Size < 0 {
				if err := r.space.streamRoom(len(body), got); err != nil {
					discard = true
					return err
				}
			} else {
				r.space.wrote(len(body))
			}
			if _, err := f.Write(body); err != nil {
				return unwrapPath(err)
			}
			hh.Write(body)
			got += int64(len(body))
			if got-written >= writeBehind {
				startWriteback(f, s.offset+written, got-written)
				written = got
			}
			received(len(body))
		case frameFileEnd:
			if e.Size >= 0 && got != limit {
				return fmt.Errorf("%w: the file ended after %d of the %d bytes announced", ErrProtocol, s.offset+got, e.Size)
			}
			if !bytes.Equal(hh.Sum(nil), body) {
				discard = true
				return errors.New("it arrived damaged: its SHA-256 differs from the sender's")
			}
			r.placer.add(f, i)
			f = nil
			return nil
		default:
			return fmt.Errorf("%w: message type %d inside a file", ErrProtocol, typ)
		}
	}
}

// prepare gives the complete partial file f of entry i its mode and
// time, before it is flushed.
func (r *receiver) prepare(f *os.File, i int) error {
	e := r.entries[i]
	if err := f.Chmod(e.Mode.Perm()); err != nil {
		return err
	}
	if !e.ModTime.IsZero() {
		return r.root.Chtimes(partialName(e.Path), e.ModTime, e.ModTime)
	}
	return nil
}

// place gives the partial file of entry i, complete and flushed, its
// final name.
func (r *receiver) place(i int) error {
	e, s := r.entries[i], &r.state[i]
	if !s.replace {
		// It was not there when we looked; it must not be there now.
		if _, err := r.root.Lstat(e.Path); !errors.Is(err, fs.ErrNotExist) {
			return &ExistsError{Paths: []string{e.Path}}
		}
	}
	if err := r.root.Rename(partialName(e.Path), e.Path); err != nil {
		return err
	}
	r.changed(path.Dir(e.Path))
	return nil
}

// makeLinks makes the links, once every file is in place.
func (r *receiver) makeLinks() error {
	for i, e := range r.entries {
		s := &r.state[i]
		if e.Kind != Symlink || s.skip {
			continue
		}
		if s.replace {
			if err := r.root.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("replacing %s: %w", e.Path, unwrapPath(err))
			}
		}
		if err := r.mkdirAll(path.Dir(e.Path)); err != nil {
			return err
		}
		if err := r.root.Symlink(e.Target, e.Path); err != nil {
			return fmt.Errorf("making the link %s: %w", e.Path, unwrapPath(err))
		}
		r.changed(path.Dir(e.Path))
	}
	return nil
}

// setFolders gives the folders made their modes and times, deepest
// first, as writing inside a folder changes its time. It comes after
// syncDirs, which must read the folders, whatever their modes.
func (r *receiver) setFolders() error {
	for i := len(r.entries) - 1; i >= 0; i-- {
		e := r.entries[i]
		if e.Kind != Dir || !r.state[i].created {
			continue
		}
		if !e.ModTime.IsZero() {
			if err := r.root.Chtimes(e.Path, e.ModTime, e.ModTime); err != nil {
				return fmt.Errorf("setting the time of %s: %w", e.Path, unwrapPath(err))
			}
		}
		if err := r.root.Chmod(e.Path, e.Mode.Perm()); err != nil {
			return fmt.Errorf("setting the mode of %s: %w", e.Path, unwrapPath(err))
		}
	}
	return nil
}

// reason is why an existing path cannot be used, for a person.
func reason(err error) string {
	return unwrapPath(err).Error()
}

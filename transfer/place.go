package transfer

import (
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Files are flushed in batches: once batchFiles are waiting, or
// batchBytes, or batchWait after the first of them arrived, or at the
// end. A batch of many small files is flushed with one call where the
// system has one (syncfs on Linux), as one flush per file of 1 KiB costs
// more than the rest of its transfer; a batch of few files is flushed
// file by file (fsync), which does not wait for other programs' writes.
const (
	batchFiles = 256
	batchBytes = 64 << 20
	batchWait  = 100 * time.Millisecond
	// batchOne: a batch of at most this many files is flushed file by file.
	batchOne = 4
)

// placer gives verified files their final names on its own goroutine, so
// that their flush to disk overlaps the arrival of the next ones. Every
// file's content is flushed before its rename; the folders whose entries
// changed are recorded, and flushed once each at the end by
// [receiver.syncDirs].
type placer struct {
	r    *receiver
	jobs chan placeJob
	done chan struct{}
	once sync.Once

	mu  sync.Mutex
	err error
}

type placeJob struct {
	f *os.File
	i int
}

func newPlacer(r *receiver) *placer {
	p := &placer{r: r, jobs: make(chan placeJob, 64), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *placer) run() {
	defer close(p.done)
	var (
		batch []placeJob
		size  int64
		timer = time.NewTimer(time.Hour)
		wait  <-chan time.Time // set while a batch waits
	)
	timer.Stop()
	flush := func() {
		p.flush(batch)
		batch, size, wait = batch[:0], 0, nil
		timer.Stop()
	}
	for {
		select {
		case j, ok := <-p.jobs:
			if !ok {
				flush()
				return
			}
			if p.failed() != nil {
				j.f.Close()
				continue
			}
			if err := p.r.prepare(j.f, j.i); err != nil {
				j.f.Close()
				p.fail(j.i, err)
				continue
			}
			if len(batch) == 0 {
				timer.Reset(batchWait)
				wait = timer.C
			}
			batch = append(batch, j)
			size += p.r.entries[j.i].Size
			if len(batch) >= batchFiles || size >= batchBytes || !canSyncFS {
				flush()
			}
		case <-wait:
			flush()
		}
	}
}

// flush makes the files of batch durable, then gives them their final
// names.
func (p *placer) flush(batch []placeJob) {
	if len(batch) == 0 {
		return
	}
	var err error
	if len(batch) > batchOne && canSyncFS {
		err = syncFS(batch[0].f)
	}
	for _, j := range batch {
		ferr := err
		if ferr == nil && (len(batch) <= batchOne || !canSyncFS) {
			ferr = j.f.Sync()
		}
		if cerr := j.f.Close(); ferr == nil {
			ferr = cerr
		}
		if ferr == nil && p.failed() == nil {
			ferr = p.r.place(j.i)
		}
		if ferr != nil {
			p.fail(j.i, ferr)
		}
	}
}

func (p *placer) fail(i int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = fmt.Errorf("receiving %s: %w", p.r.entries[i].Path, unwrapPath(err))
	}
}

func (p *placer) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// add hands over the complete, verified partial file f of entry i; it
// waits while the queue is full. A failure is reported by failed and
// wait; after one, the files still queued are closed and left as
// partial files, which a later transfer continues.
func (p *placer) add(f *os.File, i int) {
	p.jobs <- placeJob{f, i}
}

// wait waits until every file handed over is in place, and returns the
// first error. It may be called more than once.
func (p *placer) wait() error {
	p.once.Do(func() { close(p.jobs) })
	<-p.done
	return p.failed()
}

// changed records that the entries of folder dir changed.
func (r *receiver) changed(dir string) {
	r.dirsMu.Lock()
	r.dirty[dir] = true
	r.dirsMu.Unlock()
}

// syncDirs flushes every folder whose entries changed, so that the
// renames, new folders and links survive a crash of the machine.
func (r *receiver) syncDirs() error {
	if runtime.GOOS == "windows" {
		return nil // no flushing a folder there; NTFS journals its names
	}
	r.dirsMu.Lock()
	dirs := make([]string, 0, len(r.dirty))
	for d := range r.dirty {
		dirs = append(dirs, d)
	}
	r.dirsMu.Unlock()
	sort.Strings(dirs)
	for _, d := range dirs {
		f, err := r.root.Open(d)
		if err != nil {
			return fmt.Errorf("flushing the folder %s: %w", d, unwrapPath(err))
		}
		err = f.Sync()
		f.Close()
		if err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("flushing the folder %s: %w", d, unwrapPath(err))
		}
	}
	return nil
}

// madeDirs records the folders mkdirAll may have made for dir: their
// entries in their parents are new.
func (r *receiver) madeDirs(dir string) {
	for {
		parent := path.Dir(dir)
		r.changed(parent)
		if parent == "." {
			return
		}
		dir = parent
	}
}

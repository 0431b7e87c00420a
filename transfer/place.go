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
)

// placeWorkers is how many verified files are flushed and renamed at
// once. A journaling filesystem commits concurrent flushes together, so
// many small files cost a fraction of one flush each.
const placeWorkers = 16

// placer gives verified files their final names on worker goroutines, so
// that the flush of one (fsync, before its rename) overlaps the arrival of
// the next. It records the folders whose entries changed, which
// [receiver.syncDirs] flushes once each at the end.
type placer struct {
	r    *receiver
	jobs chan placeJob
	wg   sync.WaitGroup
	once sync.Once

	mu  sync.Mutex
	err error
}

type placeJob struct {
	f *os.File
	i int
}

func newPlacer(r *receiver) *placer {
	p := &placer{r: r, jobs: make(chan placeJob, placeWorkers)}
	for range placeWorkers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

func (p *placer) work() {
	defer p.wg.Done()
	for j := range p.jobs {
		if p.failed() != nil {
			j.f.Close()
			continue
		}
		if err := p.r.place(j.f, j.i); err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = fmt.Errorf("receiving %s: %w", p.r.entries[j.i].Path, err)
			}
			p.mu.Unlock()
		}
	}
}

func (p *placer) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// add hands over the complete, verified partial file f of entry i; it
// waits while every worker is busy and the queue is full. A worker's
// error is reported by failed and wait; after one, the files still
// queued are closed and left as partial files.
func (p *placer) add(f *os.File, i int) {
	p.jobs <- placeJob{f, i}
}

// wait waits until every file handed over is in place, and returns the
// first error. It may be called more than once.
func (p *placer) wait() error {
	p.once.Do(func() { close(p.jobs) })
	p.wg.Wait()
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

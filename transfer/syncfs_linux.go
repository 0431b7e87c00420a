package transfer

import (
	"os"

	"golang.org/x/sys/unix"
)

// canSyncFS: one call flushes a whole filesystem here (syncfs).
const canSyncFS = true

// syncFS flushes everything written to the filesystem that holds f.
func syncFS(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return err
	}
	return serr
}

// startWriteback asks the system to start writing the n bytes of f from
// off to the disk, without waiting for them (sync_file_range). A large
// file's final flush then has little left to write: without it, the system
// writes nothing of a file of a few GiB until that flush, which then takes
// seconds after the last byte arrived.
func startWriteback(f *os.File, off, n int64) {
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = sc.Control(func(fd uintptr) { _ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE) })
}

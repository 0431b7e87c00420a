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

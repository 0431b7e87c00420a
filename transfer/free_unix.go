//go:build linux || darwin || freebsd

package transfer

import (
	"os"
	"syscall"
)

// freeSpace is the space left for an unprivileged user on the disk that
// holds root's folder, or -1 when it cannot tell.
func freeSpace(root *os.Root) int64 {
	f, err := root.Open(".")
	if err != nil {
		return -1
	}
	defer f.Close()
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

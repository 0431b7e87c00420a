package transfer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Kind is what an [Entry] is.
type Kind uint8

const (
	File Kind = iota + 1
	Dir
	Symlink
)

func (k Kind) String() string {
	switch k {
	case File:
		return "file"
	case Dir:
		return "folder"
	case Symlink:
		return "symbolic link"
	}
	return fmt.Sprintf("kind %d", k)
}

// Entry is one file, folder or symbolic link of a transfer.
type Entry struct {
	// Path is where the entry goes, relative to the receiver's folder,
	// with slashes: the base name of what was named, then the path inside
	// it.
	Path    string
	Kind    Kind
	Size    int64 // bytes of a file; -1 for a stream of unknown size
	Mode    fs.FileMode
	ModTime time.Time
	Target  string // the text of a symbolic link

	src string    // the file to read, on the sender
	r   io.Reader // the stream to read, on the sender
}

// Stream is an entry named name whose content is read from r to its end,
// such as standard input; its size is known only then.
func Stream(name string, r io.Reader) Entry {
	return Entry{Path: name, Kind: File, Size: -1, Mode: 0o644, ModTime: time.Now(), r: r}
}

// Scan lists what sending paths means: each file, and each folder with
// everything inside it, under its base name. Symbolic links inside folders
// are sent as links, never followed; a path named here that is a link is
// followed, as the person named it. Devices, sockets and named pipes are
// refused with an error naming them.
func Scan(paths []string) ([]Entry, error) {
	var out []Entry
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		base := filepath.Base(abs)
		if base == string(filepath.Separator) || base == "." {
			return nil, fmt.Errorf("cannot send %s as a whole: name the files or folders inside it", p)
		}
		root, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, fmt.Errorf("cannot send %s: %w", p, unwrapPath(err))
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("cannot send %s: %w", path, unwrapPath(err))
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			name := base
			if rel != "." {
				name = base + "/" + filepath.ToSlash(rel)
			}
			shown := filepath.Join(p, rel)
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("cannot send %s: %w", shown, unwrapPath(err))
			}
			e := Entry{Path: name, Mode: info.Mode().Perm(), ModTime: info.ModTime()}
			switch t := info.Mode().Type(); {
			case t.IsDir():
				e.Kind = Dir
			case t.IsRegular():
				e.Kind, e.Size, e.src = File, info.Size(), path
			case t&fs.ModeSymlink != 0:
				e.Kind = Symlink
				if e.Target, err = os.Readlink(path); err != nil {
					return fmt.Errorf("cannot send %s: %w", shown, unwrapPath(err))
				}
			default:
				return fmt.Errorf("cannot send %s: it is a %s; only files, folders and symbolic links can be sent", shown, special(t))
			}
			out = append(out, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := Check(out); err != nil {
		return nil, err
	}
	return out, nil
}

func special(t fs.FileMode) string {
	switch {
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "device"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	}
	return "special file"
}

// unwrapPath drops the operation and path of a *fs.PathError, which the
// caller names better.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// Conn is the message connection a transfer runs over ([peer.Conn] is
// one): reliable and ordered, messages of up to 64 KiB.
type Conn interface {
	ReadMessage(buf []byte) (int, error)
	WriteMessage(msg []byte) error
}

// Frame types; see the package documentation.
const (
	frameMore     byte = 1
	frameManifest byte = 2
	frameHave     byte = 3
	frameVerdict  byte = 4
	framePlan     byte = 5
	frameData     byte = 6
	frameFileEnd  byte = 7
	frameDone     byte = 8
	frameAck      byte = 9
	frameAbort    byte = 10
)

// maxMessage is the largest message, as [peer.MaxMessage].
const maxMessage = 64 << 10

// chunkSize is the most file data one frame carries.
const chunkSize = maxMessage - 1

// maxControl bounds a control message (a manifest of MaxEntries entries
// with long names fits).
const maxControl = 256 << 20

// protocolVersion is the version of the manifest this package writes and
// reads.
const protocolVersion = 1

type wireEntry struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Size   int64  `json:"size,omitempty"`
	Mode   uint32 `json:"mode"`
	MTime  int64  `json:"mtime,omitempty"`
	Target string `json:"target,omitempty"`
}

type manifest struct {
	Version int         `json:"version"`
	Entries []wireEntry `json:"entries"`
}

type haveFile struct {
	Index  int    `json:"index"`
	Final  bool   `json:"final,omitempty"`
	Size   int64  `json:"size"`
	SHA256 []byte `json:"sha256"`
}

type have struct {
	Files []haveFile `json:"files"`
}

type verdict struct {
	Match []int `json:"match"`
}

type resume struct {
	Index  int   `json:"index"`
	Offset int64 `json:"offset"`
}

type plan struct {
	Skip   []int    `json:"skip"`
	Resume []resume `json:"resume"`
}

var kindNames = map[Kind]string{File: "file", Dir: "dir", Symlink: "symlink"}

func toWire(entries []Entry) manifest {
	m := manifest{Version: protocolVersion, Entries: make([]wireEntry, len(entries))}
	for i, e := range entries {
		w := wireEntry{Path: e.Path, Kind: kindNames[e.Kind], Size: e.Size, Mode: uint32(e.Mode.Perm()), Target: e.Target}
		if !e.ModTime.IsZero() {
			w.MTime = e.ModTime.UnixNano()
		}
		m.Entries[i] = w
	}
	return m
}

func fromWire(m manifest) ([]Entry, error) {
	if m.Version != protocolVersion {
		return nil, fmt.Errorf("%w: the sender speaks version %d of the transfer protocol and this pigeon version %d: update the older one", ErrProtocol, m.Version, protocolVersion)
	}
	if len(m.Entries) > MaxEntries {
		return nil, fmt.Errorf("%w: %d entries, more than %d", ErrProtocol, len(m.Entries), MaxEntries)
	}
	entries := make([]Entry, len(m.Entries))
	for i, w := range m.Entries {
		e := Entry{Path: w.Path, Size: w.Size, Mode: fsMode(w.Mode), Target: w.Target}
		for k, name := range kindNames {
			if name == w.Kind {
				e.Kind = k
			}
		}
		if w.MTime != 0 {
			e.ModTime = time.Unix(0, w.MTime)
		}
		entries[i] = e
	}
	return entries, checkEntries(entries)
}

// link carries frames over a Conn; its reads give way to a context.
type link struct {
	conn    Conn
	out     []byte
	msgs    chan message
	next    chan struct{}
	quit    chan struct{}
	started bool
}

type message struct {
	typ  byte
	body []byte
	err  error
}

func newLink(conn Conn) *link {
	return &link{conn: conn, out: make([]byte, maxMessage), msgs: make(chan message), next: make(chan struct{}), quit: make(chan struct{})}
}

// close stops the reader; one blocked in the Conn stays so until the
// connection is closed.
func (l *link) close() { close(l.quit) }

func (l *link) readLoop() {
	buf := make([]byte, maxMessage)
	for {
		n, err := l.conn.ReadMessage(buf)
		m := message{err: err}
		switch {
		case errors.Is(err, io.EOF):
			m.err = ErrIncomplete
		case err != nil:
		case n == 0:
			m.err = fmt.Errorf("%w: an empty message", ErrProtocol)
		default:
			m.typ, m.body = buf[0], buf[1:n]
		}
		select {
		case l.msgs <- m:
		case <-l.quit:
			return
		}
		if m.err != nil {
			return
		}
		select {
		case <-l.next:
		case <-l.quit:
			return
		}
	}
}

// read returns the next frame; its body is valid until the next read. An
// abort frame is returned as a *PeerError.
func (l *link) read(ctx context.Context) (byte, []byte, error) {
	if !l.started {
		l.started = true
		go l.readLoop()
	} else {
		select {
		case l.next <- struct{}{}:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
	select {
	case m := <-l.msgs:
		if m.err != nil {
			return 0, nil, m.err
		}
		if m.typ == frameAbort {
			return 0, nil, &PeerError{Reason: printable(string(m.body))}
		}
		return m.typ, m.body, nil
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

// write sends one frame.
func (l *link) write(typ byte, body []byte) error {
	l.out[0] = typ
	n := copy(l.out[1:], body)
	return l.conn.WriteMessage(l.out[:1+n])
}

// abort tells the peer why we stop; errors are ignored: we are stopping.
func (l *link) abort(reason string) {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	_ = l.write(frameAbort, []byte(reason))
}

// writeJSON sends v as a control message of type typ.
func (l *link) writeJSON(typ byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	for len(data) > chunkSize {
		if err := l.write(frameMore, data[:chunkSize]); err != nil {
			return err
		}
		data = data[chunkSize:]
	}
	return l.write(typ, data)
}

// readJSON reads a control message of type want into v.
func (l *link) readJSON(ctx context.Context, want byte, v any) error {
	var data []byte
	for {
		typ, body, err := l.read(ctx)
		if err != nil {
			return err
		}
		if typ != frameMore && typ != want {
			return fmt.Errorf("%w: message type %d where %d was expected", ErrProtocol, typ, want)
		}
		if len(data)+len(body) > maxControl {
			return fmt.Errorf("%w: a control message larger than %d bytes", ErrProtocol, maxControl)
		}
		data = append(data, body...)
		if typ == want {
			if err := json.Unmarshal(data, v); err != nil {
				return fmt.Errorf("%w: %v", ErrProtocol, err)
			}
			return nil
		}
	}
}

func fsMode(m uint32) fs.FileMode { return fs.FileMode(m) & fs.ModePerm }

// fail tells the peer why we stop, unless the peer stopped first or the
// connection is gone, and returns err.
func (l *link) fail(err error) error {
	var pe *PeerError
	if !errors.As(err, &pe) && !errors.Is(err, ErrIncomplete) {
		l.abort(err.Error())
	}
	return err
}

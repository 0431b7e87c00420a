package peer

import (
	"context"
	"crypto/tls"
	"net/netip"
	"sync"

	"pigeon/peer/internal/hostnet"
	"pigeon/peer/internal/link"
)

// A lane is one further connection between the two sides, made once the
// first is up: a link (peer/internal/link) whose DTLS handshake checks
// that the other side holds the certificate of the first connection, which
// the verification code covers. Its description goes over the control
// channel (lanes.go).

// lane is one further connection.
type lane struct {
	id   int
	link *link.Link
	open chan struct{} // closed once the lane is connected, or failed to

	restartMu sync.Mutex // serializes the lane's ICE restarts (lanerestart.go)

	mu      sync.Mutex
	conn    *Conn // once connected
	err     error // why the lane did not connect, once open is closed
	opened  bool
	used    bool // carries part of a striped stream: its end ends the session
	closing bool // closed by us: its end is no news
}

// newLane makes lane id's link.
func (p *Peer) newLane(id int) (*lane, error) {
	cert, err := tlsCertificate(p)
	if err != nil {
		return nil, err
	}
	l := &lane{id: id, open: make(chan struct{})}
	l.link, err = link.New(link.Config{
		Policy:        p.opts.policy(p.loopOnly),
		LostTimeout:   p.opts.LostTimeout,
		Certificate:   cert,
		Remote:        p.Remote().Fingerprint,
		MaxMessage:    MaxMessage,
		ReceiveBuffer: sctpReceiveBuffer,
		RTOMax:        sctpRTOMax,
		LoggerFactory: p.opts.LoggerFactory,
		OnFailed: func() {
			l.mu.Lock()
			news := l.used && !l.closing
			l.mu.Unlock()
			// A lane closed by the other side is news only with the
			// rest of the session, which ends when the first
			// connection closes.
			if news {
				p.laneLost()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	ended := p.err != nil
	if !ended {
		p.lanes.all = append(p.lanes.all, l)
	}
	p.mu.Unlock()
	if ended {
		l.close()
		return nil, p.Err()
	}
	return l, nil
}

// connect connects the lane to the other side's (remote). It closes
// l.open, with l.err set if it failed.
func (l *lane) connect(ctx context.Context, p *Peer, remote link.Desc, offerer bool) (err error) {
	defer func() {
		l.mu.Lock()
		l.err = err
		l.opened = err == nil
		l.mu.Unlock()
		close(l.open)
	}()
	ch, err := l.link.Connect(ctx, remote, offerer)
	if err != nil {
		return err
	}
	conn := newConn(p, ch)
	conn.rw = ch
	l.mu.Lock()
	l.conn = conn
	l.mu.Unlock()
	return nil
}

// announcedMTU is what p's lanes announce (link.Desc.MTU): the path MTU
// towards the other side on the first connection's path, 0 if unknown.
func (p *Peer) announcedMTU() int {
	pair, err := p.selectedPair()
	if err != nil {
		return 0
	}
	local, err := netip.ParseAddr(pair.Local.Address)
	if err != nil {
		return 0
	}
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return 0
	}
	return hostnet.PathMTU(local.Unmap(), netip.AddrPortFrom(remote.Unmap(), pair.Remote.Port))
}

// tlsCertificate is the first connection's certificate, for DTLS on a lane.
func tlsCertificate(p *Peer) (tls.Certificate, error) {
	pem, err := p.cert.PEM()
	if err != nil {
		return tls.Certificate{}, err
	}
	// The PEM holds the certificate, then the private key.
	return tls.X509KeyPair([]byte(pem), []byte(pem))
}

// close closes the lane. Closing it again does nothing.
func (l *lane) close() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.link.Close()
}

// buffered is what the lane's association still has to deliver.
func (l *lane) buffered() uint64 { return l.link.Buffered() }

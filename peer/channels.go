package peer

import (
	"context"
	"fmt"

	"github.com/pion/datachannel"
	"github.com/pion/webrtc/v4"

	"pigeon/sdpcodec"
)

// Channels besides channel 0.
//
// Channel 0 is pre-negotiated: both sides create it with stream ID 0 and it
// opens without a handshake. Other channels are opened in band (DCEP, RFC
// 8832) by either side once the connection is up. Pion gives a new channel
// the lowest free stream ID of its side's parity: even IDs for the DTLS
// client (always the answerer: newPeer sets it), odd IDs for the DTLS server
// (the offerer), as RFC 8832 section 6 asks. It skips IDs already in use,
// and it counts channel 0 as in use because it was created with that ID, so
// the answerer's first channel is 2 and the offerer's is 1: the two sides
// never collide with each other or with channel 0.
//
// Pion never frees a stream ID, even after its channel closed, so each side
// can open at most 32,767 channels in one session; [Peer.OpenChannel] fails
// after that.

// channelLabel names the channels pigeon opens.
const channelLabel = "pigeon"

// maxPendingChannels bounds the channels the other side opened and nobody
// accepted yet; further ones are closed at once.
const maxPendingChannels = 256

// channels tracks the open channels besides channel 0, so that the end of
// the peer closes them. It is guarded by [Peer.mu].
type channels struct {
	open    map[*Conn]struct{} // nil once the peer ended
	pending []*Conn            // opened by the other side, not yet accepted
	arrived chan struct{}      // closed (and replaced) when pending grows
}

func (cs *channels) init() {
	cs.open = map[*Conn]struct{}{}
	cs.arrived = make(chan struct{})
}

// add records an open channel; it reports false once the peer has ended.
func (cs *channels) add(c *Conn) bool {
	if cs.open == nil {
		return false
	}
	cs.open[c] = struct{}{}
	return true
}

func (cs *channels) remove(c *Conn) {
	delete(cs.open, c)
}

// takeAll returns every open channel and refuses new ones from then on.
func (cs *channels) takeAll() []*Conn {
	out := make([]*Conn, 0, len(cs.open))
	for c := range cs.open {
		out = append(out, c)
	}
	cs.open, cs.pending = nil, nil
	return out
}

// OpenChannel opens a new channel to the other side, which receives it from
// [Peer.AcceptChannel]. It waits for the connection (as [Peer.Connect]
// does) and then for the channel to open.
func (p *Peer) OpenChannel(ctx context.Context) (*Conn, error) {
	select {
	case <-p.opened:
	case <-p.done:
		return nil, p.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	dc, err := p.pc.CreateDataChannel(channelLabel, nil)
	if err != nil {
		if perr := p.Err(); perr != nil {
			return nil, perr
		}
		return nil, fmt.Errorf("opening a channel: %w", err)
	}
	c := newConn(p, dc)
	type result struct {
		rw  datachannel.ReadWriteCloser
		err error
	}
	detached := make(chan result, 1)
	// Detach in the handler itself: pion warns about channels not detached
	// by the time it returns.
	dc.OnOpen(func() {
		rw, err := dc.Detach()
		detached <- result{rw, err}
	})
	var r result
	select {
	case r = <-detached:
	case <-p.done:
		_ = dc.Close()
		return nil, p.Err()
	case <-ctx.Done():
		_ = dc.Close()
		return nil, ctx.Err()
	}
	if r.err != nil {
		_ = dc.Close()
		return nil, fmt.Errorf("opening a channel: %w", r.err)
	}
	c.rw = r.rw
	p.mu.Lock()
	ok := p.channels.add(c)
	p.mu.Unlock()
	if !ok {
		_ = r.rw.Close()
		return nil, p.Err()
	}
	return c, nil
}

// AcceptChannel returns the next channel the other side opened with
// [Peer.OpenChannel], waiting for one. Channels opened at the same time may
// arrive in any order. Channels are queued until accepted,
// up to a bound beyond which the other side's channels are closed at once.
// It fails with the reason the peer ended, or the context's error.
func (p *Peer) AcceptChannel(ctx context.Context) (*Conn, error) {
	for {
		p.mu.Lock()
		if p.err != nil {
			err := p.err
			p.mu.Unlock()
			return nil, err
		}
		if len(p.channels.pending) > 0 {
			c := p.channels.pending[0]
			p.channels.pending[0] = nil
			p.channels.pending = p.channels.pending[1:]
			p.mu.Unlock()
			return c, nil
		}
		arrived := p.channels.arrived
		p.mu.Unlock()
		select {
		case <-arrived:
		case <-p.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// onDataChannel takes a channel the other side opened: once it is open and
// detached, it is queued for AcceptChannel.
func (p *Peer) onDataChannel(dc *webrtc.DataChannel) {
	switch label := dc.Label(); {
	case p.foreign.Load():
	case label == controlLabel && p.kind == sdpcodec.Answer:
		dc.OnOpen(func() { p.onControlOpen(dc) })
		return
	case label != channelLabel:
		// The channel a pigeon announces for other programs, when its
		// description reached us in their format: we run over channel 0.
		dc.OnOpen(func() { _ = dc.Close() })
		return
	}
	c := newConn(p, dc)
	dc.OnOpen(func() {
		rw, err := dc.Detach()
		if err != nil {
			_ = dc.Close()
			return
		}
		c.rw = rw
		if p.foreign.Load() && p.takeForeignChannel(c) {
			return
		}
		p.mu.Lock()
		ok := len(p.channels.pending) < maxPendingChannels && p.channels.add(c)
		if ok {
			p.channels.pending = append(p.channels.pending, c)
			close(p.channels.arrived)
			p.channels.arrived = make(chan struct{})
		}
		p.mu.Unlock()
		if !ok {
			_ = rw.Close()
		}
	})
}

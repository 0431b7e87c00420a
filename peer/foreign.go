package peer

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// The app's channel with a program that is not pigeon.
//
// Two pigeons run their app over channel 0, which both create with stream
// ID 0 and which opens without a handshake. Other programs (a browser page,
// pion's examples) open data channels in band instead (DCEP, RFC 8832):
// the offering page calls createDataChannel("chat") and the answering page
// waits in ondatachannel. So with such a program the app runs over the
// first of:
//
//   - a channel the other side announces, whatever its label;
//   - channel 0, once the other side speaks on it (a page written for
//     pigeon that creates it pre-negotiated, {negotiated: true, id: 0});
//   - the channel we announce, labelled after the app: an offer made for
//     other programs announces it at once ([Options.Announce]), and an
//     answer announces it when the offer announced none within
//     [answerAnnounceWait] of the connection opening. Ours is taken
//     [ownChannelGrace] after it opened, so that a page that speaks on
//     channel 0 right away is heard first.
//
// A pigeon that reads the other's description in another program's format
// still runs over channel 0: it closes the channel a pigeon announced for
// others (any label but pigeon's own).

// ownChannelGrace is how long our announced channel, once open, waits for
// the other side to speak on channel 0 before the app takes it: a page
// that speaks there does so as soon as the connection opens, as our
// channel's handshake completes.
const ownChannelGrace = 150 * time.Millisecond

// answerAnnounceWait is how long an answer to another program's offer
// waits for the channel the offering page announces before it announces
// one: a page announces its channels as soon as the connection opens, so
// they arrive within a round trip.
const answerAnnounceWait = time.Second

// DefaultAnnounce labels the channel an answer to another program's offer
// announces when that offer announced none: the app run with such
// programs.
const DefaultAnnounce = "chat"

// appChannel is the channel chosen for the app with another program: the
// first of the candidates above to be ready.
type appChannel struct {
	once  sync.Once
	ready chan struct{} // closed once conn is set
	conn  *Conn
}

func (a *appChannel) init() { a.ready = make(chan struct{}) }

// choose takes c for the app unless a channel was chosen already, and
// reports whether it did.
func (a *appChannel) choose(c *Conn) bool {
	chosen := false
	a.once.Do(func() {
		a.conn = c
		chosen = true
		close(a.ready)
	})
	return chosen
}

func (a *appChannel) chosen() bool {
	select {
	case <-a.ready:
		return true
	default:
		return false
	}
}

// announce creates the channel an offer announces to other programs. It
// opens once the connection does; then it is the app's, or closed when the
// other side turns out to be pigeon.
func (p *Peer) announce(label string) error {
	dc, err := p.pc.CreateDataChannel(label, nil)
	if err != nil {
		return err
	}
	p.announceChannel(dc)
	return nil
}

// announceChannel takes our announced channel once it opens.
func (p *Peer) announceChannel(dc *webrtc.DataChannel) {
	c := newConn(p, dc)
	c.plain = true
	dc.OnOpen(func() {
		if !p.foreign.Load() {
			_ = dc.Close() // a pigeon answered: it runs over channel 0
			return
		}
		rw, err := dc.Detach()
		if err != nil {
			_ = dc.Close()
			return
		}
		c.rw = rw
		time.AfterFunc(ownChannelGrace, func() {
			if !p.app.choose(c) {
				_ = c.Close()
			}
		})
	})
}

// watchForeign runs once channel 0 opened with another program: the app
// takes channel 0 when the other side speaks on it, and an answer
// announces a channel of its own when the other side announced none.
func (p *Peer) watchForeign() {
	go func() {
		buf := make([]byte, MaxMessage)
		n, text, err := p.main.rw.ReadDataChannel(buf)
		if err != nil {
			return
		}
		p.main.first = &message{data: append([]byte(nil), buf[:n]...), text: text}
		p.app.choose(p.main)
	}()
	if p.announced {
		return
	}
	time.AfterFunc(answerAnnounceWait, func() {
		if p.app.chosen() || p.Err() != nil {
			return
		}
		label := p.opts.Announce
		if label == "" {
			label = DefaultAnnounce
		}
		if err := p.announce(label); err != nil {
			p.end(err)
		}
	})
}

// takeForeignChannel offers a channel the other program opened to the
// app, and reports whether the app took it.
func (p *Peer) takeForeignChannel(c *Conn) bool {
	c.plain = true
	return p.app.choose(c)
}
